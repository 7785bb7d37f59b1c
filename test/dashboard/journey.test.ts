// The newcomer's journey through the onboarding wizard, in Chromium against a real sandbox server, through the pages
// only: sign up, confirm the address from the sandbox mailbox, land in the wizard, describe the product, pay a plan on
// the sandbox checkout page and connect X on the sandbox consent page (both come back into the wizard), keep the
// sandbox LLM, choose approval, start; watch the activity arrive live, approve a reply and see it posted. Then two-
// factor authentication on the account page, with a code computed from the secret the page shows.
//
// The runtime spreads its jobs' first runs over up to an hour; the dev hook dev.runtime-run-now
// (tenant-worker/runtime/runtime-handlers.ts, reached through POST /dev/tenants/:id/call/:method, TUITBOT_DEV_HOOKS
// only) makes them due at once. It is the only call the journey makes outside the pages.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { encode } from 'uqr';
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
  const uri = (await twoFactor.getByRole('link', { name: 'open it in the app' }).getAttribute('href'))!;
  const qr = twoFactor.getByRole('img', { name: /QR code of your two-factor key/ });
  t.ok(await qr.isVisible(), 'and as a QR code to scan');
  t.equal(await qr.getAttribute('viewBox'), `0 0 ${encode(uri, { ecc: 'M', border: 4 }).size} ${encode(uri, { ecc: 'M', border: 4 }).size}`, 'sized for that very key URI');
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

t.test('account page: a password change by its field, email change, sessions revoked elsewhere, export and import, deletion', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);
  await signUp(page, 'owner@example.com', PASSWORD);
  // Something of the user's own in the tenant, so an import has data to refuse to overwrite.
  t.equal((await page.request.patch('/api/settings', { data: { 'business.product_name': 'PriceKit' }, headers: { origin: base } })).status(), 200, 'a setting saved');

  // A second browser logged in as the same user.
  const other = await openPage(browser, base);
  await other.page.goto('/login');
  await other.page.getByLabel('Email address').fill('owner@example.com');
  await other.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await other.page.getByRole('button', { name: 'Log in', exact: true }).click();
  await other.page.waitForURL(/\/dashboard/);

  await page.goto('/dashboard/account');
  const sessions = page.getByRole('region', { name: 'Sessions' }).getByRole('row');
  await sessions.nth(2).waitFor();
  t.equal(await sessions.count(), 3, 'both sessions are listed (and the header row)');
  await page.getByRole('button', { name: /^Log out .* from / }).click();
  await sessions.nth(2).waitFor({ state: 'detached' });
  await other.page.reload();
  await other.page.waitForURL(/\/login\?next=/);
  t.pass('the other browser was logged out');

  const password = page.getByRole('region', { name: 'Change password' });
  await password.getByLabel('Current password').fill('not my password');
  await password.getByLabel('New password').fill('a new long passphrase');
  await password.getByRole('button', { name: 'Change password' }).click();
  await password.locator('#pw-password-error').getByText('is not correct').waitFor();
  t.equal(await password.getByLabel('Current password').getAttribute('aria-invalid'), 'true', 'a wrong current password is shown by its field');
  await password.getByLabel('Current password').fill(PASSWORD);
  await password.getByRole('button', { name: 'Change password' }).click();
  await password.getByText('Password changed.').waitFor();
  t.pass('the password is changed and this browser stays logged in');

  const email = page.getByRole('region', { name: 'Email address' });
  await email.getByLabel('New email address').fill('owner.new@example.com');
  await email.getByLabel('Current password').fill('a new long passphrase');
  await email.getByRole('button', { name: 'Send a confirmation link' }).click();
  await email.getByText('We sent a link to owner.new@example.com').waitFor();
  t.pass('the email change waits for the link');

  const data = page.getByRole('region', { name: 'Your data' });
  const [download] = await Promise.all([page.waitForEvent('download'), data.getByRole('link', { name: 'Download my data' }).click()]);
  const file = await download.path();
  const exported = JSON.parse(await readFile(file, 'utf8')) as { format: string; secrets: string; tables: Record<string, unknown> };
  t.match(exported, { format: 'tuitbot-export', secrets: 'excluded' }, 'the download is an export without secrets');
  await data.getByLabel('Export file (.json)').setInputFiles(file);
  await data.getByRole('button', { name: 'Import' }).click();
  await data.getByRole('alert').getByText(/already has data/).waitFor();
  await data.getByLabel(/Replace what this account holds now/).check();
  await data.getByRole('button', { name: 'Import' }).click();
  await data.getByRole('status').getByText(/^Imported \d+ rows from \d+ tables/).waitFor();
  t.pass('an import into an account with data needs "replace", then loads the file');
  await screenshot(page, 'account-data-imported');

  const remove = page.getByRole('region', { name: 'Delete account' });
  await remove.getByLabel('Current password').fill('a new long passphrase');
  await remove.getByRole('button', { name: 'Delete my account' }).click();
  await remove.locator('#delete-confirm-error').waitFor();
  t.equal(await remove.getByLabel(/Type/).getAttribute('aria-invalid'), 'true', 'the confirmation phrase is asked for');
  await remove.getByLabel(/Type/).fill('delete my account');
  await remove.getByRole('button', { name: 'Delete my account' }).click();
  await page.waitForURL(`${base}/`);
  t.equal((await page.request.get('/auth/me')).status(), 401, 'deleted and logged out');

  // The refusals on the way were asked for: the wrong password, and the import without "replace".
  t.same(problems, ['403 POST /auth/change-password', '409 POST /api/account/import'], 'no script error, CSP violation or other failed request');
});

t.test('self-hosted: the wizard has no plan step, and the LLM step waits for a key', async (t) => {
  const { base } = await startWebServer(t, { TUITBOT_MODE: 'self-host' });
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);
  await signUp(page, 'owner@example.com', PASSWORD);
  await page.waitForURL(/\/dashboard\/onboarding(\?|$)/);
  const steps = page.getByRole('navigation', { name: 'Setup steps' }).getByRole('button');
  await steps.first().waitFor();
  t.same(
    (await steps.allTextContents()).map((text) => text.replace(/^\S+\s*/, '').replace(/ \((done|to do)\)$/, '')),
    ['Describe your product', 'Connect X', 'Choose the writer (LLM)', 'Approval mode', 'Start'],
    'no plan is needed on a self-hosted server',
  );
  await page.getByRole('button', { name: /Choose the writer \(LLM\) \(to do\)/ }).click();
  await page.getByText('TuitBot needs an LLM to write replies and posts.').waitFor();
  await page.getByRole('button', { name: 'I saved a key: continue' }).click();
  await page.getByRole('alert').getByText('This step is not done yet.').waitFor();
  t.equal(await page.locator('#step-title').textContent(), 'Choose the writer (LLM)', 'without a key the wizard stays on the step');
  await page.getByRole('button', { name: /Connect X/ }).click();
  await page.getByText('This server has no X app yet.').waitFor();
  await screenshot(page, 'onboarding-self-host-x');
  t.same(problems, [], 'no script error, CSP violation or failed request');
});
