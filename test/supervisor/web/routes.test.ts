// The web app on the API's port: pages, the /dashboard fallback, caching, compression, and the server's own
// namespaces left alone. A small build is written to a temp dir, so this needs no `npm run build:cloud`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import t from 'tap';
import { errorReply } from '../../../supervisor/http/errors.js';
import { json } from '../../../supervisor/http/reply.js';
import { Router } from '../../../supervisor/http/router.js';
import { createHttpServer, type Handler } from '../../../supervisor/http/server.js';
import { addWebRoutes } from '../../../supervisor/web/routes.js';
import { pageCsp } from '../../../supervisor/web/site.js';

const SCRIPT = "document.documentElement.dataset.theme = 'dark';";
const PAGE = (title: string) => `<!doctype html><html><head><title>${title}</title><script>${SCRIPT}</script><script type="module" src="/_app/immutable/entry/start.abc123.js"></script></head><body>${'<p>filler</p>'.repeat(200)}</body></html>`;

function writeBuild(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-web-'));
  mkdirSync(join(dir, '_app/immutable/entry'), { recursive: true });
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'index.html'), PAGE('Home'));
  writeFileSync(join(dir, 'pricing.html'), PAGE('Pricing'));
  writeFileSync(join(dir, 'docs/api.html'), PAGE('API'));
  writeFileSync(join(dir, '200.html'), PAGE('App shell'));
  writeFileSync(join(dir, '_app/immutable/entry/start.abc123.js'), `export const start = 1;${' '.repeat(4000)}`);
  writeFileSync(join(dir, '_app/version.json'), '{"version":"1"}');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  return dir;
}

async function serve(t: { teardown(fn: () => void): void }, dir: string) {
  const router = new Router<Handler>();
  router.add('GET', '/api/things', () => json(200, { things: [] }));
  router.add('POST', '/auth/login', () => errorReply(401, 'invalid_credentials', 'no'));
  router.add('GET', '/healthz', () => json(200, { status: 'ok' }));
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const { site } = addWebRoutes(router, { log, dir });
  const http = createHttpServer({ router, log: pino({ level: 'silent' }), maxBodyBytes: 1024, bodyTimeoutMs: 1000 });
  const port = await http.listen('127.0.0.1', 0);
  t.teardown(() => http.stopListening());
  return { base: `http://127.0.0.1:${port}`, lines, site };
}

const html = { accept: 'text/html,application/xhtml+xml' };

