// The live line survives a restart of the server (a deploy, a crash): while the `tuitbot serve` process is gone the
// health bar says "Reconnecting…" instead of showing stale numbers as live; when a new process is up on the same
// address, the page reconnects by itself (backoff, no reload), takes a fresh snapshot, and events flow again.
import t from 'tap';
import { serve, serveTemp } from '../helpers/process.js';
import { apiCall, ensureBuilt, launchBrowser, openPage, signUp, visitDashboard } from '../helpers/web-app.js';

t.setTimeout(300_000);

t.test('the server process restarted: Reconnecting… then Live again, with events, without a reload', async (t) => {
  ensureBuilt();
  const first = await serveTemp(t);
  const browser = await launchBrowser(t);
  const { page } = await openPage(browser, first.base);
  await signUp(page, 'live@example.com', 'correct horse battery staple');
  await visitDashboard(page, '/dashboard', 'Overview');
  const health = page.getByRole('status', { name: 'Runtime health' });
  await health.getByText('Live', { exact: true }).waitFor();
  const loaded = await page.evaluate(() => performance.timeOrigin);

  t.equal((await first.stop('SIGTERM')).code, 0, 'the first process stopped cleanly');
  await health.getByText('Reconnecting…').waitFor();
  t.pass('the server is gone: the health bar says it is reconnecting');
  await page.waitForTimeout(1500); // a few failed attempts while it is down

  // The new process may wait for the port (up to a minute) while the kernel closes the old connections.
  const started = Date.now();
  const second = await serve({ DATA_DIR: first.dir, PORT: String(first.port) });
  t.teardown(() => second.stop());
  t.pass(`the new process listens on the same port after ${Date.now() - started} ms`);
  await health.getByText('Live', { exact: true }).waitFor({ timeout: 30_000 });
  t.pass(`back to Live ${Date.now() - started} ms after the new process started`);
  t.equal(await page.evaluate(() => performance.timeOrigin), loaded, 'without reloading the page');

  const changed = page.locator('code').filter({ hasText: /^settings\.changed$/ });
  const before = await changed.count();
  t.equal((await apiCall(page, 'PATCH', '/api/settings', { approval_mode: false })).status, 200, 'the session survived: a change on the new process');
  await changed.nth(before).waitFor();
  t.pass('its event arrives over the new socket');
});
