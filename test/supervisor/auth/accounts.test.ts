import t from 'tap';
import { Browser } from '../../helpers/browser.js';
import { startAuthServer, type AuthServer } from '../../helpers/auth-server.js';

const PASSWORD = 'correct horse battery staple';

async function signup(server: AuthServer, email: string, password = PASSWORD): Promise<Browser> {
  const browser = new Browser(server.base);
  const response = await browser.json('POST', '/auth/signup', { email, password });
  if (response.status !== 201) throw new Error(`signup failed: ${JSON.stringify(response.body)}`);
  return browser;
}

t.test('signup creates the account and its tenant, mails a verification link and starts a session', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const browser = new Browser(server.base);
  const response = await browser.json('POST', '/auth/signup', { email: ' Ada@Example.com ', password: PASSWORD });
  t.equal(response.status, 201);
  t.equal(response.body.user.email, 'ada@example.com');
  t.equal(response.body.user.emailVerified, false);
  t.notOk('token' in response.body, 'a browser never sees its session token');
  t.ok(server.registry.get(response.body.user.tenantId), 'the tenant is registered');
  const cookie = (await fetch(`${server.base}/auth/me`, { headers: { cookie: `tuitbot_session=${browser.cookies.get('tuitbot_session')}` } })).status;
  t.equal(cookie, 200, 'the session cookie authenticates');
  const me = await browser.json('GET', '/auth/me');
  t.same(me.body.subscription, { status: 'none', plan: null });
  t.equal(server.mails.length, 1);
  t.equal(server.mails[0]!.template, 'verify_email');
  const row = server.db.prepare("SELECT password_hash FROM users WHERE email = 'ada@example.com'").get() as { password_hash: string };
  t.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'argon2id at the OWASP parameters');

  const verify = await browser.json('POST', '/auth/verify-email', { token: server.tokenFor('ada@example.com', 'verify_email') });
  t.equal(verify.status, 200);
  t.equal((await browser.json('GET', '/auth/me')).body.user.emailVerified, true);
  const replay = await browser.json('POST', '/auth/verify-email', { token: server.tokenFor('ada@example.com', 'verify_email') });
  t.equal(replay.status, 400, 'a verification link works once');
  t.equal(replay.body.error.code, 'invalid_token');
});

t.test('signup refuses bad input with field paths, common passwords and taken emails', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const browser = new Browser(server.base);
  const bad = await browser.json('POST', '/auth/signup', { email: 'not-an-email', password: 'short' });
  t.equal(bad.status, 422);
  t.ok(bad.body.error.fields.email);
  t.match(bad.body.error.fields.password, /at least 8/);
  const common = await browser.json('POST', '/auth/signup', { email: 'a@example.com', password: 'password123' });
  t.equal(common.status, 422);
  t.match(common.body.error.fields.password, /most common/);
  const long = await browser.json('POST', '/auth/signup', { email: 'a@example.com', password: 'x'.repeat(129) });
  t.match(long.body.error.fields.password, /at most 128/);
  await signup(server, 'a@example.com');
  const taken = await new Browser(server.base).json('POST', '/auth/signup', { email: 'A@example.com', password: PASSWORD });
  t.equal(taken.status, 409);
  t.equal(taken.body.error.code, 'email_taken');
});

t.test('login issues a new token each time (no fixation), logout revokes it', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const first = await signup(server, 'bo@example.com');
  const signupToken = first.cookies.get('tuitbot_session');
  const browser = new Browser(server.base);
  browser.cookies.set('tuitbot_session', 'attacker.chosen');
  const login = await browser.json('POST', '/auth/login', { email: 'bo@example.com', password: PASSWORD });
  t.equal(login.status, 200);
  const loginToken = browser.cookies.get('tuitbot_session');
  t.not(loginToken, 'attacker.chosen', 'a planted cookie is replaced');
  t.not(loginToken, signupToken);
  t.equal((await browser.json('GET', '/auth/me')).status, 200);
  t.equal((await browser.request('POST', '/auth/logout')).status, 204);
  const stale = await fetch(`${server.base}/auth/me`, { headers: { cookie: `tuitbot_session=${loginToken}` } });
  t.equal(stale.status, 401, 'a logged-out token is dead');
  t.equal((await first.json('GET', '/auth/me')).status, 200, 'other sessions live on');
});

