// The desktop build against a real server on another origin, in Chromium: the static SPA (TUITBOT_TARGET=desktop,
// VITE_API_BASE = the server) served by a plain file server on another port of 127.0.0.1, the server started with
// TRUSTED_ORIGINS naming it. Sign up, see the dashboard with the live socket connected, save a setting (a
// state-changing request with the cookie, after a preflight), attach an image in the compose modal, connect X on the
// sandbox's consent page and pay for a plan on its checkout page (both come back to the desktop app, not to the
// server's pages), log out. The same build served from an origin the server does not trust gets nothing: no CORS
// header, 403 cross_origin, no WebSocket.
//
// The server is started first (port 0) and the app built for its address afterwards (about 10 s), so no port has
// to be guessed in advance.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { launchBrowser, openPage, screenshot, signUp, startWebServer } from '../helpers/web-app.js';

t.setTimeout(300_000);
const DASHBOARD = new URL('../../dashboard/', import.meta.url).pathname;
const PASSWORD = 'correct horse battery staple';
const ONE_PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

/** What a desktop shell does: the build's files, index.html for every other path (the SPA fallback). */
async function serveStatic(t: { teardown(fn: () => unknown): void }, dir: string): Promise<string> {
  const server: Server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    let file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory()) file = join(dir, 'index.html');
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