t.test('prerendered pages are served by their path, revalidated on every visit, with a CSP that allows only their own inline scripts', async (t) => {
  const dir = writeBuild();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { base } = await serve(t, dir);
  for (const [path, title] of [['/', 'Home'], ['/pricing', 'Pricing'], ['/docs/api', 'API']] as const) {
    const response = await fetch(`${base}${path}`, { headers: html });
    t.equal(response.status, 200, path);
    t.match(await response.text(), `<title>${title}</title>`);
    t.equal(response.headers.get('cache-control'), 'no-cache');
    t.equal(response.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = response.headers.get('content-security-policy')!;
    t.match(csp, /sha256-/);
    t.notMatch(csp, /script-src[^;]*unsafe-inline/, 'no inline script beyond the hashed ones');
    t.equal(csp, pageCsp(PAGE(title)));
  }
  const again = await fetch(`${base}/pricing`, { headers: { ...html, 'if-none-match': (await fetch(`${base}/pricing`)).headers.get('etag')! } });
  t.equal(again.status, 304, 'an unchanged page is not sent again');
  t.equal(again.headers.get('content-security-policy'), pageCsp(PAGE('Pricing')), "the 304 keeps the page's CSP (browsers take a 304's headers for the cached page)");
  t.equal(again.headers.get('cache-control'), 'no-cache');
  const app = await fetch(`${base}/dashboard/x`, { headers: { ...html, 'if-none-match': (await fetch(`${base}/dashboard`)).headers.get('etag')! } });
  t.equal(app.status, 304, 'the client app is revalidated too');
  t.equal(app.headers.get('content-security-policy'), pageCsp(PAGE('App shell')));
});

t.test('the CSP hash is the hash of the inline script itself', async (t) => {
  const { createHash } = await import('node:crypto');
  const expected = createHash('sha256').update(SCRIPT).digest('base64');
  t.match(pageCsp(PAGE('x')), `'sha256-${expected}'`);
  t.notMatch(pageCsp(PAGE('x')), /sha256-[^ ]+ 'sha256-/, 'the external module script is not hashed');
});

t.test('hashed assets are cached for a year; others briefly', async (t) => {
  const dir = writeBuild();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { base } = await serve(t, dir);
  const asset = await fetch(`${base}/_app/immutable/entry/start.abc123.js`);
  t.equal(asset.status, 200);
  t.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  t.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const version = await fetch(`${base}/_app/version.json`);
  t.equal(version.headers.get('cache-control'), 'public, max-age=3600');
  t.equal((await fetch(`${base}/favicon.svg`)).headers.get('content-type'), 'image/svg+xml');
});

t.test('bodies are compressed with brotli or gzip as the client accepts, and not otherwise', async (t) => {
  const dir = writeBuild();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { base } = await serve(t, dir);
  const { request } = await import('node:http');
  // fetch decompresses on its own; the raw bytes are what is on the wire.
  const raw = (path: string, acceptEncoding: string) =>
    new Promise<{ encoding: string | undefined; vary: string | undefined; body: Buffer }>((resolve, reject) => {
      request(`${base}${path}`, { headers: { 'accept-encoding': acceptEncoding } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ encoding: res.headers['content-encoding'], vary: res.headers['vary'], body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
  const original = PAGE('Home');
  const br = await raw('/', 'gzip, deflate, br');
  t.equal(br.encoding, 'br');
  t.equal(br.vary, 'Accept-Encoding');
  t.equal(brotliDecompressSync(br.body).toString(), original);
  t.ok(br.body.length < original.length / 4, 'much smaller');
  const gz = await raw('/_app/immutable/entry/start.abc123.js', 'gzip');
  t.equal(gz.encoding, 'gzip');
  t.match(gunzipSync(gz.body).toString(), /^export const start = 1;/);
  const refused = await raw('/', 'br;q=0, gzip;q=0');
  t.equal(refused.encoding, undefined, 'q=0 refuses an encoding');
  t.equal(refused.body.toString(), original);
  const plain = await raw('/favicon.svg', 'br');
  t.equal(plain.encoding, undefined, 'tiny files are sent as they are');
});

t.test('every /dashboard path is the client app; other unknown pages get its 404, scripts get JSON', async (t) => {
  const dir = writeBuild();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { base } = await serve(t, dir);
  for (const path of ['/dashboard', '/dashboard/settings', '/dashboard/targets/some_one']) {
    const response = await fetch(`${base}${path}`, { headers: html });
    t.equal(response.status, 200, path);
    t.match(await response.text(), '<title>App shell</title>');
  }
  const missing = await fetch(`${base}/no-such-page`, { headers: html });
  t.equal(missing.status, 404);
  t.match(await missing.text(), '<title>App shell</title>', 'the app renders its own not-found page');
  t.equal(missing.headers.get('cache-control'), 'no-store');
  const script = await fetch(`${base}/no-such-page`);
  t.equal(script.status, 404);
  t.same(await script.json(), { error: { code: 'not_found', message: 'no route for GET /no-such-page' } });
  t.equal((await fetch(`${base}/200`, { headers: html })).status, 404, 'the fallback file is not a page of its own');
  const slash = await fetch(`${base}/pricing/`, { redirect: 'manual' });
  t.equal(slash.status, 308);
  t.equal(slash.headers.get('location'), '/pricing');
});

t.test("the server's own namespaces are never answered with a page, and routes keep their 404 and 405", async (t) => {
  const dir = writeBuild();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { base } = await serve(t, dir);
  t.same(await (await fetch(`${base}/api/things`)).json(), { things: [] }, 'a real route still wins');
  t.equal((await fetch(`${base}/healthz`)).status, 200);
  for (const path of ['/api/nope', '/api', '/auth/whatever', '/webhooks/x', '/metrics', '/readyz/more', '/dev/mail']) {
    const response = await fetch(`${base}${path}`, { headers: html });
    t.equal(response.status, 404, path);
    t.equal(response.headers.get('content-type'), 'application/json; charset=utf-8', `${path} is JSON`);
  }
  const post = await fetch(`${base}/nothing-here`, { method: 'POST' });
  t.equal(post.status, 404, 'an unknown POST is 404, not 405');
  t.same(await post.json(), { error: { code: 'not_found', message: 'no route for POST /nothing-here' } });
  const wrong = await fetch(`${base}/api/things`, { method: 'DELETE' });
  t.equal(wrong.status, 405, 'a known path under another method is still 405');
  t.equal(wrong.headers.get('allow'), 'GET, HEAD');
  const wrongGet = await fetch(`${base}/auth/login`);
  t.equal(wrongGet.status, 405);
  t.equal(wrongGet.headers.get('allow'), 'POST');
});

t.test('without a build the server says so at start and pages say how to build it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-web-empty-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { base, lines, site } = await serve(t, dir);
  t.equal(site, null);
  t.match(lines.join(''), /the web app is not built[^"]*npm run build:cloud/);
  const page = await fetch(`${base}/`, { headers: html });
  t.equal(page.status, 503);
  t.match(await page.text(), /npm run build:cloud/);
  t.equal((await fetch(`${base}/dashboard/settings`, { headers: html })).status, 503);
  const api = await fetch(`${base}/api/nope`, { headers: html });
  t.equal(api.status, 404, 'the API is unaffected');
  t.equal((await fetch(`${base}/nope`)).status, 404, 'scripts still get JSON');
});
