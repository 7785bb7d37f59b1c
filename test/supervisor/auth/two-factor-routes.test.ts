/** The /auth/2fa routes over real HTTP, on real SQLite in a temp dir. */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { openDatabase } from '../../../migrations/runner.js';
import { hashPassword } from '../../../supervisor/auth/passwords.js';
import { RateLimits } from '../../../supervisor/auth/rate-limits.js';
import { RequestAuth } from '../../../supervisor/auth/request-auth.js';
import { createSecondFactor } from '../../../supervisor/auth/second-factor.js';
import { createSession } from '../../../supervisor/auth/sessions.js';
import { totpCode, totpStep } from '../../../supervisor/auth/totp.js';
import { createUser, findUserById } from '../../../supervisor/auth/users.js';
import { json } from '../../../supervisor/http/reply.js';
import { Router } from '../../../supervisor/http/router.js';
import { createHttpServer, type Handler } from '../../../supervisor/http/server.js';
import type { MailQueue } from '../../../supervisor/routes/auth.js';
import { addTwoFactorRoutes } from '../../../supervisor/routes/two-factor.js';
import { keyringOf, SecretBox } from '../../../protocol/secret-box.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { tempDataDir } from '../../helpers/tenants.js';

const PASSWORD = 'correct horse battery staple';
const passwordHash = hashPassword(PASSWORD);

interface QueuedMail {
  to: string;
  template: string;
  data: Record<string, unknown>;
}

