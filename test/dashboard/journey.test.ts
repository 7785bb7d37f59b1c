// The newcomer's journey through the onboarding wizard, in Chromium against a real sandbox server, through the pages
// only: sign up, confirm the address from the sandbox mailbox, land in the wizard, describe the product, pay a plan on
// the sandbox checkout page and connect X on the sandbox consent page (both come back into the wizard), keep the
// sandbox LLM, choose approval, start; watch the activity arrive live, approve a reply and see it posted. Then two-
// factor authentication on the account page, with a code computed from the secret the page shows.
//
// The runtime spreads its jobs' first runs over up to an hour; the dev hook dev.runtime-run-now
// (tenant-worker/runtime/runtime-handlers.ts, reached through POST /dev/tenants/:id/call/:method, TUITBOT_DEV_HOOKS
// only) makes them due at once. It is the only call this test makes outside the pages.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import t from 'tap';
import { totpCode, totpStep } from '../../supervisor/auth/totp.js';
import { daytimeZone, PROFILE } from '../helpers/sandbox-user.js';
import { launchBrowser, openPage, screenshot, signUp, startWebServer } from '../helpers/web-app.js';

t.setTimeout(400_000);
const PASSWORD = 'correct horse battery staple';

t.test('sign up → confirm → wizard: profile, plan, X, LLM, approval, start → live activity → approve → posted; 2FA on the account page', async (t) => {
  const { base } = await startWebServer(t, { TUITBOT_DEV_HOOKS: '1' });
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);

  await signUp(page, 'wizard@example.com', PASSWORD);
  await page.waitForURL(/\/dashboard\/onboarding(\?|$)/);
  await page.getByRole('heading', { name: 'Set up TuitBot' }).waitFor();
  t.pass('a newcomer lands in the wizard from the overview');

  await page.goto('/dev/mail');
  await page.locator('a[href*="/verify-email?token="]').first().click();
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await page.getByText('Your address is confirmed.').waitFor();
  await page.getByRole('link', { name: 'Go to the dashboard' }).click();
  await page.getByRole('heading', { name: 'Overview' }).waitFor();
  t.equal(new URL(page.url()).pathname, '/dashboard', 'the wizard is opened once; the overview stays the overview');
  await page.getByRole('link', { name: 'Open the setup wizard' }).click();

  // 1. The business profile: the step the checklist says is next.
  const steps = page.getByRole('navigation', { name: 'Setup steps' });
  const title = page.locator('#step-title');
  await title.getByText('Describe your product').waitFor();
  t.equal(await steps.getByRole('button', { name: /Describe your product/ }).getAttribute('aria-current'), 'step', 'the list marks the current step');
  await page.getByRole('button', { name: 'Save and continue' }).click();
  await page.getByRole('alert').filter({ hasText: 'Still needed: product name (is required)' }).waitFor();
  t.equal(await title.textContent(), 'Describe your product', 'an empty profile does not move on, and says what is missing');
  await page.getByLabel('Product name').fill(PROFILE['business.product_name']);
  await page.getByLabel('What it does').fill(PROFILE['business.product_description']);
  await page.getByLabel('Who it is for').fill(PROFILE['business.target_audience']);
  await page.getByLabel('Keywords about your product').fill(PROFILE['business.product_keywords'].join('\n'));
  await page.getByLabel('Topics you post about').fill(PROFILE['business.industry_topics'].join('\n'));
  await page.getByLabel('Your time zone').fill(daytimeZone());
  await screenshot(page, 'onboarding-profile');
  await page.getByRole('button', { name: 'Save and continue' }).click();
  await title.getByText('Connect X').waitFor();
  await steps.getByRole('button', { name: /Describe your product \(done\)/ }).waitFor();
  t.pass('the profile is saved and the wizard moves on to X');

  // 2. The plan first (any step can be opened from the list), paid on the sandbox checkout page.
  await steps.getByRole('button', { name: /Choose a plan/ }).click();
  await page.getByRole('button', { name: 'Choose Growth' }).click();
  const pay = page.getByRole('button', { name: /Pay with test card/ });
  await pay.waitFor();
  await screenshot(page, 'onboarding-sandbox-checkout');
  await pay.click();
  await page.waitForURL(/\/dashboard\/onboarding(\?|$)/);
  await page.getByText('Thank you! Your payment went through.').waitFor();
  await title.getByText('Connect X').waitFor();
  t.pass('back from the checkout into the wizard, at the step still open before the plan');
  await steps.getByRole('button', { name: /Choose a plan \(done\)/ }).waitFor({ timeout: 30_000 });
  t.pass('the plan is active once the sandbox Stripe confirms it');

  // 3. X, on the sandbox consent page.
  await screenshot(page, 'onboarding-x');
  await page.getByRole('link', { name: 'Connect X' }).click();
  await page.getByLabel(/Sign in as/).fill('wizard_user');
  await page.getByRole('button', { name: 'Authorize app' }).click();
  await page.waitForURL(/\/dashboard\/onboarding(\?|$)/);
  await page.getByText('Connected as @wizard_user.').waitFor();
  await title.getByText('Choose the writer (LLM)').waitFor();
  t.pass('back from X into the wizard, at the next step');

  // 4. The sandbox's LLM, tested from the step.
  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.getByRole('status').filter({ hasText: /It answered/ }).waitFor();
  await screenshot(page, 'onboarding-llm');
  await page.getByRole('button', { name: 'Use the sandbox LLM' }).click();

  // 5. Approval mode: ask first, so the reply waits for us.
  await title.getByText('Approval mode').waitFor();
  t.ok(await page.getByRole('radio', { name: /Ask me first/ }).isChecked(), 'approval is the default');
  await screenshot(page, 'onboarding-approval');
  await page.getByRole('button', { name: 'Save and continue' }).click();
  await title.getByText('Choose a plan').waitFor();
  await page.getByText('Your plan is Growth').waitFor();
  await page.getByRole('button', { name: 'Continue' }).click();

  // 6. Start.
  await title.getByText('Start').waitFor();
  await page.locator('main#main').getByRole('button', { name: 'Start automation' }).click();
  await page.getByText('TuitBot is running.').waitFor();
  t.equal((await page.request.get('/api/onboarding').then((r) => r.json())).complete, true, 'the checklist is complete');
  await screenshot(page, 'onboarding-started');

  // The activity feed fills live: open it, then make the runs due.
  await page.getByRole('link', { name: 'See the activity' }).click();
  await page.getByRole('heading', { name: 'Activity' }).waitFor();
  const feed = page.locator('ul.feed > li');
  const before = await feed.count();
  const me = (await (await page.request.get('/auth/me')).json()) as { user: { tenantId: string } };
  const runNow = await page.request.post(`/dev/tenants/${me.user.tenantId}/call/dev.runtime-run-now`, { data: {} });
  t.equal(runNow.status(), 200, 'the first runs are made due now (dev hook)');
  await page.waitForFunction((n) => document.querySelectorAll('ul.feed > li').length > n, before, { timeout: 60_000 });
  t.pass('activity arrived without a reload');
  await screenshot(page, 'journey-wizard-activity');

  // Approve a reply from the queue, then see it posted.
  await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: /Approvals/ }).click();
  const queue = page.getByRole('list', { name: 'Approval items' });
  const reply = queue.getByRole('listitem').filter({ hasText: 'Replying to @' }).first();
  await reply.waitFor({ timeout: 90_000 });
  const replyText = (await reply.locator('.content').textContent())!;
  await reply.getByRole('button', { name: 'Approve' }).click();
  await queue.getByText(replyText).waitFor({ state: 'detached' });
  const posted = page.getByRole('button', { name: 'Posted', exact: true });
  await posted.click();
  await queue.getByText(replyText).waitFor({ timeout: 90_000 }).catch(async () => {
    await posted.click();
    await queue.getByText(replyText).waitFor({ timeout: 30_000 });
  });
  t.pass('the approved reply is posted to the sandbox X');

  // Two-factor authentication on the account page.
  await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Account', exact: true }).click();
  await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
  await page.getByRole('table').getByText('This browser').waitFor();
  await screenshot(page, 'account');
  const twoFactor = page.getByRole('region', { name: /Two-factor authentication/ });
  await twoFactor.getByLabel('Current password').fill('not my password');
  await twoFactor.getByRole('button', { name: 'Set up two-factor authentication' }).click();
  await twoFactor.locator('#twofa-password-error').getByText('is not correct').waitFor();
  t.equal(await twoFactor.getByLabel('Current password').getAttribute('aria-invalid'), 'true', 'a wrong password is shown by its field');
  await twoFactor.getByLabel('Current password').fill(PASSWORD);
  await twoFactor.getByRole('button', { name: 'Set up two-factor authentication' }).click();
  const secret = (await twoFactor.locator('#twofa-secret').textContent())!.replace(/\s+/g, '');
  t.match(secret, /^[A-Z2-7]{32}$/, 'the secret is shown to type into an app');
  t.match(await twoFactor.getByRole('link', { name: 'open it in the app' }).getAttribute('href'), /^otpauth:\/\/totp\/TuitBot:/, 'and as a link an authenticator app opens');
  await screenshot(page, 'account-2fa-setup');
  await twoFactor.getByLabel('The 6-digit code the app shows').fill(totpCode(decodeBase32IgnorePadding(secret), totpStep()));
  await twoFactor.getByRole('button', { name: 'Turn on' }).click();
  const codes = twoFactor.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await codes.first().waitFor();
  t.ok((await codes.count()) >= 8, 'the recovery codes are shown');
  await twoFactor.getByText('On', { exact: true }).waitFor();
  const after = (await (await page.request.get('/auth/me')).json()) as { user: { twoFactorEnabled: boolean } };
  t.equal(after.user.twoFactorEnabled, true, 'the server says 2FA is on, and this browser is still logged in');
  await screenshot(page, 'account-2fa-on');
  await twoFactor.getByRole('button', { name: 'I saved them' }).click();
  t.equal(await codes.count(), 0, 'the codes are shown once');

  // The account page, light and narrow.
  await page.evaluate(() => localStorage.setItem('tuitbot-theme', 'light'));
  await page.setViewportSize({ width: 390, height: 844 });
  await page.reload();
  await page.getByRole('heading', { name: 'Account', exact: true }).waitFor();
  await screenshot(page, 'account-light-narrow');
  await page.goto('/dashboard/onboarding');
  await page.getByText('TuitBot is running.').waitFor();
  await screenshot(page, 'onboarding-light-narrow');
  // The one refusal on the way is the wrong password typed on purpose.
  t.same(problems, ['403 POST /auth/2fa/setup'], 'no script error, CSP violation or other failed request on the way');
});
