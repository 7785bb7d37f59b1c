/**
 * The dashboard in Chromium on a tenant the runtime itself filled (seeded-tenant.ts): a real sandbox supervisor,
 * a user signed up through the page, the seeded file installed as their tenant while it hibernates, a Growth plan
 * paid on the sandbox checkout and X connected as the seeded account on the sandbox consent page.
 */
import type { Test } from 'tap';
import { USERNAME } from './runtime.js';
import { installTenantDb, type SeededTenant } from './seeded-tenant.js';
import { launchBrowser, openPage, signUp, startWebServer, visitDashboard } from './web-app.js';

export async function openSeededDashboard(t: Test, h: SeededTenant, email: string, password: string) {
  // A short idle time: the seeded file replaces the tenant's while it hibernates.
  const { base, supervisor } = await startWebServer(t, { TENANT_IDLE_MS: '2000' });
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);
  await signUp(page, email, password);
  const me = (await (await page.request.get('/auth/me')).json()) as { user: { tenantId: string } };
  await page.goto('about:blank'); // closes the live socket, so the tenant can hibernate
  await installTenantDb(supervisor.host, supervisor.registry, me.user.tenantId, h);

  await visitDashboard(page, '/dashboard/billing', 'Billing');
  await page.getByRole('button', { name: 'Choose Growth' }).click();
  await page.getByRole('button', { name: /Pay with test card/ }).click();
  await page.waitForURL(/\/dashboard\/billing/);
  await page.getByRole('link', { name: 'Manage payment, invoices and plan' }).waitFor({ timeout: 30_000 });
  await visitDashboard(page, '/dashboard/x', 'X account');
  await page.getByRole('link', { name: 'Connect X' }).click();
  await page.getByLabel(/Sign in as/).fill(USERNAME);
  await page.getByRole('button', { name: 'Authorize app' }).click();
  await page.getByText(`Connected as @${USERNAME}.`).waitFor();
  return { base, supervisor, browser, page, problems };
}
