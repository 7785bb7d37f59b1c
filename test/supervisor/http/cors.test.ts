// CORS for the operator's TRUSTED_ORIGINS: the policy on its own, then on a real server (preflights, the headers
// every /api and /auth answer carries, errors included) and a server without it, which must behave as before.
import t from 'tap';
import { CorsPolicy } from '../../../supervisor/http/cors.js';
import { HttpError } from '../../../supervisor/http/errors.js';
import { json, noContent } from '../../../supervisor/http/reply.js';
import type { Router } from '../../../supervisor/http/router.js';
import type { Handler } from '../../../supervisor/http/server.js';
import { startServer } from './fixtures/harness.js';

const APP = 'http://127.0.0.1:5173';
const OTHER = 'http://127.0.0.1:6666';

t.test('the policy on its own', async (t) => {
  const cors = new CorsPolicy([APP]);
  t.ok(cors.trusts(APP));
  t.notOk(cors.trusts(OTHER));
  t.notOk(cors.trusts(`${APP}/`), 'an Origin header is compared exactly');
  t.notOk(cors.trusts(undefined));

  const preflight = cors.preflight('OPTIONS', '/api/settings', { origin: APP, 'access-control-request-method': 'PATCH' });
  t.equal(preflight?.status, 204);
  t.match(preflight?.headers, {
    'Access-Control-Allow-Origin': APP,
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Methods': /PATCH/,
    'Access-Control-Allow-Headers': 'content-type, authorization, accept',
    'Access-Control-Max-Age': '600',
    Vary: 'Origin',
  });
  const refused = cors.preflight('OPTIONS', '/auth/login', { origin: OTHER, 'access-control-request-method': 'POST' });
  t.equal(refused?.status, 403);
  t.same(JSON.parse(String(refused?.body)).error.code, 'cross_origin');
  t.notOk(Object.keys(refused?.headers ?? {}).some((name) => name.startsWith('Access-Control-')), 'no CORS header for an untrusted origin');
  t.equal(cors.preflight('OPTIONS', '/api/settings', { origin: APP }), undefined, 'OPTIONS without Access-Control-Request-Method is no preflight');
  t.equal(cors.preflight('OPTIONS', '/webhooks/stripe', { origin: APP, 'access-control-request-method': 'POST' }), undefined, 'only /api and /auth');
  t.equal(cors.preflight('GET', '/api/settings', { origin: APP, 'access-control-request-method': 'GET' }), undefined);

  const shared = Object.freeze({ 'Content-Type': 'image/png', vary: 'Accept-Encoding' });
  const applied = cors.apply({ status: 200, headers: shared }, '/api/media/1', APP);
  t.same(applied.headers, { 'Content-Type': 'image/png', 'Access-Control-Allow-Origin': APP, 'Access-Control-Allow-Credentials': 'true', Vary: 'Accept-Encoding, Origin' }, "a handler's Vary is kept and Origin added");
  t.same(cors.apply({ status: 200, headers: { Vary: 'origin' } }, '/api/x', undefined).headers, { Vary: 'origin' }, 'Origin is not added twice');
  t.same(cors.apply({ status: 200 }, '/auth/me', OTHER).headers, { Vary: 'Origin' }, 'an untrusted origin: Vary only');
  const page = { status: 200, headers: { 'Content-Type': 'text/html' } };
  t.equal(cors.apply(page, '/dashboard', APP), page, 'pages are left alone');
});

const routes = (r: Router<Handler>): void => {
  r.add('GET', '/api/thing', () => json(200, { ok: true }));
  r.add('PATCH', '/api/thing', () => noContent());
  r.add('GET', '/api/fails', () => {
    throw new HttpError(422, 'invalid_params', 'no');
  });
  r.add('GET', '/page', () => json(200, {}));
};

t.test('on a server with trusted origins', async (t) => {
  const { url } = await startServer(t, routes, { cors: new CorsPolicy([APP]) });

  const preflight = await fetch(`${url}/api/thing`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'PATCH', 'access-control-request-headers': 'content-type' } });
  t.equal(preflight.status, 204, 'a trusted preflight is answered 204');
  t.equal(preflight.headers.get('access-control-allow-origin'), APP);
  t.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
  t.match(preflight.headers.get('access-control-allow-methods'), /PATCH/);
  t.match(preflight.headers.get('access-control-allow-headers'), /content-type/);
  t.equal(preflight.headers.get('access-control-max-age'), '600');

  const untrusted = await fetch(`${url}/api/thing`, { method: 'OPTIONS', headers: { origin: OTHER, 'access-control-request-method': 'PATCH' } });
  t.equal(untrusted.status, 403, 'an untrusted preflight is refused');
  t.equal(untrusted.headers.get('access-control-allow-origin'), null);
  t.match(await untrusted.json(), { error: { code: 'cross_origin' } });

  const plainOptions = await fetch(`${url}/api/thing`, { method: 'OPTIONS' });
  t.equal(plainOptions.status, 405, 'an OPTIONS that is no preflight goes to the router as before');

  const ok = await fetch(`${url}/api/thing`, { headers: { origin: APP } });
  t.equal(ok.headers.get('access-control-allow-origin'), APP, 'a trusted origin may read the answer');
  t.equal(ok.headers.get('access-control-allow-credentials'), 'true');
  t.equal(ok.headers.get('vary'), 'Origin');
  const failed = await fetch(`${url}/api/fails`, { headers: { origin: APP } });
  t.equal(failed.status, 422);
  t.equal(failed.headers.get('access-control-allow-origin'), APP, 'and the error envelope too');
  const missing = await fetch(`${url}/api/nothing-here`, { headers: { origin: APP } });
  t.equal(missing.status, 404);
  t.equal(missing.headers.get('access-control-allow-origin'), APP, 'and a 404');

  const other = await fetch(`${url}/api/thing`, { headers: { origin: OTHER } });
  t.equal(other.status, 200);
  t.equal(other.headers.get('access-control-allow-origin'), null, 'an untrusted origin gets no CORS header');
  t.equal(other.headers.get('access-control-allow-credentials'), null);
  t.equal(other.headers.get('vary'), 'Origin', 'but the answer still varies by Origin for caches');
  const page = await fetch(`${url}/page`, { headers: { origin: APP } });
  t.equal(page.headers.get('access-control-allow-origin'), null, 'paths outside /api and /auth never take part');
  t.equal(page.headers.get('vary'), null);
});

t.test('a server without trusted origins behaves as before', async (t) => {
  const { url } = await startServer(t, routes);
  const preflight = await fetch(`${url}/api/thing`, { method: 'OPTIONS', headers: { origin: APP, 'access-control-request-method': 'PATCH' } });
  t.equal(preflight.status, 405);
  t.equal(preflight.headers.get('access-control-allow-origin'), null);
  const res = await fetch(`${url}/api/thing`, { headers: { origin: APP } });
  t.equal(res.headers.get('access-control-allow-origin'), null);
  t.equal(res.headers.get('vary'), null);
});