t.test('API clients get a bearer token that works without cookies', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  await signup(server, 'api@example.com');
  const client = new Browser(server.base, null);
  const login = await client.json('POST', '/auth/login', { email: 'api@example.com', password: PASSWORD, client: 'api' });
  t.equal(login.status, 200);
  t.match(login.body.token, /^[a-z2-7]+\.[a-z2-7]+$/);
  t.equal(client.cookies.size, 0, 'no cookie for an API client');
  const me = await fetch(`${server.base}/auth/me`, { headers: { authorization: `Bearer ${login.body.token}` } });
  t.equal(me.status, 200);
  const resend = await fetch(`${server.base}/auth/verify-email/resend`, { method: 'POST', headers: { authorization: `Bearer ${login.body.token}` } });
  t.equal(resend.status, 202, 'a bearer client needs no Origin header');
  const session = server.db.prepare('SELECT secret_hash FROM sessions LIMIT 1').get() as { secret_hash: Buffer };
  t.equal(session.secret_hash.length, 32, 'only a SHA-256 of the secret is stored');
  const secret = login.body.token.split('.')[1] as string;
  const raw = server.db.prepare('SELECT count(*) AS n FROM sessions WHERE secret_hash = ? OR id = ?').get(Buffer.from(secret), secret) as { n: number };
  t.equal(raw.n, 0, 'the secret itself is stored nowhere');
});

t.test('wrong passwords and unknown emails get the same answer; brute force hits 429', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  await signup(server, 'cy@example.com');
  const browser = new Browser(server.base);
  const wrong = await browser.json('POST', '/auth/login', { email: 'cy@example.com', password: 'wrong password!' });
  const unknown = await browser.json('POST', '/auth/login', { email: 'nobody@example.com', password: 'wrong password!' });
  t.equal(wrong.status, 401);
  t.same(wrong.body, unknown.body, 'no account enumeration through login');
  for (let i = 0; i < 3; i++) await browser.json('POST', '/auth/login', { email: 'cy@example.com', password: 'wrong password!' });
  const limited = await browser.json('POST', '/auth/login', { email: 'cy@example.com', password: PASSWORD });
  t.equal(limited.status, 429, 'the 6th attempt within a minute is refused, even with the right password');
  t.equal(limited.body.error.code, 'rate_limited');
  t.ok(Number(limited.headers.get('retry-after')) > 0, 'Retry-After tells when to come back');
  const failures = server.db.prepare("SELECT count(*) AS n FROM audit_log WHERE action = 'login_failed'").get() as { n: number };
  t.equal(failures.n, 5, 'every failure is audited');
});

t.test('timing: an unknown email costs a password verification too', async (t) => {
  const { RateLimits } = await import('../../../supervisor/auth/rate-limits.js');
  const server = await startAuthServer({ overrides: { limits: new RateLimits(10) } });
  t.teardown(() => server.close());
  await signup(server, 'dee@example.com');
  const time = async (email: string) => {
    const start = performance.now();
    await new Browser(server.base).json('POST', '/auth/login', { email, password: 'wrong password!' });
    return performance.now() - start;
  };
  await time('warmup@example.com');
  const known: number[] = [];
  const unknown: number[] = [];
  // Interleaved samples and medians: the machine is shared and noisy.
  for (let i = 0; i < 7; i++) {
    known.push(await time('dee@example.com'));
    unknown.push(await time(`ghost${i}@example.com`));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  t.ok(median(unknown) > median(known) * 0.5, `median unknown ${median(unknown).toFixed(1)} ms vs known ${median(known).toFixed(1)} ms`);
});

t.test('CSRF: cookie-authenticated writes from another origin are refused', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const victim = await signup(server, 'eve@example.com');
  const token = victim.cookies.get('tuitbot_session')!;
  const attack = async (headers: Record<string, string>) =>
    fetch(`${server.base}/auth/change-email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `tuitbot_session=${token}`, ...headers },
      body: JSON.stringify({ password: PASSWORD, newEmail: 'attacker@example.com' }),
    });
  t.equal((await attack({ origin: 'https://evil.example' })).status, 403);
  t.equal((await attack({ 'sec-fetch-site': 'cross-site' })).status, 403);
  t.equal((await attack({})).status, 403, 'a cookie without any origin information is not enough');
  const sameOrigin = await attack({ origin: server.base });
  t.equal(sameOrigin.status, 202, 'the same request from our own origin works');
  const login = await fetch(`${server.base}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
    body: JSON.stringify({ email: 'eve@example.com', password: PASSWORD }),
  });
  t.equal(login.status, 403, 'no login CSRF either');
});

