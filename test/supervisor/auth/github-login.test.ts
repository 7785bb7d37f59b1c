// "Log in with GitHub" end to end: the real HTTP layer, RequestAuth, RateLimits and a real SQLite
// management DB, against the fake GitHub on loopback, driven like a browser (manual redirects,
// cookies carried by hand with their Path).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openDatabase } from '../../../migrations/runner.js';
import { startFakeGitHub, type FakeGitHub, type FakeGitHubUser } from '../../../sandbox/github.js';
import type { GitHubSettings } from '../../../supervisor/auth/github.js';
import { RateLimits } from '../../../supervisor/auth/rate-limits.js';
import { RequestAuth, SESSION_COOKIE } from '../../../supervisor/auth/request-auth.js';
import { createUser, type UserRow } from '../../../supervisor/auth/users.js';
import { Router } from '../../../supervisor/http/router.js';
import { createHttpServer, type Handler } from '../../../supervisor/http/server.js';
import { addAuthRoutes, type Registration } from '../../../supervisor/routes/auth.js';
import { addGitHubRoutes, isGitHubLoginEnabled } from '../../../supervisor/routes/github.js';
import type { TenantHost } from '../../../supervisor/tenants/host.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { captureLog, tempDataDir } from '../../helpers/tenants.js';

const ALICE: FakeGitHubUser = { id: 1001, login: 'alice', emails: [{ email: 'alice@example.com', primary: true, verified: true }] };
const BOB: FakeGitHubUser = { id: 1002, login: 'bob', emails: [{ email: 'bob@example.com', primary: true, verified: true }] };
const CAROL_UNVERIFIED: FakeGitHubUser = { id: 1003, login: 'carol', emails: [{ email: 'carol@example.com', primary: true, verified: false }] };
const DAVE_SECONDARY: FakeGitHubUser = {
  id: 1004,
  login: 'dave',
  emails: [
    { email: 'dave-new@example.com', primary: true, verified: false },
    { email: 'dave@example.com', primary: false, verified: true },
  ],
};
const USERS = [ALICE, BOB, CAROL_UNVERIFIED, DAVE_SECONDARY];

/** A cookie jar that honours Path, as a browser does. */
class Jar {
  readonly cookies = new Map<string, { value: string; path: string; raw: string }>();

  header(path: string): string {
    return [...this.cookies]
      .filter(([, c]) => path === c.path || path.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((s) => s.trim());
      const [name, ...rest] = pair!.split('=');
      const value = rest.join('=');
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      if (value === '' || attributes.some((a) => /^max-age=0$/i.test(a))) this.cookies.delete(name!);
      else this.cookies.set(name!, { value, path, raw: line });
    }
  }
}

interface App {
  base: string;
  db: ReturnType<typeof openDatabase>;
  logs: Record<string, unknown>[];
  get(jar: Jar, pathAndQuery: string): Promise<Response>;
  users(): UserRow[];
  identities(): { provider_user_id: string; user_id: string; email: string | null }[];
  audits(action: string): { user_id: string | null; detail: string | null }[];
  sessionsOf(userId: string): number;
}