t.test('the desktop build on another port: sign up, live, save a setting, connect X, pay, log out; an untrusted origin gets nothing', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'tuitbot-desktop-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const app = await serveStatic(t, out);
  const untrusted = await serveStatic(t, out);
  const { base } = await startWebServer(t, { TRUSTED_ORIGINS: app });

  const started = Date.now();
  await promisify(execFile)('npx', ['vite', 'build'], {
    cwd: DASHBOARD,
    env: { ...process.env, TUITBOT_TARGET: 'desktop', TUITBOT_DESKTOP_OUT: out, VITE_API_BASE: base },
    maxBuffer: 64 * 1024 * 1024,
  });
  t.ok(existsSync(join(out, 'index.html')), `the desktop build is made for ${base} (${Math.round((Date.now() - started) / 1000)} s)`);

  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, app);
  t.teardown(() => (t.passing() ? undefined : screenshot(page, 'desktop-failed', false)));
  const toServer: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(base)) toServer.push(`${request.method()} ${new URL(request.url()).pathname}`);
  });

  await signUp(page, 'desktop@example.com', PASSWORD);
  t.equal(new URL(page.url()).origin, app, 'signed up on the desktop app, which stays on its own origin');
  t.ok(toServer.includes('POST /auth/signup'), 'the signup went to the server');
  const cookie = (await page.context().cookies(base)).find((c) => c.name === 'tuitbot_session');
  t.ok(cookie, "the server's session cookie is kept (same site, SameSite=Lax)");

  await page.getByRole('navigation', { name: 'Dashboard' }).waitFor();
  await page.getByRole('status', { name: 'Runtime health' }).getByText(/Last tick/).waitFor();
  await page.getByText('Live', { exact: true }).waitFor();
  t.pass('the dashboard loads its data and the live WebSocket is connected');
  await screenshot(page, 'desktop-dashboard');

  await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Settings' }).click();
  const name = page.locator('#setting-business\\.product_name');
  await name.waitFor();
  await name.fill('Desk Widgets');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByText('Settings saved.').waitFor();
  const saved = (await (await page.request.get(`${base}/api/settings`)).json()) as { values?: Record<string, unknown> } & Record<string, unknown>;
  t.match(JSON.stringify(saved), /"Desk Widgets"/, 'the server has the new value');
  t.ok(toServer.includes('PATCH /api/settings'), 'the save was a PATCH to the server');
  await screenshot(page, 'desktop-settings');

  // An upload (a preflighted POST with the cookie) and its preview, a credentialed CORS image load.
  await page.getByRole('navigation', { name: 'Dashboard' }).getByRole('link', { name: 'Content' }).click();
  await page.getByRole('button', { name: 'Compose', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Compose' });
  await dialog.getByLabel('Add media').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: Buffer.from(ONE_PIXEL_PNG, 'base64') });
  await page.waitForFunction(() => (document.querySelector('dialog .media img') as HTMLImageElement | null)?.naturalWidth === 1);
  t.ok(toServer.includes('POST /api/media'), 'attached media are uploaded to the server and shown back from it');
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Flows the server finishes after another site: they start with return_to=<the app> and end on the app.
  await page.goto('/dashboard/x');
  await page.getByRole('link', { name: 'Connect X' }).click();
  await page.getByRole('button', { name: 'Authorize app' }).waitFor();
  t.notOk([base, app].includes(new URL(page.url()).origin), "on the sandbox X's consent page");
  await page.getByLabel(/Sign in as/).fill('desk_maker');
  await page.getByRole('button', { name: 'Authorize app' }).click();
  await page.waitForURL((url) => url.origin === app && url.pathname === '/dashboard/x');
  await page.getByText('Connected as @desk_maker.').waitFor();
  await page.getByText(/^Connected as @desk_maker \(/).waitFor();
  t.pass("X connected, back on the desktop app's X page, which shows the account");
  t.ok(toServer.some((r) => r.startsWith('GET /api/x/callback')), 'X called the server back, which sent the browser on to the app');
  await screenshot(page, 'desktop-x-connected');

  await page.goto('/dashboard/billing');
  await page.getByRole('button', { name: 'Choose Growth' }).click();
  await page.getByRole('button', { name: /Pay with test card/ }).click();
  await page.waitForURL((url) => url.origin === app && url.pathname === '/dashboard/billing');
  await page.getByText(/Thank you! Your payment went through/).waitFor();
  t.pass("paid on the sandbox checkout, back on the desktop app's billing page");
  let billing = (await (await page.request.get(`${base}/api/billing/status`)).json()) as { state: string; plan: { id: string } | null };
  for (const end = Date.now() + 15_000; billing.state !== 'active' && Date.now() < end; await new Promise((resolve) => setTimeout(resolve, 200))) {
    billing = (await (await page.request.get(`${base}/api/billing/status`)).json()) as typeof billing;
  }
  t.match(billing, { state: 'active', plan: { id: 'growth' } }, 'the plan is active on the server');

  // The same cookie from an origin the server does not trust: refused, and nothing a browser would let it read.
  const forged = await fetch(`${base}/api/settings`, {
    method: 'PATCH',
    headers: { origin: untrusted, 'sec-fetch-site': 'same-site', cookie: `tuitbot_session=${cookie!.value}`, 'content-type': 'application/json' },
    body: JSON.stringify({ 'business.product_name': 'Forged' }),
  });
  t.equal(forged.status, 403);
  t.match(await forged.json(), { error: { code: 'cross_origin' } });
  t.equal(forged.headers.get('access-control-allow-origin'), null, 'no CORS header for an untrusted origin');
  const preflight = await fetch(`${base}/api/settings`, { method: 'OPTIONS', headers: { origin: untrusted, 'access-control-request-method': 'PATCH' } });
  t.equal(preflight.status, 403, 'its preflight is refused');
  t.equal(preflight.headers.get('access-control-allow-origin'), null);

  // The build itself, opened from the untrusted origin in the same browser (so with the cookie).
  const stranger = await page.context().newPage();
  await stranger.goto(`${untrusted}/favicon.svg`);
  const attempts = await stranger.evaluate(async (server) => {
    const read = await fetch(`${server}/auth/me`, { credentials: 'include' }).then(
      (r) => `read ${r.status}`,
      () => 'blocked',
    );
    const write = await fetch(`${server}/api/settings`, { method: 'PATCH', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{"business.product_name":"Forged"}' }).then(
      (r) => `wrote ${r.status}`,
      () => 'blocked',
    );
    const socket = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${server.replace('http', 'ws')}/api/ws`);
      ws.onopen = () => resolve('open');
      ws.onerror = () => resolve('refused');
    });
    return { read, write, socket };
  }, base);
  t.same(attempts, { read: 'blocked', write: 'blocked', socket: 'refused' }, 'an untrusted page can neither read, write nor listen');
  await stranger.close();
  const still = (await (await page.request.get(`${base}/api/settings`)).json()) as unknown;
  t.notMatch(JSON.stringify(still), /Forged/, 'and nothing was changed');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.waitForURL(`${app}/login`);
  t.equal((await page.request.get(`${base}/auth/me`)).status(), 401, 'logged out on the server');
  t.equal((await page.context().cookies(base)).find((c) => c.name === 'tuitbot_session'), undefined, 'and the cookie is gone');
  await page.goto('/dashboard');
  await page.waitForURL(/\/login/);
  t.pass('the guard sends a logged-out visitor to log in');
  t.same(problems, [], 'no script error or failed request on the way');
});