t.test('forgot/reset password: same answer for unknown emails, single-use token, every session revoked', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const laptop = await signup(server, 'fay@example.com');
  const phone = new Browser(server.base);
  await phone.json('POST', '/auth/login', { email: 'fay@example.com', password: PASSWORD });
  const anon = new Browser(server.base);
  const known = await anon.json('POST', '/auth/forgot-password', { email: 'fay@example.com' });
  const unknown = await anon.json('POST', '/auth/forgot-password', { email: 'nobody@example.com' });
  t.equal(known.status, 202);
  t.same(known.body, unknown.body);
  t.equal(server.mails.filter((m) => m.template === 'reset_password').length, 1, 'only a real account gets mail');
  const token = server.tokenFor('fay@example.com', 'reset_password');
  const weak = await anon.json('POST', '/auth/reset-password', { token, password: 'password' });
  t.equal(weak.status, 422, 'a refused password does not use up the token');
  const reset = await anon.json('POST', '/auth/reset-password', { token, password: 'a brand new passphrase' });
  t.equal(reset.status, 200);
  t.equal((await laptop.json('GET', '/auth/me')).status, 401, 'the laptop session is revoked');
  t.equal((await phone.json('GET', '/auth/me')).status, 401, 'the phone session is revoked');
  t.equal((await anon.json('POST', '/auth/reset-password', { token, password: 'another new passphrase' })).status, 400, 'replayed token');
  t.equal((await anon.json('POST', '/auth/login', { email: 'fay@example.com', password: PASSWORD })).status, 401);
  t.equal((await anon.json('POST', '/auth/login', { email: 'fay@example.com', password: 'a brand new passphrase' })).status, 200);
  t.ok(server.mails.some((m) => m.template === 'password_changed'), 'the owner is told');
});

t.test('an expired reset token is refused', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  await signup(server, 'gus@example.com');
  const anon = new Browser(server.base);
  await anon.json('POST', '/auth/forgot-password', { email: 'gus@example.com' });
  server.db.prepare("UPDATE user_tokens SET expires_at = ? WHERE purpose = 'reset_password'").run(Date.now() - 1);
  const expired = await anon.json('POST', '/auth/reset-password', { token: server.tokenFor('gus@example.com', 'reset_password'), password: 'a brand new passphrase' });
  t.equal(expired.status, 400);
  t.equal(expired.body.error.code, 'invalid_token');
});

t.test('sessions can be listed and revoked, only your own', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const laptop = await signup(server, 'hal@example.com');
  const phone = new Browser(server.base);
  await phone.json('POST', '/auth/login', { email: 'hal@example.com', password: PASSWORD });
  const other = await signup(server, 'ivy@example.com');
  const list = await laptop.json('GET', '/auth/sessions');
  t.equal(list.body.sessions.length, 2);
  t.equal(list.body.sessions.filter((s: { current: boolean }) => s.current).length, 1);
  const phoneSession = list.body.sessions.find((s: { current: boolean }) => !s.current);
  const foreign = (await other.json('GET', '/auth/sessions')).body.sessions[0];
  t.equal((await laptop.json('DELETE', `/auth/sessions/${foreign.id}`)).status, 404, "another user's session is not yours to see");
  t.equal((await other.json('GET', '/auth/me')).status, 200);
  t.equal((await laptop.request('DELETE', `/auth/sessions/${phoneSession.id}`)).status, 204);
  t.equal((await phone.json('GET', '/auth/me')).status, 401, 'the revoked session is rejected');
  t.equal((await laptop.json('GET', '/auth/me')).status, 200);
});

