// The billing page tells a paying user what is wrong before it matters: a cancellation made in the (sandbox)
// Stripe portal comes back as "ends on …" and goes away on resume; a failed renewal shows the grace period and the
// way to pay; after the grace period, and after an ending, the page says the account is read-only. The portal
// changes go through the real flow (portal page → Stripe webhook → supervisor); the failed renewal, which needs a
// month to pass, is set in the management database as the webhook would leave it (its transitions are tested in
// test/supervisor/billing/lifecycle.test.ts).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import t from 'tap';
import { axeViolations } from '../helpers/a11y.js';
import { launchBrowser, openPage, screenshot, signUp, startWebServer, visitDashboard } from '../helpers/web-app.js';

t.setTimeout(300_000);
const DAY = 86_400_000;

/** The billing page, reloaded until the server's state (changed by a webhook) shows `text`. */
async function billingShows(page: Page, text: RegExp): Promise<void> {
  const notice = page.locator('main .notice').filter({ hasText: text });
  for (let attempt = 0; attempt < 20; attempt++) {
    await visitDashboard(page, '/dashboard/billing', 'Billing');
    if (await notice.isVisible()) return;
    await page.waitForTimeout(500);
  }
  await notice.waitFor({ timeout: 1000 });
}

t.test('cancellation, resumption, a failed payment, the locked and the ended account, as the billing page says them', async (t) => {
  const { base, dataDir } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);
  await signUp(page, 'billing@example.com', 'correct horse battery staple');
  await visitDashboard(page, '/dashboard/billing', 'Billing');
  await page.getByRole('button', { name: 'Choose Growth' }).click();
  await page.getByRole('button', { name: /Pay with test card/ }).click();
  await page.waitForURL(/\/dashboard\/billing/);
  const manage = page.getByRole('link', { name: 'Manage payment, invoices and plan' });
  await manage.waitFor({ timeout: 30_000 });
  const warnings = page.locator('main .notice-warning, main .notice-danger').filter({ hasNotText: 'Confirm your email address' });
  t.equal(await warnings.count(), 0, 'a paid plan: no billing warning');

  // ── cancel at period end in the portal, back to the app ──
  await manage.click();
  await page.getByRole('button', { name: 'Cancel at period end' }).click();
  await page.getByText(/cancels on/).waitFor();
  await page.getByRole('link', { name: '← Return to the app' }).first().click();
  await billingShows(page, /^Your plan is cancelled and ends on /);
  const db = new Database(join(dataDir, 'management.db'));
  t.teardown(() => db.close());
  const row = () => db.prepare('SELECT stripe_status, period_end, cancel_at_period_end, grace_until FROM subscriptions').get() as { stripe_status: string; period_end: number; cancel_at_period_end: number; grace_until: number | null };
  t.equal(row().cancel_at_period_end, 1, 'the webhook recorded the cancellation');
  const endsOn = await page.locator('main .notice').filter({ hasText: /ends on/ }).textContent();
  t.match(endsOn, new RegExp(String(new Date(row().period_end).getUTCFullYear())), `the end of the paid period is named: "${endsOn}"`);
  t.ok(await manage.isVisible(), 'the plan is still running until then');
  t.same(await axeViolations(page), [], 'the notice passes the accessibility rules');
  await screenshot(page, 'billing-cancelled');

  await manage.click();
  await page.getByRole('button', { name: 'Resume subscription' }).click();
  await page.getByRole('button', { name: 'Cancel at period end' }).waitFor();
  await page.getByRole('link', { name: '← Return to the app' }).first().click();
  for (let attempt = 0; attempt < 20 && row().cancel_at_period_end === 1; attempt++) await page.waitForTimeout(250);
  await visitDashboard(page, '/dashboard/billing', 'Billing');
  t.equal(await page.locator('main .notice').filter({ hasText: /ends on/ }).count(), 0, 'resumed in the portal: the notice is gone');

  // ── a failed renewal: grace, then locked ──
  const graceUntil = Date.now() + 5 * DAY;
  db.prepare("UPDATE subscriptions SET stripe_status = 'past_due', grace_until = ?").run(graceUntil);
  await billingShows(page, /^Your last payment failed\./);
  const failed = page.getByRole('alert').filter({ hasText: /^Your last payment failed\./ });
  t.match(await failed.textContent(), /Automation keeps running until .+; update your payment method/, 'it says automation runs on, until when, and what to do');
  t.match(await failed.getByRole('link', { name: 'update your payment method' }).getAttribute('href'), /\/api\/billing\/portal/, 'linked to the portal');
  t.ok(await manage.isVisible(), 'the plan is still shown during the grace period');
  t.same(await axeViolations(page), [], 'the alert passes the accessibility rules');
  await screenshot(page, 'billing-past-due');

  db.prepare('UPDATE subscriptions SET grace_until = ?').run(Date.now() - 1000);
  await billingShows(page, /^The grace period is over/);
  t.match(await page.getByRole('alert').textContent(), /automation is stopped and your account is read-only/, 'locked: stopped and read-only, said plainly');
  t.ok(await page.getByRole('alert').getByRole('link', { name: 'Pay in the billing portal' }).isVisible(), 'with the way out');
  await screenshot(page, 'billing-locked');

  // ── cancelled now in the portal: the subscription ends ──
  db.prepare("UPDATE subscriptions SET stripe_status = 'active', grace_until = NULL").run();
  await visitDashboard(page, '/dashboard/billing', 'Billing');
  await manage.click();
  await page.getByRole('button', { name: 'Cancel now' }).click();
  await page.getByText(/ended/).first().waitFor();
  await page.getByRole('link', { name: '← Return to the app' }).first().click();
  await billingShows(page, /^Your subscription has ended: your data is read-only/);
  t.match(await page.getByRole('alert').textContent(), /will be deleted after .+\. Choose a plan to continue\./, 'ended: read-only, when the data goes, and what to do');
  t.ok(await page.getByRole('button', { name: 'Choose Growth' }).isVisible(), 'the plans are offered again');
  await screenshot(page, 'billing-ended');
  t.same(problems, [], 'no script errors or failed requests');
});
