import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { SecretBoxError } from '../../../protocol/index.js';
import { until } from '../../helpers/tenants.js';
import { startXServer, type XServer } from '../../helpers/x-server.js';

function tenantOf(server: XServer, email: string): string {
  return (server.db.prepare('SELECT tenant_id FROM users WHERE email = ?').get(email) as { tenant_id: string }).tenant_id;
}

/** The tenant's stored connection row, read from its file once the tenant has hibernated. */
async function storedRow(server: XServer, tenantId: string) {
  await until(() => server.host.state(tenantId) === 'hibernated');
  const db = new Database(server.registry.dbPath(tenantId), { readonly: true });
  try {
    return db.prepare('SELECT * FROM x_connection').get() as { access_token: string | null; refresh_token: string | null; username: string; status: string } | undefined;
  } finally {
    db.close();
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

t.test('connect: consent → callback → the tenant holds the identity and sealed tokens; no plaintext anywhere', async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const consent = await server.connect(ada);
  const landing = await server.callback(ada, await server.x.approve(consent, { username: 'ada_builds' }));
  t.equal(landing, `${server.base}/dashboard/x?connected=ada_builds`);
  const status = await ada.json('GET', '/api/x/status');
  t.match(status.body, { configured: true, connected: true, account: { username: 'ada_builds', id: /^\d+$/ }, disconnectedReason: null });

  const tenantId = tenantOf(server, 'ada@example.com');
  const row = (await storedRow(server, tenantId))!;
  t.match(row.access_token, /^v1\.[0-9a-f]{8}\./, 'sealed at rest');
  const tenant = server.secrets.forTenant(tenantId);
  const access = tenant.open('x_access_token', row.access_token!);
  const refresh = tenant.open('x_refresh_token', row.refresh_token!);
  t.ok(access.length > 10 && refresh.length > 10);

  // The tokens work at X: the simulated X knows them.
  const me = await fetch(`${server.x.settings.apiUrl}/users/me`, { headers: { authorization: `Bearer ${access}` } });
  t.equal(me.status, 200);

  // Scan every file of the data directory and every log line for the plaintext.
  server.db.pragma('wal_checkpoint(TRUNCATE)');
  for (const file of filesUnder(server.dir)) {
    const bytes = readFileSync(file);
    t.notOk(bytes.includes(access) || bytes.includes(refresh), `no plaintext token in ${file.slice(server.dir.length)}`);
  }
  const logs = JSON.stringify(server.logs);
  t.notOk(logs.includes(access) || logs.includes(refresh), 'no plaintext token in the logs');
  t.notOk(JSON.stringify(status.body).includes(access), 'nor in an API response');
});

t.test('a public client (no secret) connects with PKCE alone', async (t) => {
  const server = await startXServer({ publicClient: true });
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const landing = await server.callback(ada, await server.x.approve(await server.connect(ada)));
  t.equal(landing, `${server.base}/dashboard/x?connected=sandbox_founder`);
});

t.test('denied consent lands on a plain error and stores nothing', async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const consent = await server.connect(ada);
  const back = await server.x.deny(consent);
  t.equal(await server.callback(ada, back), `${server.base}/dashboard/x?error=denied`);
  t.match((await ada.json('GET', '/api/x/status')).body, { connected: false, account: null });
  t.equal(await server.callback(ada, back), `${server.base}/dashboard/x?error=bad_state`, 'the state was used up');
});

t.test('state tampering, replay, expiry, another session and no session are all refused', async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const mallory = await server.signup('mallory@example.com');

  const tampered = new URL(await server.x.approve(await server.connect(ada)));
  tampered.searchParams.set('state', tampered.searchParams.get('state')!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')));
  t.equal(await server.callback(ada, tampered.toString()), `${server.base}/dashboard/x?error=bad_state`);

  const good = await server.x.approve(await server.connect(ada));
  t.equal(await server.callback(ada, good), `${server.base}/dashboard/x?connected=sandbox_founder`);
  t.equal(await server.callback(ada, good), `${server.base}/dashboard/x?error=bad_state`, 'replay');

  const late = await server.x.approve(await server.connect(ada));
  server.clock.now += 10 * 60 * 1000 + 1;
  t.equal(await server.callback(ada, late), `${server.base}/dashboard/x?error=bad_state`, 'expired after 10 minutes');

  // Mallory's browser lands on the callback of Ada's attempt (login CSRF): refused, nothing is linked to Mallory.
  const adas = await server.x.approve(await server.connect(ada), { username: 'ada_builds' });
  t.equal(await server.callback(mallory, adas), `${server.base}/dashboard/x?error=bad_state`);
  t.match((await mallory.json('GET', '/api/x/status')).body, { connected: false });

  const anonymous = new URL(await server.x.approve(await server.connect(ada)));
  const response = await fetch(`${server.base}${anonymous.pathname}${anonymous.search}`, { redirect: 'manual' });
  t.equal(response.headers.get('location'), `${server.base}/dashboard/x?error=bad_state`, 'no session at the callback');
  t.equal((await fetch(`${server.base}/api/x/connect`, { redirect: 'manual' })).status, 401);
});