t.test('change password needs the current one, rotates the token and ends other sessions', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const laptop = await signup(server, 'jo@example.com');
  const phone = new Browser(server.base);
  await phone.json('POST', '/auth/login', { email: 'jo@example.com', password: PASSWORD });
  const before = laptop.cookies.get('tuitbot_session');
  const wrong = await laptop.json('POST', '/auth/change-password', { currentPassword: 'not it at all', newPassword: 'the next passphrase' });
  t.equal(wrong.status, 403);
  const changed = await laptop.json('POST', '/auth/change-password', { currentPassword: PASSWORD, newPassword: 'the next passphrase' });
  t.equal(changed.status, 200);
  t.not(laptop.cookies.get('tuitbot_session'), before, 'a new token after a privilege change');
  t.equal((await laptop.json('GET', '/auth/me')).status, 200);
  t.equal((await phone.json('GET', '/auth/me')).status, 401);
});

t.test('change email verifies the new address and tells the old one', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const browser = await signup(server, 'kim@example.com');
  await signup(server, 'taken@example.com');
  t.equal((await browser.json('POST', '/auth/change-email', { password: PASSWORD, newEmail: 'taken@example.com' })).status, 409);
  t.equal((await browser.json('POST', '/auth/change-email', { password: 'wrong password!', newEmail: 'new@example.com' })).status, 403);
  const requested = await browser.json('POST', '/auth/change-email', { password: PASSWORD, newEmail: 'New@Example.com' });
  t.equal(requested.status, 202);
  t.equal((await browser.json('GET', '/auth/me')).body.user.email, 'kim@example.com', 'nothing changes until the new address confirms');
  const confirm = await browser.json('POST', '/auth/verify-email', { token: server.tokenFor('new@example.com', 'change_email') });
  t.equal(confirm.status, 200);
  t.equal(confirm.body.emailChanged, true);
  const me = await browser.json('GET', '/auth/me');
  t.equal(me.body.user.email, 'new@example.com');
  t.equal(me.body.user.emailVerified, true);
  t.ok(server.mails.some((m) => m.to === 'kim@example.com' && m.template === 'email_changed'), 'the old address is told');
});

t.test('deleting the account needs the password, stops the tenant, schedules the purge and mails a confirmation', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const browser = await signup(server, 'lu@example.com');
  const me = (await browser.json('GET', '/auth/me')).body.user;
  await server.host.request(me.tenantId, 'ping', undefined, 20_000);
  t.equal((await browser.json('DELETE', '/auth/account', { password: 'wrong password!' })).status, 403);
  const deleted = await browser.json('DELETE', '/auth/account', { password: PASSWORD });
  t.equal(deleted.status, 200);
  t.ok(deleted.body.purgeAfter > Date.now() + 29 * 24 * 3600 * 1000, 'the purge is ~30 days away');
  t.equal((await browser.json('GET', '/auth/me')).status, 401, 'the session died with the account');
  t.equal(server.registry.get(me.tenantId)!.status, 'stopped');
  await t.rejects(server.host.request(me.tenantId, 'ping', undefined, 2_000), { code: 'tenant_stopped' });
  t.ok(server.mails.some((m) => m.to === 'lu@example.com' && m.template === 'account_deleted'));
  t.equal((await new Browser(server.base).json('POST', '/auth/login', { email: 'lu@example.com', password: PASSWORD })).status, 401);
  t.equal((await new Browser(server.base).json('POST', '/auth/signup', { email: 'lu@example.com', password: PASSWORD })).status, 201, 'the address is free again');

  const { purgeDeletedAccounts } = await import('../../../supervisor/auth/purge.js');
  t.same(purgeDeletedAccounts(server.db, server.registry, Date.now()), [], 'nothing is purged before its date');
  t.same(purgeDeletedAccounts(server.db, server.registry, Date.now() + 31 * 24 * 3600 * 1000), [me.id]);
  t.notOk(server.registry.get(me.tenantId), 'the tenant is gone');
  const { existsSync } = await import('node:fs');
  t.notOk(existsSync(server.registry.dbPath(me.tenantId)), 'and so is its data file');
});

