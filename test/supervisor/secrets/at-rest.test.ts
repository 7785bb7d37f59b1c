/** What a copy of management.db reveals about 2FA: sealed seeds and hashed codes, nothing usable. */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { checkpointAndClose, openDatabase } from '../../../migrations/runner.js';
import { generateRecoveryCodes } from '../../../supervisor/auth/recovery-codes.js';
import { acceptTotp, beginTotpSetup, encodeTotpSeed, totpCode, totpStep } from '../../../supervisor/auth/totp.js';
import { createUser, findUserById } from '../../../supervisor/auth/users.js';
import { keyringOf, SecretBox } from '../../../protocol/secret-box.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { tempDataDir } from '../../helpers/tenants.js';

t.test('after setup and enable, neither the seed nor a recovery code is in the .db or -wal bytes', async (t) => {
  const dir = tempDataDir('tuitbot-at-rest-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'management.db');
  const db = openDatabase(path, 'management');
  const box = new SecretBox(keyringOf(new Uint8Array(randomBytes(32))));
  const user = createUser(db, new TenantRegistry(db, dir), { email: 'ada@example.com', passwordHash: null });
  const seed = beginTotpSetup(db, box, user)!;
  const now = Date.now();
  t.ok(acceptTotp(db, box, findUserById(db, user.id)!, totpCode(seed, totpStep(now)), 'pending', now));
  const codes = generateRecoveryCodes(db, user.id);

  const needles = [
    Buffer.from(encodeTotpSeed(seed)),
    Buffer.from(encodeTotpSeed(seed).toLowerCase()),
    Buffer.from(seed),
    ...codes.flatMap((code) => [Buffer.from(code), Buffer.from(code.replace(/-/g, ''))]),
  ];
  const scan = (when: string) => {
    const files = readdirSync(dir).filter((name) => name.startsWith('management.db'));
    t.ok(files.includes('management.db'), `${when}: files ${files.join(', ')}`);
    for (const name of files) {
      const bytes = readFileSync(join(dir, name));
      t.notOk(needles.some((needle) => bytes.includes(needle)), `${when}: nothing in ${name} (${bytes.length} bytes)`);
    }
  };
  scan('with the WAL');
  checkpointAndClose(db);
  scan('after the checkpoint');
});