t.test('connect is rate-limited per account', async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  let last = '';
  for (let i = 0; i < 11; i++) last = (await ada.request('GET', '/api/x/connect')).headers.get('location')!;
  t.equal(last, `${server.base}/dashboard/x?error=rate_limited`);
});

t.test("a sealed token moved to another tenant's DB does not open there (AAD binds the tenant)", async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const bob = await server.signup('bob@example.com');
  await server.callback(ada, await server.x.approve(await server.connect(ada), { username: 'ada_builds' }));
  await server.callback(bob, await server.x.approve(await server.connect(bob), { username: 'bob_ships' }));
  const adaRow = (await storedRow(server, tenantOf(server, 'ada@example.com')))!;
  const bobTenant = tenantOf(server, 'bob@example.com');
  t.throws(() => server.secrets.forTenant(bobTenant).open('x_access_token', adaRow.access_token!), SecretBoxError);
  t.throws(() => server.secrets.forTenant(tenantOf(server, 'ada@example.com')).open('x_refresh_token', adaRow.access_token!), SecretBoxError, 'nor in another column');
});

t.test('disconnect revokes the grant at X, deletes the tokens and mails the user', async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.callback(ada, await server.x.approve(await server.connect(ada), { username: 'ada_builds' }));
  const tenantId = tenantOf(server, 'ada@example.com');
  const row = (await storedRow(server, tenantId))!;
  const refresh = server.secrets.forTenant(tenantId).open('x_refresh_token', row.refresh_token!);

  const response = await ada.json('DELETE', '/api/x/disconnect');
  t.equal(response.status, 200);
  t.match(response.body, { connected: false, disconnectedReason: 'user', account: { username: 'ada_builds' } });
  const after = (await storedRow(server, tenantId))!;
  t.same([after.status, after.access_token, after.refresh_token], ['disconnected', null, null]);

  const refreshed = await fetch(server.x.settings.tokenUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${server.x.settings.clientId}:${server.x.settings.clientSecret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh }).toString(),
  });
  t.equal(refreshed.status, 400, 'the revoked grant cannot be refreshed');
  t.match(await refreshed.json(), { error: 'invalid_grant' });
  await until(() => server.mails.some((m) => m.data['subject'] === 'X disconnected from TuitBot'));
  t.equal((await ada.json('DELETE', '/api/x/disconnect')).status, 200, 'disconnecting twice is harmless');
});

t.test('verify asks X through the tenant’s client; a revoked grant disconnects once, mails the user, and never spins', async (t) => {
  const server = await startXServer({ fakeX: { accessTokenTtlSeconds: 60 } });
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.callback(ada, await server.x.approve(await server.connect(ada), { username: 'ada_builds' }));
  const verified = await ada.json('POST', '/api/x/verify');
  t.equal(verified.status, 200);
  t.match(verified.body, { ok: true, account: { username: 'ada_builds' } });
  t.ok(server.x.requests.some((r) => r.path === '/2/users/me'), 'X was asked');

  // The token expires within 5 minutes, so the next call refreshes — and X refuses: the user revoked the app.
  server.x.revokeApp('ada_builds');
  const refused = await ada.json('POST', '/api/x/verify');
  t.equal(refused.status, 409);
  t.equal(refused.body.error.code, 'x_disconnected');
  t.match((await ada.json('GET', '/api/x/status')).body, { connected: false, disconnectedReason: 'invalid_grant', account: { username: 'ada_builds' } });
  await until(() => server.mails.some((m) => m.data['subject'] === 'Reconnect X to keep TuitBot running'));

  const calls = server.x.requests.length;
  const again = await ada.json('POST', '/api/x/verify');
  t.equal(again.body.error.code, 'x_not_connected', 'no further calls to X');
  t.equal(server.x.requests.length, calls);
  t.equal(server.mails.filter((m) => m.data['subject'] === 'Reconnect X to keep TuitBot running').length, 1, 'mailed once');
});

