import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { decodeBase32IgnorePadding } from '@oslojs/encoding';
import t, { type Test } from 'tap';
import { openDatabase } from '../../../migrations/runner.js';
import { createSecondFactor } from '../../../supervisor/auth/second-factor.js';
import { generateRecoveryCodes } from '../../../supervisor/auth/recovery-codes.js';
import {
  acceptTotp,
  beginTotpSetup,
  encodeTotpSeed,
  matchTotpStep,
  openTotpSeed,
  totpCode,
  totpStep,
  totpUri,
  TOTP_SEED_FIELD,
} from '../../../supervisor/auth/totp.js';
import { createUser, findUserById, type UserRow } from '../../../supervisor/auth/users.js';
import { keyringOf, SecretBox } from '../../../protocol/secret-box.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { tempDataDir } from '../../helpers/tenants.js';

// RFC 6238 appendix B: the SHA-1 seed "12345678901234567890" at T = 59 s gives 94287082 (8 digits) → 287082.
const RFC_SEED = new TextEncoder().encode('12345678901234567890');

function setup(t: Test) {
  const dir = tempDataDir('tuitbot-totp-');
  const db = openDatabase(join(dir, 'management.db'), 'management');
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const registry = new TenantRegistry(db, dir);
  const box = new SecretBox(keyringOf(new Uint8Array(randomBytes(32))));
  const user = createUser(db, registry, { email: 'ada@example.com', passwordHash: null });
  const reload = (): UserRow => findUserById(db, user.id)!;
  return { db, box, user, reload };
}

t.test('codes are RFC 6238 SHA-1, 6 digits, 30 s steps; the URI is for authenticator apps', async (t) => {
  t.equal(totpCode(RFC_SEED, totpStep(59_000)), '287082');
  t.equal(totpStep(59_000), 1);
  const uri = new URL(totpUri('ada+x@example.com', RFC_SEED));
  t.equal(uri.protocol, 'otpauth:');
  t.equal(uri.host, 'totp');
  t.equal(decodeURIComponent(uri.pathname), '/TuitBot:ada+x@example.com');
  t.same(Object.fromEntries(uri.searchParams), { issuer: 'TuitBot', algorithm: 'SHA1', secret: encodeTotpSeed(RFC_SEED), period: '30', digits: '6' });
});

t.test('the window is the current step and the one before, nothing else', async (t) => {
  const now = 1_700_000_015_000;
  const step = totpStep(now);
  t.equal(matchTotpStep(RFC_SEED, totpCode(RFC_SEED, step), now), step, 'now');
  t.equal(matchTotpStep(RFC_SEED, totpCode(RFC_SEED, step - 1), now), step - 1, 'the previous step');
  t.equal(matchTotpStep(RFC_SEED, totpCode(RFC_SEED, step - 2), now), null, 'two steps back');
  t.equal(matchTotpStep(RFC_SEED, totpCode(RFC_SEED, step + 1), now), null, 'a future step');
  const spaced = totpCode(RFC_SEED, step).replace(/^(\d{3})/, '$1 ');
  t.equal(matchTotpStep(RFC_SEED, spaced, now), step, 'spaces are ignored');
  for (const junk of ['', '12345', '1234567', 'abcdef', '12345a']) t.equal(matchTotpStep(RFC_SEED, junk, now), null, `"${junk}"`);
});

t.test('setup seals a fresh 20-byte seed; enabling needs a code of that seed', async (t) => {
  const { db, box, user, reload } = setup(t);
  const seed = beginTotpSetup(db, box, user)!;
  t.equal(seed.byteLength, 20);
  const row = reload();
  t.match(row.totp_secret, /^v1\.[0-9a-f]{8}\./);
  t.notOk(row.totp_secret!.includes(encodeTotpSeed(seed)));
  t.equal(box.open(row.tenant_id, TOTP_SEED_FIELD, row.totp_secret!), encodeTotpSeed(seed));
  t.same(openTotpSeed(box, row), seed);
  t.equal(row.totp_enabled_at, null);

  const now = Date.now();
  const wrong = totpCode(seed, totpStep(now) + 5);
  t.notOk(acceptTotp(db, box, row, wrong, 'pending', now));
  t.notOk(acceptTotp(db, box, row, totpCode(seed, totpStep(now)), 'active', now), 'a pending seed does not log in');
  t.equal(reload().totp_enabled_at, null);

  // A second setup replaces the pending seed: a code of the first one no longer enables.
  const second = beginTotpSetup(db, box, reload())!;
  t.notOk(acceptTotp(db, box, row, totpCode(seed, totpStep(now)), 'pending', now), 'the stale row is refused');
  t.notOk(acceptTotp(db, box, reload(), totpCode(seed, totpStep(now)), 'pending', now));
  t.ok(acceptTotp(db, box, reload(), totpCode(second, totpStep(now)), 'pending', now));
  const enabled = reload();
  t.equal(enabled.totp_enabled_at, now);
  t.equal(enabled.totp_last_step, totpStep(now));
  t.equal(beginTotpSetup(db, box, enabled), null, 'a seed in use is never replaced');
  t.equal(reload().totp_secret, enabled.totp_secret);
});