async function startServer(t: Test) {
  const dir = tempDataDir('tuitbot-2fa-');
  const dbPath = join(dir, 'management.db');
  const db = openDatabase(dbPath, 'management');
  const registry = new TenantRegistry(db, dir);
  const secrets = new SecretBox(keyringOf(new Uint8Array(randomBytes(32))));
  const auth = new RequestAuth(db, null);
  const mails: QueuedMail[] = [];
  let flushed = 0;
  const mail: MailQueue = { queue: (m) => void mails.push(m), flush: () => void flushed++ };
  const router = new Router<Handler>();
  addTwoFactorRoutes(router, { db, auth, limits: new RateLimits(), mail, secrets, secondFactor: createSecondFactor({ db, secrets }) });
  // Stands in for /auth/me: does a token still open a session?
  router.add('GET', '/whoami', (ctx) => json(200, { id: auth.require(ctx).user.id }));
  const http = createHttpServer({ router, log: pino({ level: 'silent' }), maxBodyBytes: 65_536, bodyTimeoutMs: 5_000 });
  const port = await http.listen('127.0.0.1', 0);
  const base = `http://127.0.0.1:${port}`;
  t.teardown(() => {
    http.stopListening();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function newUser(email: string, options: { password?: boolean } = {}) {
    const user = createUser(db, registry, { email, passwordHash: options.password === false ? null : await passwordHash, emailVerified: true });
    return { user, token: createSession(db, user.id).token };
  }

  async function post(path: string, token: string | null, body: unknown = {}, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: base,
        ...(token !== null && { cookie: `tuitbot_session=${token}` }),
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, any> };
  }

  async function works(token: string, via: 'cookie' | 'bearer' = 'cookie') {
    const headers: Record<string, string> = via === 'cookie' ? { cookie: `tuitbot_session=${token}` } : { authorization: `Bearer ${token}` };
    return (await fetch(`${base}/whoami`, { headers })).status === 200;
  }

  return { db, dir, dbPath, base, secrets, mails, flushed: () => flushed, newUser, post, works };
}

const seedOf = (secret: string) => decodeBase32IgnorePadding(secret);
const codeNow = (secret: string) => totpCode(seedOf(secret), totpStep());
/** A well-formed code that is certainly not valid around now. */
function wrongCode(secret: string, attempt = 0): string {
  const step = totpStep();
  const valid = new Set([-1, 0, 1].map((d) => totpCode(seedOf(secret), step + d)));
  for (let n = 100_000 + attempt * 7; ; n++) if (!valid.has(String(n))) return String(n);
}
const cookieToken = (headers: Headers) => /tuitbot_session=([^;]*)/.exec(headers.get('set-cookie') ?? '')?.[1];

t.test('turning 2FA on: setup, a wrong code, the right code', async (t) => {
  const s = await startServer(t);
  const { user, token } = await s.newUser('ada@example.com');
  const other = createSession(s.db, user.id).token;

  const setup = await s.post('/auth/2fa/setup', token, { password: PASSWORD });
  t.equal(setup.status, 200);
  t.match(setup.body, { secret: /^[A-Z2-7]{32}$/, uri: /^otpauth:\/\/totp\/TuitBot:ada%40example\.com\?/ });
  t.equal(new URL(setup.body.uri).searchParams.get('secret'), setup.body.secret);
  t.equal(setup.headers.get('cache-control'), 'no-store', 'the seed is never cached');
  t.equal(findUserById(s.db, user.id)!.totp_enabled_at, null, 'still off until a code proves the app has the seed');

  const secret: string = setup.body.secret;
  const wrong = await s.post('/auth/2fa/enable', token, { code: wrongCode(secret) });
  t.equal(wrong.status, 422);
  t.match(wrong.body, { error: { code: 'invalid_code', fields: { code: String } } });
  t.equal(findUserById(s.db, user.id)!.totp_enabled_at, null, 'nothing enabled');
  t.equal(s.db.prepare('SELECT count(*) AS n FROM recovery_codes').pluck().get(), 0);
  t.ok(await s.works(other), 'no session revoked');

  const code = codeNow(secret);
  const enabled = await s.post('/auth/2fa/enable', token, { code });
  t.equal(enabled.status, 200);
  t.match(enabled.body, { user: { id: user.id, twoFactorEnabled: true }, session: { id: String } });
  t.notOk('token' in enabled.body, 'a cookie caller gets its token as a cookie only');
  const codes: string[] = enabled.body.recoveryCodes;
  t.equal(codes.length, 10);
  t.equal(new Set(codes).size, 10);
  const fresh = cookieToken(enabled.headers);
  t.ok(fresh && fresh !== token, 'a new session cookie');
  t.notOk(await s.works(token), "the caller's old token is revoked");
  t.notOk(await s.works(other), 'every other session is revoked');
  t.ok(await s.works(fresh!), 'the new token works');
  t.match(s.mails, [{ to: 'ada@example.com', template: 'two_factor_changed', data: { enabled: true } }]);
  t.equal(s.flushed(), 1);
  t.match(
    s.db.prepare('SELECT action FROM audit_log WHERE user_id = ? ORDER BY id').pluck().all(user.id),
    ['two_factor_enabled'],
  );
  const row = findUserById(s.db, user.id)!;
  t.ok(row.totp_last_step! >= totpStep() - 1, 'the step of the enabling code is recorded');
  const hashes = s.db.prepare<[string], Uint8Array>('SELECT code_hash FROM recovery_codes WHERE user_id = ?').pluck().all(user.id);
  t.equal(hashes.length, 10);
  t.notOk(hashes.some((hash) => codes.includes(Buffer.from(hash).toString())), 'only hashes are stored');

  t.test('the recovery codes are shown once: setup and enable now answer 409', async (t) => {
    const again = await s.post('/auth/2fa/setup', fresh!, { password: PASSWORD });
    t.equal(again.status, 409);
    t.match(again.body, { error: { code: 'two_factor_on' } });
    const reenable = await s.post('/auth/2fa/enable', fresh!, { code: codeNow(secret) });
    t.equal(reenable.status, 409);
    t.equal(findUserById(s.db, user.id)!.totp_secret, row.totp_secret, 'the seed in use is untouched');
  });

  t.test('the enabling TOTP code cannot be replayed', async (t) => {
    const replay = await s.post('/auth/2fa/disable', fresh!, { password: PASSWORD, code });
    t.equal(replay.status, 422);
    t.match(replay.body, { error: { code: 'invalid_code' } });
    t.ok(findUserById(s.db, user.id)!.totp_enabled_at, 'still on');
  });

  t.test('the plaintext seed never reaches the database files', async (t) => {
    const files = [s.dbPath, `${s.dbPath}-wal`].map((path) => {
      try {
        return readFileSync(path);
      } catch {
        return Buffer.alloc(0);
      }
    });
    t.ok(files[0]!.length + files[1]!.length > 0);
    const raw = Buffer.from(seedOf(secret));
    for (const [i, bytes] of files.entries()) {
      t.equal(bytes.indexOf(secret), -1, `no base32 seed in file ${i}`);
      t.equal(bytes.indexOf(secret.toLowerCase()), -1, `no lower-case base32 seed in file ${i}`);
      t.equal(bytes.indexOf(raw), -1, `no raw seed bytes in file ${i}`);
      for (const recovery of codes) t.equal(bytes.indexOf(recovery.replace(/-/g, '')), -1);
    }
  });
});

t.test('turning 2FA off needs the password; it clears the seed and the codes and sends mail', async (t) => {
  const s = await startServer(t);
  const { user, token: first } = await s.newUser('bob@example.com');
  const { secret } = (await s.post('/auth/2fa/setup', first, { password: PASSWORD })).body;
  const on = await s.post('/auth/2fa/enable', first, { code: codeNow(secret) });
  const token = cookieToken(on.headers)!;

  const wrong = await s.post('/auth/2fa/disable', token, { password: 'not the password' });
  t.equal(wrong.status, 403);
  t.match(wrong.body, { error: { code: 'invalid_password' } });
  const missing = await s.post('/auth/2fa/disable', token, {});
  t.equal(missing.status, 403);
  t.ok(findUserById(s.db, user.id)!.totp_enabled_at);

  const off = await s.post('/auth/2fa/disable', token, { password: PASSWORD });
  t.equal(off.status, 200);
  t.match(off.body, { user: { twoFactorEnabled: false } });
  const row = findUserById(s.db, user.id)!;
  t.same([row.totp_secret, row.totp_enabled_at, row.totp_last_step], [null, null, null]);
  t.equal(s.db.prepare('SELECT count(*) FROM recovery_codes WHERE user_id = ?').pluck().get(user.id), 0);
  t.match(s.mails.at(-1), { to: 'bob@example.com', template: 'two_factor_changed', data: { enabled: false } });
  t.match(s.db.prepare('SELECT action FROM audit_log WHERE user_id = ? ORDER BY id DESC LIMIT 1').pluck().get(user.id), 'two_factor_disabled');
  t.ok(await s.works(token), 'the session stays');

  const again = await s.post('/auth/2fa/disable', token, { password: PASSWORD });
  t.equal(again.status, 409);
  t.match(again.body, { error: { code: 'two_factor_off' } });
  t.equal((await s.post('/auth/2fa/setup', token, { password: PASSWORD })).status, 200, 'and can be set up again');
});

t.test('disabling with a code checks it: a recovery code is accepted and used up', async (t) => {
  const s = await startServer(t);
  const { user, token: first } = await s.newUser('cy@example.com');
  const { secret } = (await s.post('/auth/2fa/setup', first, { password: PASSWORD })).body;
  const on = await s.post('/auth/2fa/enable', first, { code: codeNow(secret) });
  const token = cookieToken(on.headers)!;
  const wrong = await s.post('/auth/2fa/disable', token, { password: PASSWORD, code: 'aaaa-bbbb-cccc-dddd-eeee-ffff' });
  t.equal(wrong.status, 422);
  const off = await s.post('/auth/2fa/disable', token, { password: PASSWORD, code: on.body.recoveryCodes[0] });
  t.equal(off.status, 200);
  t.match(s.db.prepare('SELECT action FROM audit_log WHERE user_id = ? ORDER BY id').pluck().all(user.id), [
    'two_factor_enabled',
    'recovery_code_used',
    'two_factor_disabled',
  ]);
});

t.test('new recovery codes replace the old set, after the password', async (t) => {
  const s = await startServer(t);
  const { user, token: first } = await s.newUser('dee@example.com');
  const { secret } = (await s.post('/auth/2fa/setup', first, { password: PASSWORD })).body;
  const on = await s.post('/auth/2fa/enable', first, { code: codeNow(secret) });
  const token = cookieToken(on.headers)!;
  t.equal((await s.post('/auth/2fa/recovery-codes', token, { password: 'nope' })).status, 403);
  const regenerated = await s.post('/auth/2fa/recovery-codes', token, { password: PASSWORD });
  t.equal(regenerated.status, 200);
  const codes: string[] = regenerated.body.recoveryCodes;
  t.equal(codes.length, 10);
  t.notOk(codes.some((code) => on.body.recoveryCodes.includes(code)));
  t.match(s.mails.at(-1), { to: 'dee@example.com', template: 'notice', data: { subject: /recovery codes/ } });
  const factor = createSecondFactor({ db: s.db, secrets: s.secrets });
  t.equal(await factor.verify(findUserById(s.db, user.id)!, on.body.recoveryCodes[1]), null, 'an old code no longer works');
  t.equal(await factor.verify(findUserById(s.db, user.id)!, codes[1]!), 'recovery', 'a new one does');
});

t.test('bearer callers get the new token in the body', async (t) => {
  const s = await startServer(t);
  const { token } = await s.newUser('eve@example.com');
  const bearer = { authorization: `Bearer ${token}` };
  const post = (path: string, body: unknown) =>
    fetch(`${s.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer }, body: JSON.stringify(body) }).then(
      async (res) => ({ status: res.status, cookie: res.headers.get('set-cookie'), body: (await res.json()) as Record<string, any> }),
    );
  const { secret } = (await post('/auth/2fa/setup', { password: PASSWORD })).body;
  const on = await post('/auth/2fa/enable', { code: codeNow(secret) });
  t.equal(on.status, 200);
  t.match(on.body, { token: /^[a-z2-7]+\.[a-z2-7]+$/ });
  t.equal(on.cookie, null, 'no cookie for an API client');
  t.notOk(await s.works(token, 'bearer'));
  t.ok(await s.works(on.body.token, 'bearer'));
});

t.test('a GitHub-only account re-authenticates with a fresh session', async (t) => {
  const s = await startServer(t);
  const { user, token } = await s.newUser('gh@example.com', { password: false });
  t.equal((await s.post('/auth/2fa/setup', token, {})).status, 200, 'a session opened just now stands in for the password');
  const old = createSession(s.db, user.id, {}, Date.now() - 16 * 60 * 1000).token;
  const stale = await s.post('/auth/2fa/setup', old, {});
  t.equal(stale.status, 403);
  t.match(stale.body, { error: { code: 'reauthentication_required' } });
});

t.test('the edge: unauthenticated is 401, cross-origin is 403, setup without the password is 403', async (t) => {
  const s = await startServer(t);
  const { user, token } = await s.newUser('fay@example.com');
  for (const path of ['/auth/2fa/setup', '/auth/2fa/enable', '/auth/2fa/disable', '/auth/2fa/recovery-codes']) {
    const anonymous = await s.post(path, null, { code: '123456', password: PASSWORD });
    t.equal(anonymous.status, 401, `${path} anonymous`);
    t.match(anonymous.body, { error: { code: 'unauthenticated' } });
    const forged = await s.post(path, token, { code: '123456', password: PASSWORD }, { origin: 'https://evil.example' });
    t.equal(forged.status, 403, `${path} cross-origin`);
    t.match(forged.body, { error: { code: 'cross_origin' } });
    const site = await s.post(path, token, { code: '123456', password: PASSWORD }, { 'sec-fetch-site': 'cross-site' });
    t.equal(site.status, 403, `${path} Sec-Fetch-Site: cross-site`);
  }
  t.equal(findUserById(s.db, user.id)!.totp_secret, null, 'the forged setup wrote nothing');
  t.equal((await s.post('/auth/2fa/setup', token, {})).status, 403, 'the password is required');
  const early = await s.post('/auth/2fa/enable', token, { code: '123456' });
  t.equal(early.status, 409);
  t.match(early.body, { error: { code: 'setup_required' } });
  t.equal((await s.post('/auth/2fa/enable', token, { code: 'x' })).status, 422);
});

t.test('guessing codes is rate-limited: 429 with Retry-After', async (t) => {
  const s = await startServer(t);
  const { user, token } = await s.newUser('gus@example.com');
  const { secret } = (await s.post('/auth/2fa/setup', token, { password: PASSWORD })).body;
  const statuses: number[] = [];
  let last;
  for (let i = 0; i < 7; i++) {
    last = await s.post('/auth/2fa/enable', token, { code: wrongCode(secret, i) });
    statuses.push(last.status);
  }
  t.same(statuses, [422, 422, 422, 422, 422, 429, 429]);
  t.match(last!.headers.get('retry-after'), /^\d+$/);
  t.ok(Number(last!.headers.get('retry-after')) > 0);
  t.match(last!.body, { error: { code: 'rate_limited' } });
  const right = await s.post('/auth/2fa/enable', token, { code: codeNow(secret) });
  t.equal(right.status, 429, 'even the right code waits: the limit runs before the check');
  t.equal(findUserById(s.db, user.id)!.totp_enabled_at, null);

  // The per-IP limit covers every account from that address.
  const { token: other } = await s.newUser('hal@example.com');
  await s.post('/auth/2fa/setup', other, { password: PASSWORD });
  t.equal((await s.post('/auth/2fa/enable', other, { code: '123456' })).status, 429);
});
