import { sha256 } from '@oslojs/crypto/sha2';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openDatabase } from '../../../migrations/runner.js';
import {
  deleteRecoveryCodes,
  generateRecoveryCodes,
  normalizeRecoveryCode,
  remainingRecoveryCodes,
  RECOVERY_CODE_COUNT,
  useRecoveryCode,
} from '../../../supervisor/auth/recovery-codes.js';
import { createUser } from '../../../supervisor/auth/users.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { tempDataDir } from '../../helpers/tenants.js';

function setup(t: Test) {
  const dir = tempDataDir('tuitbot-recovery-');
  const db = openDatabase(join(dir, 'management.db'), 'management');
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const registry = new TenantRegistry(db, dir);
  const ada = createUser(db, registry, { email: 'ada@example.com', passwordHash: null });
  const bob = createUser(db, registry, { email: 'bob@example.com', passwordHash: null });
  return { db, ada, bob };
}

t.test('ten distinct codes of 120 bits in six groups of four; only their hashes are stored', async (t) => {
  const { db, ada } = setup(t);
  const codes = generateRecoveryCodes(db, ada.id);
  t.equal(codes.length, RECOVERY_CODE_COUNT);
  t.equal(new Set(codes).size, 10);
  for (const code of codes) t.match(code, /^[a-z2-7]{4}(-[a-z2-7]{4}){5}$/);
  const stored = db.prepare<[string], { code_hash: Uint8Array; used_at: number | null }>('SELECT code_hash, used_at FROM recovery_codes WHERE user_id = ?').all(ada.id);
  t.equal(stored.length, 10);
  const expected = codes.map((code) => Buffer.from(sha256(new TextEncoder().encode(code.replace(/-/g, '')))).toString('hex')).sort();
  t.same(stored.map((row) => Buffer.from(row.code_hash).toString('hex')).sort(), expected, 'SHA-256 of the normalized code');
  t.ok(stored.every((row) => row.used_at === null));
});

t.test('each code works once, for its own user only', async (t) => {
  const { db, ada, bob } = setup(t);
  const codes = generateRecoveryCodes(db, ada.id);
  generateRecoveryCodes(db, bob.id);
  t.notOk(useRecoveryCode(db, bob.id, codes[0]!), "another user's code");
  t.ok(useRecoveryCode(db, ada.id, codes[0]!));
  t.notOk(useRecoveryCode(db, ada.id, codes[0]!), 'used up');
  t.equal(remainingRecoveryCodes(db, ada.id), 9);
  for (const code of codes.slice(1)) t.ok(useRecoveryCode(db, ada.id, code));
  t.equal(remainingRecoveryCodes(db, ada.id), 0);
  t.equal(remainingRecoveryCodes(db, bob.id), 10);
});

t.test('input is normalized: case, spaces, dashes, and 0/1 typed for o/l', async (t) => {
  const { db, ada } = setup(t);
  const codes = generateRecoveryCodes(db, ada.id);
  t.ok(useRecoveryCode(db, ada.id, codes[0]!.toUpperCase()));
  t.ok(useRecoveryCode(db, ada.id, `  ${codes[1]!.replace(/-/g, ' ')}  `));
  t.ok(useRecoveryCode(db, ada.id, codes[2]!.replace(/-/g, '')));
  t.ok(useRecoveryCode(db, ada.id, codes[3]!.replace(/o/g, '0').replace(/l/g, '1').replace(/-/g, '--')));
  t.equal(normalizeRecoveryCode('ABCD-efgh ijkl-mnop-qrst-uv01'), 'abcdefghijklmnopqrstuvol');
  for (const junk of ['', 'abcd', 'abcd-efgh-ijkl-mnop-qrst-uvwx-y', 'abcd-efgh-ijkl-mnop-qrst-uv8x', '123456']) {
    t.equal(normalizeRecoveryCode(junk), null, `"${junk}"`);
    t.notOk(useRecoveryCode(db, ada.id, junk));
  }
});

t.test('regenerating invalidates the whole old set; deleting leaves none', async (t) => {
  const { db, ada } = setup(t);
  const old = generateRecoveryCodes(db, ada.id);
  t.ok(useRecoveryCode(db, ada.id, old[0]!));
  const fresh = generateRecoveryCodes(db, ada.id);
  t.equal(remainingRecoveryCodes(db, ada.id), 10);
  for (const code of old) t.notOk(useRecoveryCode(db, ada.id, code));
  t.notOk(fresh.some((code) => old.includes(code)));
  t.ok(useRecoveryCode(db, ada.id, fresh[9]!));
  deleteRecoveryCodes(db, ada.id);
  t.equal(remainingRecoveryCodes(db, ada.id), 0);
  t.notOk(useRecoveryCode(db, ada.id, fresh[0]!));
});