t.test('a code is accepted once: replays and older steps are refused, even across requests', async (t) => {
  const { db, box, user, reload } = setup(t);
  const seed = beginTotpSetup(db, box, user)!;
  const t0 = 1_700_000_000_000;
  const s0 = totpStep(t0);
  t.ok(acceptTotp(db, box, reload(), totpCode(seed, s0), 'pending', t0));

  const later = t0 + 60_000; // two steps on
  const s2 = totpStep(later);
  t.notOk(acceptTotp(db, box, reload(), totpCode(seed, s0), 'active', later), 'two steps back');
  t.ok(acceptTotp(db, box, reload(), totpCode(seed, s2 - 1), 'active', later), 'the previous step, not yet used');
  t.notOk(acceptTotp(db, box, reload(), totpCode(seed, s2 - 1), 'active', later), 'the same code again');
  t.ok(acceptTotp(db, box, reload(), totpCode(seed, s2), 'active', later), 'the current step');
  t.equal(reload().totp_last_step, s2);
  t.notOk(acceptTotp(db, box, reload(), totpCode(seed, s2), 'active', later + 10_000), 'replayed within its own step');
  t.notOk(acceptTotp(db, box, reload(), totpCode(seed, s2 - 1), 'active', later), 'an older step after a newer one');

  // Two requests that read the row before either wrote: only one wins.
  const stale = reload();
  const s3 = s2 + 1;
  const at = later + 30_000;
  t.ok(acceptTotp(db, box, stale, totpCode(seed, s3), 'active', at));
  t.notOk(acceptTotp(db, box, stale, totpCode(seed, s3), 'active', at));
});

t.test('the second factor accepts an unreplayed TOTP code or an unused recovery code', async (t) => {
  const { db, box, user, reload } = setup(t);
  let now = 1_700_000_000_000;
  const factor = createSecondFactor({ db, secrets: box, now: () => now });
  t.equal(await factor.verify(reload(), '123456'), null, 'nothing before 2FA is on');
  const seed = beginTotpSetup(db, box, user)!;
  t.equal(await factor.verify(reload(), totpCode(seed, totpStep(now))), null, 'nor with a pending seed');
  t.ok(acceptTotp(db, box, reload(), totpCode(seed, totpStep(now)), 'pending', now));
  const [first, second] = generateRecoveryCodes(db, user.id);

  now += 30_000;
  const code = totpCode(seed, totpStep(now));
  t.equal(await factor.verify(reload(), code), 'totp');
  t.equal(await factor.verify(reload(), code), null, 'replayed');
  t.equal(await factor.verify(reload(), first!), 'recovery');
  t.equal(await factor.verify(reload(), first!), null, 'a recovery code is single-use');
  t.equal(await factor.verify(reload(), second!.toUpperCase().replace(/-/g, ' ')), 'recovery');
  t.equal(await factor.verify(reload(), 'aaaa-bbbb-cccc-dddd-eeee-ffff'), null);
  const trail = db.prepare<[string], { action: string; detail: string }>("SELECT action, detail FROM audit_log WHERE user_id = ? AND action = 'recovery_code_used' ORDER BY id").all(user.id);
  t.same(trail.map((row) => JSON.parse(row.detail)), [{ remaining: 9 }, { remaining: 8 }]);
});

t.test('a seed sealed for another user does not open for this one', async (t) => {
  const { db, box, user, reload } = setup(t);
  const registry = new TenantRegistry(db, '/nonexistent');
  const mallory = createUser(db, registry, { email: 'mallory@example.com', passwordHash: null });
  beginTotpSetup(db, box, user);
  db.prepare('UPDATE users SET totp_secret = ? WHERE id = ?').run(reload().totp_secret, mallory.id);
  t.throws(() => openTotpSeed(box, findUserById(db, mallory.id)!), { name: 'SecretBoxError', reason: 'unauthentic' });
  t.same(decodeBase32IgnorePadding(encodeTotpSeed(RFC_SEED)), RFC_SEED);
});
