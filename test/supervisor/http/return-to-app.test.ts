// Flows the server finishes (Connect X, GitHub login, the Stripe checkout and portal) end on the desktop app that
// started them when its origin is in TRUSTED_ORIGINS, exactly; any other return address is refused before the flow
// starts (never an open redirect), a tampered one is dropped at the end, and without TRUSTED_ORIGINS nothing changes.
// The real server in sandbox mode (simulated X, GitHub and Stripe), driven like a browser with manual redirects. The
// app's origin needs no listener: the test reads where the browser would be sent.
import t, { type Test } from 'tap';
import { HttpError } from '../../../supervisor/http/errors.js';
import { ReturnOrigins } from '../../../supervisor/http/return-origin.js';
import { Browser } from '../../helpers/browser.js';
import { serveTemp } from '../../helpers/process.js';

const APP = 'http://127.0.0.1:5173';
const PASSWORD = 'correct horse battery staple';
const HOSTILE = [
  'http://127.0.0.1:6666', // another port, not listed
  `${APP}.evil.example`, // a prefix
  `${APP}/`, // not exactly the origin
  `${APP}/dashboard`,
  `${APP}@evil.example`,
  'HTTP://127.0.0.1:5173',
  'https://evil.example',
  '//evil.example',
  'javascript:alert(1)',
  'null',
  '',
];

t.test('ReturnOrigins: exact members of the list, once; everything else refused or dropped', async (t) => {
  const origins = new ReturnOrigins([APP]);
  t.equal(origins.requested(new URLSearchParams()), null, 'no return_to: the server’s pages');
  t.equal(origins.requested(new URLSearchParams({ return_to: APP })), APP);
  for (const bad of HOSTILE) {
    t.throws(() => origins.requested(new URLSearchParams({ return_to: bad })), { status: 400, code: 'invalid_request', fields: { return_to: /TRUSTED_ORIGINS/ } }, `${JSON.stringify(bad)} is refused`);
    t.equal(origins.recall(bad), null, `${JSON.stringify(bad)} is dropped at the end`);
    t.equal(origins.ofFetch({ origin: bad }), null);
  }
  const twice = new URLSearchParams([['return_to', APP], ['return_to', APP]]);
  t.throws(() => origins.requested(twice), new HttpError(400, 'invalid_request', 'The app to return to is not one this server trusts.', { return_to: 'must be given once' }));
  t.equal(origins.ofFetch({ origin: APP }), APP, 'a trusted fetch Origin');
  t.equal(origins.ofFetch({}), null, 'no Origin: the server’s pages');
  t.equal(origins.recall(APP), APP);
  t.equal(origins.recall(undefined), null);
  const none = new ReturnOrigins([]);
  t.throws(() => none.requested(new URLSearchParams({ return_to: APP })), { status: 400, code: 'invalid_request' }, 'without TRUSTED_ORIGINS nothing is trusted');
  t.equal(none.ofFetch({ origin: APP }), null);
});

/** Submits the simulated X's consent form; returns X's redirect back to the server. */
async function consent(authorizeUrl: string, decision: 'authorize' | 'deny'): Promise<URL> {
  const html = await (await fetch(authorizeUrl)).text();
  const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
  const response = await fetch(new URL('/i/oauth2/authorize', authorizeUrl), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision, username: 'desk_maker' }).toString(),
  });
  return new URL(response.headers.get('location')!);
}

async function signUp(base: string, email: string, origin: string = base): Promise<Browser> {
  const browser = new Browser(base, origin);
  const response = await browser.json('POST', '/auth/signup', { email, password: PASSWORD });
  if (response.status !== 201) throw new Error(`signup answered ${response.status}`);
  return browser;
}

async function refused(t: Test, response: Response, what: string): Promise<void> {
  t.equal(response.status, 400, `${what}: 400`);
  t.equal(response.headers.get('location'), null, `${what}: no redirect`);
  t.match(await response.json(), { error: { code: 'invalid_request', fields: { return_to: /TRUSTED_ORIGINS/ } } });
}

const app = encodeURIComponent(APP);
// One server per flow: X and GitHub share the per-IP OAuth limit (10 a minute), and every request here is loopback.
const trustingServer = async (t: Test) => (await serveTemp(t, { TRUSTED_ORIGINS: APP })).base;

t.test('with TRUSTED_ORIGINS, Connect X ends on the app that started it', async (t) => {
  const base = await trustingServer(t);
  {
    const browser = await signUp(base, 'x@example.com');
    const start = await browser.request('GET', `/api/x/connect?return_to=${app}`);
    t.equal(start.status, 302);
    const back = await consent(start.headers.get('location')!, 'authorize');
    t.equal(back.origin + back.pathname, `${base}/api/x/callback`, 'X still calls the server back');
    const landed = await browser.request('GET', back.pathname + back.search);
    t.equal(landed.headers.get('location'), `${APP}/dashboard/x?connected=desk_maker`, "ends on the app's /dashboard/x, query intact");
    t.match((await browser.json('GET', '/api/x/status')).body, { connected: true, account: { username: 'desk_maker' } });
    const replay = await browser.request('GET', back.pathname + back.search);
    t.equal(replay.headers.get('location'), `${APP}/dashboard/x?error=bad_state`, 'a replayed callback is refused, on the app that started it');

    await browser.json('DELETE', '/api/x/disconnect');
    const again = await browser.request('GET', `/api/x/connect?return_to=${app}`);
    const denied = await consent(again.headers.get('location')!, 'deny');
    const deniedLanding = await browser.request('GET', denied.pathname + denied.search);
    t.equal(deniedLanding.headers.get('location'), `${APP}/dashboard/x?error=denied`, 'error redirects come back too');

    const plain = await browser.request('GET', '/api/x/connect');
    const plainBack = await consent(plain.headers.get('location')!, 'authorize');
    t.equal((await browser.request('GET', plainBack.pathname + plainBack.search)).headers.get('location'), `${base}/dashboard/x?connected=desk_maker`, 'without return_to: the server’s page, as before');

    for (const bad of [...HOSTILE, base]) await refused(t, await browser.request('GET', `/api/x/connect?return_to=${encodeURIComponent(bad)}`), `Connect X to ${JSON.stringify(bad)}`);
  }
});