async function startApp(
  t: Test,
  options: { github: GitHubSettings | null; mode?: 'sandbox' | 'self-host' | 'cloud'; registration?: Registration; limitFactor?: number },
): Promise<App> {
  const dir = tempDataDir('tuitbot-github-');
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, dir);
  const { log, logs } = captureLog();
  const auth = new RequestAuth(db, null);
  const limits = new RateLimits(options.limitFactor ?? 100);
  const mode = options.mode ?? 'sandbox';
  const registration = options.registration ?? 'open';
  let base = '';
  const router = new Router<Handler>();
  addAuthRoutes(router, {
    db,
    registry,
    host: { stop() {} } as unknown as TenantHost,
    auth,
    limits,
    mail: { queue() {}, flush() {} },
    secondFactor: { verify: async () => null },
    log,
    appUrl: () => base,
    mode,
    registration,
  });
  addGitHubRoutes(router, { db, registry, auth, limits, github: options.github, appUrl: () => base, mode, registration });
  const http = createHttpServer({ router, log, maxBodyBytes: 65_536, bodyTimeoutMs: 5_000 });
  const port = await http.listen('127.0.0.1', 0);
  base = `http://127.0.0.1:${port}`;
  t.teardown(() => {
    http.stopListening();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    base,
    db,
    logs,
    async get(jar, pathAndQuery) {
      const cookie = jar.header(pathAndQuery.split('?')[0]!);
      const res = await fetch(`${base}${pathAndQuery}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
      jar.store(res);
      return res;
    },
    users: () => db.prepare<[], UserRow>('SELECT * FROM users ORDER BY created_at').all(),
    identities: () => db.prepare<[], { provider_user_id: string; user_id: string; email: string | null }>("SELECT * FROM oauth_identities WHERE provider = 'github'").all(),
    audits: (action) => db.prepare<[string], { user_id: string | null; detail: string | null }>('SELECT user_id, detail FROM audit_log WHERE action = ? ORDER BY id').all(action),
    sessionsOf: (userId) => db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM sessions WHERE user_id = ?').get(userId)!.n,
  };
}

const settingsFor = (fake: FakeGitHub, overrides: Partial<GitHubSettings> = {}): GitHubSettings => ({
  ...fake.settings,
  timeoutMs: 2_000,
  ...overrides,
});

interface Flow {
  start: Response;
  callback: URL;
  done: Response;
  location: string;
}

/** Click "Log in with GitHub", (GitHub answers for `login`), land back on the callback. */
async function githubLogin(app: App, jar: Jar, options: { login?: string; startPath?: string; beforeCallback?: (callback: URL) => void | Promise<void> } = {}): Promise<Flow> {
  const start = await app.get(jar, options.startPath ?? '/auth/github');
  if (start.status !== 302) throw new Error(`/auth/github answered ${start.status}: ${await start.text()}`);
  const authorize = new URL(start.headers.get('location')!);
  if (options.login) authorize.searchParams.set('login', options.login);
  const atGitHub = await fetch(authorize, { redirect: 'manual' });
  const callback = new URL(atGitHub.headers.get('location')!);
  await options.beforeCallback?.(callback);
  const done = await app.get(jar, `${callback.pathname}${callback.search}`);
  return { start, callback, done, location: done.headers.get('location') ?? '' };
}

async function me(app: App, jar: Jar): Promise<{ status: number; body: any }> {
  const res = await app.get(jar, '/auth/me');
  return { status: res.status, body: await res.json() };
}

/** A refused login: a plain error redirect, no body, no session cookie, no flow cookies left. */
async function assertRefused(t: Test, flow: Flow, jar: Jar, code: string): Promise<void> {
  t.equal(flow.done.status, 302);
  t.equal(flow.location, `/login?error=${code}`);
  t.equal(await flow.done.text(), '', 'no body, so no stack trace');
  t.notOk(jar.cookies.has(SESSION_COOKIE), 'no session cookie');
  t.notOk([...jar.cookies.keys()].some((k) => k.startsWith('tuitbot_github_')), 'flow cookies cleared');
}

t.test('GitHub login', async (t) => {
  const fake = await startFakeGitHub({ users: USERS });
  t.teardown(() => fake.close());

  t.test('a new GitHub user gets a verified, password-less account and a session that works', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    const jar = new Jar();
    let stateCookie: string | undefined;
    const flow = await githubLogin(app, jar, {
      login: 'alice',
      startPath: '/auth/github?next=https://evil.example/',
      beforeCallback: () => void (stateCookie = jar.cookies.get('tuitbot_github_state')?.value),
    });

    const flowCookies = flow.start.headers.getSetCookie();
    t.match(flowCookies, [/^tuitbot_github_state=/, /^tuitbot_github_verifier=/], 'state and verifier cookies');
    for (const cookie of flowCookies) {
      t.match(cookie, /; HttpOnly/i);
      t.match(cookie, /; SameSite=Lax/i);
      t.match(cookie, /; Path=\/auth\/github(;|$)/);
      t.match(cookie, /; Max-Age=600/);
    }
    const authorize = new URL(flow.start.headers.get('location')!);
    t.equal(authorize.searchParams.get('state'), stateCookie, 'the state sent to GitHub is the one in the cookie');
    t.equal(authorize.searchParams.get('redirect_uri'), `${app.base}/auth/github/callback`);
    t.notMatch(authorize.href, /evil/);

    t.equal(flow.done.status, 302);
    t.equal(flow.location, '/dashboard', '?next= is ignored: always the dashboard');
    t.ok(jar.cookies.has(SESSION_COOKIE));
    t.notOk(jar.cookies.has('tuitbot_github_state'), 'state cookie cleared');
    t.notOk(jar.cookies.has('tuitbot_github_verifier'), 'verifier cookie cleared');

    const [user] = app.users();
    t.match(user, { email: 'alice@example.com', password_hash: null, role: 'user' });
    t.ok(user!.email_verified_at, 'email verified, because GitHub verified it');
    t.match(app.identities(), [{ provider_user_id: '1001', user_id: user!.id, email: 'alice@example.com' }]);
    t.equal(app.identities().length, 1);
    t.equal(app.audits('signup').length, 1);
    t.match(JSON.parse(app.audits('signup')[0]!.detail!), { method: 'github', githubLogin: 'alice' });

    const who = await me(app, jar);
    t.equal(who.status, 200, 'the session opens a protected route');
    t.match(who.body.user, { id: user!.id, email: 'alice@example.com', emailVerified: true, hasPassword: false });
  });

  t.test('a second login finds the identity, even after the GitHub email changed', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    await githubLogin(app, new Jar(), { login: 'bob' });
    const [first] = app.users();
    fake.putUser({ ...BOB, emails: [{ email: 'bob-renamed@example.com', primary: true, verified: true }] });
    t.teardown(() => fake.putUser(BOB));

    const jar = new Jar();
    const flow = await githubLogin(app, jar, { login: 'bob' });
    t.equal(flow.location, '/dashboard');
    t.equal(app.users().length, 1, 'no second account');
    t.equal((await me(app, jar)).body.user.id, first!.id);
    t.match(JSON.parse(app.audits('login').at(-1)!.detail!), { method: 'github' });
  });

  t.test('an existing password account with the same verified email is linked and logged in', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    const existing = createUser(app.db, new TenantRegistry(app.db, '/nonexistent'), { email: 'Alice@Example.com', passwordHash: '$argon2id$placeholder', emailVerified: true });
    const jar = new Jar();
    const flow = await githubLogin(app, jar, { login: 'alice' });
    t.equal(flow.location, '/dashboard');
    t.equal(app.users().length, 1, 'no new account');
    t.match(app.identities(), [{ provider_user_id: '1001', user_id: existing.id }]);
    t.match(app.audits('oauth_linked'), [{ user_id: existing.id }]);
    const who = await me(app, jar);
    t.match(who.body.user, { id: existing.id, hasPassword: true });
  });

  t.test('an existing account and an UNVERIFIED GitHub email: no link, no account, an error', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    const existing = createUser(app.db, new TenantRegistry(app.db, '/nonexistent'), { email: 'carol@example.com', passwordHash: 'x', emailVerified: true });
    const jar = new Jar();
    await assertRefused(t, await githubLogin(app, jar, { login: 'carol' }), jar, 'github_email_unverified');
    t.same(app.identities(), []);
    t.equal(app.users().length, 1);
    t.equal(app.sessionsOf(existing.id), 0);
  });

  t.test('a verified secondary address does not count: only the primary', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    createUser(app.db, new TenantRegistry(app.db, '/nonexistent'), { email: 'dave@example.com', passwordHash: 'x', emailVerified: true });
    const jar = new Jar();
    await assertRefused(t, await githubLogin(app, jar, { login: 'dave' }), jar, 'github_email_unverified');
    t.same(app.identities(), []);
  });

  t.test('no verified primary email and no account: nothing is created', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    const jar = new Jar();
    await assertRefused(t, await githubLogin(app, jar, { login: 'carol' }), jar, 'github_email_unverified');
    t.same(app.users(), []);
    t.match(app.logs.find((l) => l['msg'] === 'GitHub login refused'), { level: 40, code: 'github_email_unverified', reason: /no primary verified email/ }, 'the reason is logged at warn');
  });

  t.test('an account that never verified its own email is not linked (pre-registration takeover)', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    const squatter = createUser(app.db, new TenantRegistry(app.db, '/nonexistent'), { email: 'alice@example.com', passwordHash: 'x' });
    const jar = new Jar();
    await assertRefused(t, await githubLogin(app, jar, { login: 'alice' }), jar, 'account_email_unverified');
    t.same(app.identities(), []);
    t.equal(app.sessionsOf(squatter.id), 0);
  });

  t.test('an account already linked to another GitHub user is not linked again', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    await githubLogin(app, new Jar(), { login: 'alice' });
    fake.putUser({ id: 1999, login: 'alice-2', emails: [{ email: 'alice@example.com', primary: true, verified: true }] });
    const jar = new Jar();
    await assertRefused(t, await githubLogin(app, jar, { login: 'alice-2' }), jar, 'github_other_account');
    t.equal(app.identities().length, 1);
  });

  t.test('state: a mismatch, a missing cookie and a replayed callback are refused without a session', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });

    const tampered = new Jar();
    await assertRefused(t, await githubLogin(app, tampered, { login: 'alice', beforeCallback: (cb) => void cb.searchParams.set('state', 'forged') }), tampered, 'github_state');

    const stranger = new Jar();
    let stolen = '';
    const missing = await githubLogin(app, new Jar(), {
      login: 'alice',
      beforeCallback: (cb) => void (stolen = `${cb.pathname}${cb.search}`),
    });
    t.equal(missing.location, '/dashboard', 'the real browser logged in');
    const replayedElsewhere = await app.get(stranger, stolen);
    t.equal(replayedElsewhere.headers.get('location'), '/login?error=github_state', 'a callback URL without its state cookie is refused');

    // The same browser replays its callback: the flow cookies are gone.
    const jar = new Jar();
    let callbackPath = '';
    let savedCookies = '';
    const first = await githubLogin(app, jar, {
      login: 'bob',
      beforeCallback: (cb) => {
        callbackPath = `${cb.pathname}${cb.search}`;
        savedCookies = jar.header('/auth/github/callback');
      },
    });
    t.equal(first.location, '/dashboard');
    jar.cookies.delete(SESSION_COOKIE);
    const replay = await app.get(jar, callbackPath);
    t.equal(replay.headers.get('location'), '/login?error=github_state');

    // Even with the old flow cookies put back by hand, GitHub's code works once.
    const forcedReplay = await fetch(`${app.base}${callbackPath}`, { redirect: 'manual', headers: { cookie: savedCookies } });
    t.equal(forcedReplay.headers.get('location'), '/login?error=github_failed');
    t.equal(forcedReplay.headers.getSetCookie().filter((c) => c.startsWith(`${SESSION_COOKIE}=`)).length, 0, 'no session');
    t.equal(app.users().length, 2);
  });

  t.test('the user pressing Cancel on GitHub (error=access_denied)', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    fake.setCurrentUser(null);
    t.teardown(() => fake.setCurrentUser(ALICE.id));
    const jar = new Jar();
    const flow = await githubLogin(app, jar);
    t.equal(flow.callback.searchParams.get('error'), 'access_denied');
    await assertRefused(t, flow, jar, 'github_denied');
    t.same(app.users(), []);
  });

  t.test('GitHub refusing the token exchange (wrong client secret)', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake, { clientSecret: 'not-the-secret' }) });
    const jar = new Jar();
    const flow = await githubLogin(app, jar, { login: 'alice' });
    await assertRefused(t, flow, jar, 'github_failed');
    t.match(app.logs.find((l) => l['msg'] === 'GitHub login refused'), { level: 40, reason: /incorrect_client_credentials/ });
    t.same(app.users(), []);
  });

  t.test('GitHub down between the two steps, or too slow', async (t) => {
    const flaky = await startFakeGitHub({ users: USERS });
    const app = await startApp(t, { github: settingsFor(flaky, { timeoutMs: 300 }) });

    const slowJar = new Jar();
    const started = Date.now();
    const slow = await githubLogin(app, slowJar, { login: 'alice', beforeCallback: () => flaky.setLatency(2_000) });
    await assertRefused(t, slow, slowJar, 'github_unavailable');
    t.ok(Date.now() - started < 1_500, 'the callback gave up at the timeout');
    flaky.setLatency(0);

    const jar = new Jar();
    const flow = await githubLogin(app, jar, { login: 'alice', beforeCallback: () => flaky.close() });
    await assertRefused(t, flow, jar, 'github_unavailable');
    t.notMatch(flow.location, /Error|at /);
    t.same(app.users(), []);
  });

  t.test('self-host: the first GitHub account is admin, then registration is closed', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake), mode: 'self-host', registration: 'closed' });
    t.equal((await githubLogin(app, new Jar(), { login: 'alice' })).location, '/dashboard');
    t.match(app.users(), [{ email: 'alice@example.com', role: 'admin' }]);

    const jar = new Jar();
    await assertRefused(t, await githubLogin(app, jar, { login: 'bob' }), jar, 'registration_closed');
    t.equal(app.users().length, 1, 'no new account');
    t.equal((await githubLogin(app, new Jar(), { login: 'alice' })).location, '/dashboard', 'existing accounts still log in');

    const invite = await startApp(t, { github: settingsFor(fake), mode: 'self-host', registration: 'invite' });
    await githubLogin(invite, new Jar(), { login: 'alice' });
    t.equal((await githubLogin(invite, new Jar(), { login: 'bob' })).location, '/login?error=registration_closed', 'an invite cannot ride on GitHub');

    const open = await startApp(t, { github: settingsFor(fake), mode: 'self-host', registration: 'open' });
    await githubLogin(open, new Jar(), { login: 'alice' });
    t.equal((await githubLogin(open, new Jar(), { login: 'bob' })).location, '/dashboard');
    t.match(open.users(), [{ role: 'admin' }, { email: 'bob@example.com', role: 'user' }]);
  });

  t.test('a deleted account is never logged in through its stale identity', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    await githubLogin(app, new Jar(), { login: 'alice' });
    const [gone] = app.users();
    // What DELETE /auth/account does, except that the identity row is left behind.
    app.db.prepare("UPDATE users SET deleted_at = ?, purge_after = ?, email = id || '@deleted.invalid' WHERE id = ?").run(Date.now(), Date.now() + 1e9, gone!.id);
    app.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(gone!.id);

    const jar = new Jar();
    const flow = await githubLogin(app, jar, { login: 'alice' });
    t.equal(flow.location, '/dashboard', 'a fresh account, as for a new user');
    t.equal(app.sessionsOf(gone!.id), 0, 'no session for the deleted account');
    const who = await me(app, jar);
    t.not(who.body.user.id, gone!.id);
    t.match(app.identities(), [{ provider_user_id: '1001', user_id: who.body.user.id }]);
  });

  t.test('an account with 2FA still asks for its second factor', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake) });
    await githubLogin(app, new Jar(), { login: 'bob' });
    const [user] = app.users();
    app.db.prepare('UPDATE users SET totp_enabled_at = ? WHERE id = ?').run(Date.now(), user!.id);
    app.db.prepare('DELETE FROM sessions WHERE user_id = ?').run(user!.id);
    const jar = new Jar();
    const flow = await githubLogin(app, jar, { login: 'bob' });
    t.match(flow.location, /^\/login\?two_factor=1#challenge=[a-z2-7]{32}$/);
    t.notOk(jar.cookies.has(SESSION_COOKIE));
    t.equal(app.sessionsOf(user!.id), 0);
  });

  t.test('the oauth_ip rate limit answers with a redirect', async (t) => {
    const app = await startApp(t, { github: settingsFor(fake), limitFactor: 0.1 });
    const jar = new Jar();
    t.equal((await app.get(jar, '/auth/github')).status, 302);
    const limited = await app.get(jar, '/auth/github');
    t.equal(limited.headers.get('location'), '/login?error=rate_limited');
  });

  t.test('not configured: both routes answer 404 github_not_configured', async (t) => {
    const app = await startApp(t, { github: null });
    t.equal(isGitHubLoginEnabled(null), false);
    t.equal(isGitHubLoginEnabled(settingsFor(fake)), true);
    for (const path of ['/auth/github', '/auth/github/callback?code=x&state=y']) {
      const res = await app.get(new Jar(), path);
      t.equal(res.status, 404);
      t.match(await res.json(), { error: { code: 'github_not_configured' } });
    }
  });
});
