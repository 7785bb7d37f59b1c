// The login page's second step in Chromium: after a password (the form's own step) and after a GitHub login (the
// callback puts the challenge in the URL fragment, `/login?two_factor=1#challenge=…`, which the page picks up).
// 2FA is switched on through the API here: its own page is the account page's business.
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import t from 'tap';
import { totpCode, totpStep } from '../../supervisor/auth/totp.js';
import { launchBrowser, openPage, screenshot, signUp, startWebServer } from '../helpers/web-app.js';

t.setTimeout(240_000);
const PASSWORD = 'correct horse battery staple';

t.test('a user with 2FA logs in with a code, from the password form and from the #challenge= fragment', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);
  await signUp(page, 'second@example.com', PASSWORD);
  // Off the dashboard before the API calls below end its session: its own first requests would be answered 401.
  await page.goto('about:blank');
  const headers = { origin: base };
  const setup = await page.request.post('/auth/2fa/setup', { data: { password: PASSWORD }, headers });
  t.equal(setup.status(), 200);
  const seed = decodeBase32IgnorePadding(((await setup.json()) as { secret: string }).secret);
  const enabled = await page.request.post('/auth/2fa/enable', { data: { code: totpCode(seed, totpStep()), password: PASSWORD }, headers });
  t.equal(enabled.status(), 200, '2FA is on');
  const { recoveryCodes } = (await enabled.json()) as { recoveryCodes: string[] };
  await page.request.post('/auth/logout', { headers });

  await page.goto('/login');
  await page.getByLabel('Email address').fill('second@example.com');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
  await page.getByLabel('Authentication code').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.locator('#code-error').getByText('is not correct').waitFor();
  t.equal(await page.getByLabel('Authentication code').getAttribute('aria-invalid'), 'true', 'a wrong code is shown by the field');
  await screenshot(page, 'login-2fa-wrong-code');
  // The step used to switch 2FA on may not be used again, and no future step is accepted: wait for the next one.
  const used = totpStep();
  while (totpStep() === used) await new Promise((resolve) => setTimeout(resolve, 500));
  await page.getByLabel('Authentication code').fill(totpCode(seed, totpStep()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.waitForURL('**/dashboard**');
  await page.getByRole('navigation', { name: 'Dashboard' }).waitFor();
  t.pass('the code logs in');
  // Let the landing page's own requests finish: logging out under them would answer them 401.
  await page.waitForLoadState('networkidle');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');

  // What /auth/github/callback does for a 2FA user: a challenge in the fragment, never sent to a server.
  const first = await page.request.post('/auth/login', { data: { email: 'second@example.com', password: PASSWORD }, headers });
  const { challenge } = (await first.json()) as { challenge: string };
  await page.goto(`/login?two_factor=1#challenge=${challenge}`);
  await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
  t.equal(new URL(page.url()).hash, '', 'the challenge is taken out of the address bar');
  // Every fresh TOTP step is used up above: a recovery code, which the same field takes.
  await page.getByLabel('Authentication code').fill(recoveryCodes[0]!);
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('navigation', { name: 'Dashboard' }).waitFor();
  t.pass('the fragment step logs in');
  t.same(
    problems.filter((problem) => !/^401 POST \/auth\/login\/2fa$/.test(problem)),
    [],
    'no script error or failed request but the refused code',
  );
});