t.test('the X allowance gates real calls: no plan refuses them, an exhausted allowance stops reads and tells the user', async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  const events: { kind: string; data?: unknown }[] = [];
  server.host.on('event', (_tenant, event) => events.push(event));
  const ada = await server.signup('ada@example.com');
  await server.callback(ada, await server.x.approve(await server.connect(ada), { username: 'ada_builds' }));
  const tenantId = tenantOf(server, 'ada@example.com');
  const base = {
    plan: 'starter',
    repliesPerDay: 5,
    tweetsPerDay: 3,
    threadsPerWeek: 1,
    targets: 3,
    xCostAllowanceCents: 700,
    xPeriodStart: Date.now() - 1000,
    xReadCentsPerDay: 10,
    xUrlPostsPerDay: 1,
    xOverageCapCents: null,
    automation: true,
    readOnly: false,
  };

  server.host.setCeilings(tenantId, { ...base, automation: false });
  const off = await ada.json('POST', '/api/x/verify');
  t.equal(off.status, 409);
  t.match(off.body.error, { code: 'x_budget_refused', message: /no active plan/ });

  server.host.setCeilings(tenantId, { ...base, xCostAllowanceCents: 1 });
  const calls = server.x.requests.length;
  const spent = await ada.json('POST', '/api/x/verify');
  t.match(spent.body.error, { code: 'x_budget_refused', message: /kept for your posts/ });
  t.equal(server.x.requests.length, calls, 'the call was not made');
  await until(() => events.some((e) => e.kind === 'billing.x_budget' && (e.data as { reason: string }).reason === 'reads_reserved_for_posts'));
  t.match(events.find((e) => (e.data as { reason?: string })?.reason === 'reads_reserved_for_posts')!.data, { notify: true });

  server.host.setCeilings(tenantId, base);
  t.equal((await ada.json('POST', '/api/x/verify')).status, 200, 'within the allowance the call goes through');
});

t.test("a user's own X app: connect through it, the secret is write-only and sealed, and it cannot change while connected", async (t) => {
  const server = await startXServer({
    fakeX: { clients: [{ clientId: 'sandbox-x-client', clientSecret: 'sandbox-x-secret' }, { clientId: 'adas-own-app', clientSecret: 'adas-own-secret' }] },
  });
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  t.match((await ada.json('GET', '/api/x/app')).body, { serverApp: true, own: null, xBilling: 'plan_allowance' });

  const bad = await ada.json('PUT', '/api/x/app', { clientId: 'has spaces', extra: 1 });
  t.equal(bad.status, 422);
  const set = await ada.json('PUT', '/api/x/app', { clientId: 'adas-own-app', clientSecret: 'adas-own-secret' });
  t.equal(set.status, 200);
  t.match(set.body, { own: { clientId: 'adas-own-app', clientSecret: 'set' }, xBilling: 'user' });
  t.notOk(JSON.stringify(set.body).includes('adas-own-secret'), 'the secret is never returned');
  const stored = server.db.prepare('SELECT client_secret FROM x_own_apps').get() as { client_secret: string };
  t.match(stored.client_secret, /^v1\./, 'sealed at rest');

  const consent = new URL(await server.connect(ada));
  t.equal(consent.searchParams.get('client_id'), 'adas-own-app', 'the handshake uses her app');
  t.equal(await server.callback(ada, await server.x.approve(consent.toString(), { username: 'ada_builds' })), `${server.base}/dashboard/x?connected=ada_builds`);
  t.match((await ada.json('POST', '/api/x/verify')).body, { ok: true, account: { username: 'ada_builds' } }, 'the tenant talks to X through her app');

  t.match(await ada.json('PUT', '/api/x/app', { clientId: 'another-app' }), { status: 409, body: { error: { code: 'x_connected' } } });
  t.match(await ada.json('DELETE', '/api/x/app'), { status: 409 });
  await ada.json('DELETE', '/api/x/disconnect');
  t.match((await ada.json('DELETE', '/api/x/app')).body, { own: null, xBilling: 'plan_allowance' });
  t.equal(new URL(await server.connect(ada)).searchParams.get('client_id'), 'sandbox-x-client', 'back to the server app');
});

t.test('every X call is metered in the tenant, failures included (with their status, not charged)', async (t) => {
  const server = await startXServer();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  await server.callback(ada, await server.x.approve(await server.connect(ada), { username: 'ada_builds' }));
  server.x.inject({ status: 503, times: 1, path: /users\/me/ });
  t.equal((await ada.json('POST', '/api/x/verify')).status, 200, 'a 503 is retried for an idempotent read');
  server.x.inject({ status: 429, times: 1, path: /users\/me/, resetInSeconds: 900 });
  t.equal((await ada.json('POST', '/api/x/verify')).status, 429, 'a far rate-limit reset is not waited out');
  const tenantId = tenantOf(server, 'ada@example.com');
  await until(() => server.host.state(tenantId) === 'hibernated');
  const db = new Database(server.registry.dbPath(tenantId), { readonly: true });
  const rows = db.prepare('SELECT endpoint, status, cost_micros AS cost FROM x_spend ORDER BY id').all();
  db.close();
  t.same(rows, [
    { endpoint: 'GET /2/users/me', status: 503, cost: 0 },
    { endpoint: 'GET /2/users/me', status: 200, cost: 10_000 },
    { endpoint: 'GET /2/users/me', status: 429, cost: 0 },
  ]);
});
