// A newcomer in Chromium against a real sandbox server: sign up, confirm the address from the sandbox mailbox,
// the dashboard's guard, logout and login, and the dashboard pages that exist (screenshotted).
import type { Page } from 'playwright-core';
import t from 'tap';
import { launchBrowser, openPage, screenshot, signUp, startWebServer } from '../helpers/web-app.js';

t.setTimeout(300_000);
const PASSWORD = 'correct horse battery staple';

/** The overview, past the setup wizard that a newcomer may be sent to (once) from it. */
async function toOverview(page: Page): Promise<void> {
  const overview = page.getByRole('heading', { name: 'Overview' });
  for (let attempt = 0; attempt < 3; attempt++) {
    await page.goto('/dashboard');
    await page.getByRole('navigation', { name: 'Dashboard' }).waitFor();
    await page.waitForLoadState('networkidle');
    if (await overview.isVisible()) return;
  }
  await overview.waitFor();
}

t.test('sign up → confirm from /dev/mail → dashboard; the guard sends a logged-out visitor to log in and back', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);

  await signUp(page, 'newcomer@example.com', PASSWORD);
  await toOverview(page);
  await page.getByText('Confirm your email address: we sent you a link.').waitFor();
  await page.getByRole('status', { name: 'Runtime health' }).getByText(/Last tick/).waitFor();
  t.match(await page.getByRole('status', { name: 'Runtime health' }).textContent(), /Stopped\s*· Needs product name, product keywords, industry topics in settings before it can start\.\s*Open settings|Paused\s*· No active plan/, 'the health bar says what automation is doing');
  await page.getByText('Live', { exact: true }).waitFor();
  t.pass('the live socket is connected');
  await screenshot(page, 'dashboard-overview-new');

  // The sandbox mailbox is a plain server page: its link opens the app's confirmation page.
  await page.goto('/dev/mail');
  await page.locator('a[href*="/verify-email?token="]').first().click();
  await page.waitForURL('**/verify-email?token=*');
  await screenshot(page, 'verify-email-from-mail');
  await page.getByRole('button', { name: 'Confirm my email address' }).click();
  await page.getByText('Your address is confirmed.').waitFor();
  await page.getByRole('link', { name: 'Go to the dashboard' }).click();
  await toOverview(page);
  t.equal(await page.getByText('Confirm your email address: we sent you a link.').count(), 0, 'the reminder is gone');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL('**/login');
  await page.goto('/dashboard/settings');
  await page.waitForURL(/\/login\?next=%2Fdashboard%2Fsettings$/);
  t.pass('a logged-out visit to the dashboard lands on the login page');

  await page.getByLabel('Email address').fill('newcomer@example.com');
  await page.getByLabel('Password', { exact: true }).fill('not the password');
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByRole('alert').filter({ hasText: 'The email or password is not correct.' }).waitFor();
  await screenshot(page, 'login-wrong-password');
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.waitForURL('**/dashboard/settings');
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  t.pass('after logging in the visitor is where they wanted to go');
  t.same(problems, [], 'no script error or CSP violation on the way');
});

t.test('signing up with a taken address shows the problem next to the field', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page } = await openPage(browser, base);
  await signUp(page, 'taken@example.com', PASSWORD);
  const other = await openPage(browser, base);
  await other.page.goto('/signup');
  await other.page.getByLabel('Email address').fill('taken@example.com');
  await other.page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await other.page.getByRole('button', { name: 'Create account' }).click();
  const field = other.page.getByLabel('Email address');
  await other.page.locator('#email-error').getByText('is already registered').waitFor();
  t.equal(await field.getAttribute('aria-invalid'), 'true');
  t.equal(await field.getAttribute('aria-describedby'), 'email-error', 'the message is tied to its input');
  await screenshot(other.page, 'signup-email-taken');
});

t.test('settings: a bad value is shown by its field, a good one saves; every dashboard page renders', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);
  await signUp(page, 'settings@example.com', PASSWORD);
  t.teardown(() => (t.passing() ? undefined : screenshot(page, 'settings-failed', false)));
  await toOverview(page);
  await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Settings' }).click();
  const threshold = page.locator('#setting-scoring\\.threshold');
  await threshold.waitFor();
  await threshold.fill('150');
  await page.getByRole('button', { name: 'Save changes' }).click();
  const error = page.locator('#setting-scoring\\.threshold-error');
  await error.waitFor();
  t.match(await error.textContent(), /at most 100/, "the server's message is next to the field");
  t.equal(await threshold.getAttribute('aria-invalid'), 'true');
  t.match(await threshold.getAttribute('aria-describedby'), /setting-scoring\.threshold-error/);
  t.ok(await threshold.evaluate((el) => el === document.activeElement), 'focus goes to the first field with a problem');
  await screenshot(page, 'dashboard-settings-error', false);

  await threshold.fill('70');
  await page.locator('#setting-business\\.product_name').fill('Acme Widgets');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Settings saved.').waitFor();
  await page.reload();
  await page.locator('#setting-scoring\\.threshold').waitFor();
  t.equal(await page.locator('#setting-scoring\\.threshold').inputValue(), '70', 'the saved value is what the server has');
  t.equal(await page.locator('#setting-business\\.product_name').inputValue(), 'Acme Widgets');
  await screenshot(page, 'dashboard-settings');

  await page.getByRole('button', { name: 'Test connection' }).click();
  await page.locator('#llm').getByRole('status').waitFor();
  await screenshot(page, 'dashboard-settings-llm-test');

  for (const [name, heading] of [
    ['activity', 'Activity'],
    ['x', 'X account'],
    ['billing', 'Billing'],
  ] as const) {
    await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: heading }).click();
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    await page.waitForLoadState('networkidle');
    await screenshot(page, `dashboard-${name}`);
  }
  t.same(problems, ['422 PATCH /api/settings'], 'no script error, CSP violation or failed request but the refused save');
});