t.test('with TRUSTED_ORIGINS, GitHub login ends on the app that started it', async (t) => {
  const base = await trustingServer(t);
  {
    const login = async (browser: Browser, query: string, tamper?: string): Promise<string | null> => {
      const start = await browser.request('GET', `/auth/github${query}`);
      t.equal(start.status, 302);
      if (tamper !== undefined) browser.cookies.set('tuitbot_github_return', encodeURIComponent(tamper));
      const github = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      const callback = new URL(github.headers.get('location')!);
      const landed = await browser.request('GET', callback.pathname + callback.search);
      t.notOk(browser.cookies.has('tuitbot_github_return'), 'the return cookie is cleared at the end');
      return landed.headers.get('location');
    };
    t.equal(await login(new Browser(base), `?return_to=${app}`), `${APP}/dashboard`, "logged in, on the app's dashboard");
    t.equal(await login(new Browser(base), ''), '/dashboard', 'without return_to: the server’s page, as before');
    t.equal(await login(new Browser(base), `?return_to=${app}`, 'https://evil.example'), '/dashboard', 'a tampered return cookie is not followed');

    const browser = new Browser(base);
    const start = await browser.request('GET', `/auth/github?return_to=${app}`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const denied = await browser.request('GET', `/auth/github/callback?error=access_denied&state=${state}`);
    t.equal(denied.headers.get('location'), `${APP}/login?error=github_denied`, 'a refusal lands on the app’s login page');

    for (const bad of [...HOSTILE, base]) await refused(t, await new Browser(base).request('GET', `/auth/github?return_to=${encodeURIComponent(bad)}`), `GitHub login to ${JSON.stringify(bad)}`);
  }
});

t.test('with TRUSTED_ORIGINS, the Stripe checkout and portal end on the app that started them', async (t) => {
  const base = await trustingServer(t);
  {
    const desktop = await signUp(base, 'pay@example.com', APP);
    const canceled = await desktop.json('POST', '/api/billing/checkout', { plan: 'starter' });
    t.equal(canceled.status, 200, 'a checkout fetch from the app (its Origin trusted)');
    const cancel = await fetch(canceled.body.url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=cancel' });
    t.equal(cancel.headers.get('location'), `${APP}/dashboard/billing?checkout=canceled`);
    const checkout = await desktop.json('POST', '/api/billing/checkout', { plan: 'growth' });
    const paid = await fetch(checkout.body.url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=pay' });
    t.match(paid.headers.get('location'), new RegExp(`^${APP}/dashboard/billing\\?checkout=success&session_id=cs_`), "paid: back on the app's billing page");

    const portal = await desktop.request('GET', `/api/billing/portal?return_to=${app}`);
    t.equal(portal.status, 303);
    const page = await (await fetch(portal.headers.get('location')!)).text();
    t.match(page, `href="${APP}/dashboard/billing"`, 'the portal links back to the app');
    const plainPortal = await desktop.request('GET', '/api/billing/portal');
    t.match(await (await fetch(plainPortal.headers.get('location')!)).text(), `href="${base}/dashboard/billing"`, 'without return_to: the server’s page');
    for (const bad of ['http://127.0.0.1:6666', `${APP}/dashboard`, 'https://evil.example']) {
      await refused(t, await desktop.request('GET', `/api/billing/portal?return_to=${encodeURIComponent(bad)}`), `the portal to ${bad}`);
    }

    const server = await signUp(base, 'same@example.com');
    const own = await server.json('POST', '/api/billing/checkout', { plan: 'starter' });
    const ownCancel = await fetch(own.body.url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=cancel' });
    t.equal(ownCancel.headers.get('location'), `${base}/dashboard/billing?checkout=canceled`, "a checkout from the server's own pages returns there");
  }
});

t.test('without TRUSTED_ORIGINS: the flows end on the server as before, and no return address is accepted', async (t) => {
  const { base } = await serveTemp(t);
  const browser = await signUp(base, 'plain@example.com');
  await refused(t, await browser.request('GET', `/api/x/connect?return_to=${encodeURIComponent(APP)}`), 'Connect X');
  await refused(t, await browser.request('GET', `/auth/github?return_to=${encodeURIComponent(APP)}`), 'GitHub login');
  await refused(t, await browser.request('GET', `/api/billing/portal?return_to=${encodeURIComponent(APP)}`), 'the portal');
  const start = await browser.request('GET', '/api/x/connect');
  const back = await consent(start.headers.get('location')!, 'authorize');
  t.equal((await browser.request('GET', back.pathname + back.search)).headers.get('location'), `${base}/dashboard/x?connected=desk_maker`);
  const checkout = await browser.json('POST', '/api/billing/checkout', { plan: 'starter' });
  const cancel = await fetch(checkout.body.url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=cancel' });
  t.equal(cancel.headers.get('location'), `${base}/dashboard/billing?checkout=canceled`);
  const forged = await new Browser(base, APP).json('POST', '/api/billing/checkout', { plan: 'starter' }, { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ') });
  t.equal(forged.status, 403, "the app's checkout fetch is a cross-origin request, refused as before");
});