t.test('self-host: the first account is admin, then registration is closed', async (t) => {
  const server = await startAuthServer({ overrides: { mode: 'self-host', registration: 'closed' } });
  t.teardown(() => server.close());
  const admin = await signup(server, 'owner@example.com');
  t.equal((await admin.json('GET', '/auth/me')).body.user.role, 'admin');
  const second = await new Browser(server.base).json('POST', '/auth/signup', { email: 'guest@example.com', password: PASSWORD });
  t.equal(second.status, 403);
  t.equal(second.body.error.code, 'registration_closed');
});

t.test('unauthenticated calls to account routes get 401 in the envelope', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  const anon = new Browser(server.base);
  for (const [method, path] of [
    ['GET', '/auth/me'],
    ['GET', '/auth/sessions'],
    ['POST', '/auth/verify-email/resend'],
    ['POST', '/auth/change-password'],
    ['POST', '/auth/change-email'],
    ['DELETE', '/auth/account'],
  ] as const) {
    const response = await anon.json(method, path, method === 'GET' ? undefined : {});
    t.equal(response.status, 401, `${method} ${path}`);
    t.equal(response.body.error.code, 'unauthenticated');
  }
});

t.test('self-host with REGISTRATION=invite: a single-use invitation, bound to its address, is required', async (t) => {
  const server = await startAuthServer({ overrides: { mode: 'self-host', registration: 'invite' } });
  t.teardown(() => server.close());
  await signup(server, 'owner@example.com');
  const { createInvite } = await import('../../../supervisor/auth/invites.js');
  const anon = new Browser(server.base);
  const none = await anon.json('POST', '/auth/signup', { email: 'guest@example.com', password: PASSWORD });
  t.equal(none.status, 403);
  t.equal(none.body.error.code, 'invite_required');
  const bound = createInvite(server.db, 'friend@example.com');
  const stolen = await anon.json('POST', '/auth/signup', { email: 'guest@example.com', password: PASSWORD, invite: bound });
  t.equal(stolen.status, 403);
  t.equal(stolen.body.error.code, 'invalid_invite');
  t.equal((server.db.prepare("SELECT count(*) AS n FROM users WHERE email = 'guest@example.com'").get() as { n: number }).n, 0, 'nothing was created');
  const ok = await anon.json('POST', '/auth/signup', { email: 'Friend@example.com', password: PASSWORD, invite: bound });
  t.equal(ok.status, 201);
  t.equal(ok.body.user.role, 'user');
  const again = await new Browser(server.base).json('POST', '/auth/signup', { email: 'friend2@example.com', password: PASSWORD, invite: bound });
  t.equal(again.body.error.code, 'invalid_invite', 'an invitation works once');
});

t.test('a password hashed with older parameters is rehashed at the next login', async (t) => {
  const server = await startAuthServer();
  t.teardown(() => server.close());
  await signup(server, 'old@example.com');
  const argon2 = (await import('argon2')).default;
  const legacy = await argon2.hash(PASSWORD, { type: argon2.argon2id, memoryCost: 4096, timeCost: 3, parallelism: 1 });
  server.db.prepare("UPDATE users SET password_hash = ? WHERE email = 'old@example.com'").run(legacy);
  t.equal((await new Browser(server.base).json('POST', '/auth/login', { email: 'old@example.com', password: PASSWORD })).status, 200);
  const stored = (server.db.prepare("SELECT password_hash AS h FROM users WHERE email = 'old@example.com'").get() as { h: string }).h;
  t.match(stored, /\$m=19456,t=2,p=1\$/, 'the stored hash now uses the current parameters');
  t.equal((await new Browser(server.base).json('POST', '/auth/login', { email: 'old@example.com', password: PASSWORD })).status, 200, 'and still verifies');
});
