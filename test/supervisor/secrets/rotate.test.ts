import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { checkpointAndClose, openDatabase } from '../../../migrations/runner.js';
import { keyIdOf, keyringOf, SecretBox } from '../../../protocol/index.js';
import { createUser } from '../../../supervisor/auth/users.js';
import { loadConfig } from '../../../supervisor/config.js';
import { generateNextKeyFile, KEY_FILE, loadEncryptionKey, PREVIOUS_KEYS_FILE } from '../../../supervisor/secrets/master-key.js';
import { rotateSecrets } from '../../../supervisor/secrets/rotate.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { captureLog } from '../../helpers/tenants.js';
import { runCli } from '../../helpers/process.js';

/** A data dir whose secrets were sealed under the key file's key: a TOTP seed, a PKCE verifier, X tokens. */
function seeded(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-rotate-'));
  mkdirSync(join(dir, 'tenants'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const oldKey = randomBytes(32);
  writeFileSync(join(dir, KEY_FILE), `${oldKey.toString('base64')}\n`, { mode: 0o600 });
  const box = new SecretBox(keyringOf(oldKey));
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, dir);
  const user = createUser(db, registry, { email: 'ada@example.com', passwordHash: null });
  db.prepare('UPDATE users SET totp_secret = ? WHERE id = ?').run(box.seal(user.tenant_id, 'totp_secret', 'SEED'), user.id);
  db.prepare('INSERT INTO x_oauth_states (state_hash, user_id, session_id, code_verifier, created_at, expires_at) VALUES (?, ?, ?, ?, 0, 1)').run(
    randomBytes(32),
    user.id,
    'session',
    box.seal(user.tenant_id, 'x_pkce_verifier', 'VERIFIER'),
  );
  db.prepare("INSERT INTO x_own_apps (user_id, client_id, client_secret, created_at, updated_at) VALUES (?, 'own-app', ?, 0, 0)").run(
    user.id,
    box.seal(user.tenant_id, 'x_client_secret', 'OWN SECRET'),
  );
  checkpointAndClose(db);
  const tenantDb = openDatabase(registry.dbPath(user.tenant_id), 'tenant');
  tenantDb
    .prepare("INSERT INTO x_connection (id, x_user_id, username, name, access_token, refresh_token, expires_at, scope, status, connected_at, updated_at) VALUES (1, '1', 'ada', 'Ada', ?, ?, 0, '', 'connected', 0, 0)")
    .run(box.seal(user.tenant_id, 'x_access_token', 'ACCESS'), box.seal(user.tenant_id, 'x_refresh_token', 'REFRESH'));
  checkpointAndClose(tenantDb);
  return { dir, oldKey, tenantId: user.tenant_id, tenantPath: registry.dbPath(user.tenant_id) };
}

function sealedValues(dir: string, tenantPath: string): string[] {
  const db = new Database(join(dir, 'management.db'), { readonly: true });
  const tenant = new Database(tenantPath, { readonly: true });
  try {
    return [
      (db.prepare('SELECT totp_secret FROM users').get() as { totp_secret: string }).totp_secret,
      (db.prepare('SELECT code_verifier FROM x_oauth_states').get() as { code_verifier: string }).code_verifier,
      (db.prepare('SELECT client_secret FROM x_own_apps').get() as { client_secret: string }).client_secret,
      ...Object.values(tenant.prepare('SELECT access_token, refresh_token FROM x_connection').get() as Record<string, string>),
    ];
  } finally {
    db.close();
    tenant.close();
  }
}

t.test('rotate-key --generate then rotate-key: every secret is re-sealed under the new key and the old key can go', async (t) => {
  const { dir, oldKey, tenantId, tenantPath } = seeded(t);
  const { previousId, currentId } = generateNextKeyFile(dir);
  t.equal(previousId, keyIdOf(oldKey));
  t.not(currentId, previousId);
  t.equal(readFileSync(join(dir, PREVIOUS_KEYS_FILE), 'utf8').trim(), oldKey.toString('base64'), 'the old key is kept to open older secrets');

  const config = loadConfig({ DATA_DIR: dir });
  const keyring = loadEncryptionKey(config, captureLog().log);
  t.equal(keyring.currentId, currentId);
  t.ok(keyring.keys.has(previousId));
  const report = rotateSecrets(dir, new SecretBox(keyring));
  t.same(report, { keyId: currentId, management: 3, tenants: { resealed: 2, done: 1, busy: [] } });
  t.ok(sealedValues(dir, tenantPath).every((value) => value.startsWith(`v1.${currentId}.`)));

  // Without the old key everything still opens: the rotation is complete.
  rmSync(join(dir, PREVIOUS_KEYS_FILE));
  const fresh = new SecretBox(loadEncryptionKey(loadConfig({ DATA_DIR: dir }), captureLog().log));
  const [totp, verifier, own, access, refresh] = sealedValues(dir, tenantPath);
  t.same(
    [
      fresh.open(tenantId, 'totp_secret', totp!),
      fresh.open(tenantId, 'x_pkce_verifier', verifier!),
      fresh.open(tenantId, 'x_client_secret', own!),
      fresh.open(tenantId, 'x_access_token', access!),
      fresh.open(tenantId, 'x_refresh_token', refresh!),
    ],
    ['SEED', 'VERIFIER', 'OWN SECRET', 'ACCESS', 'REFRESH'],
  );
  t.same(rotateSecrets(dir, fresh), { keyId: currentId, management: 0, tenants: { resealed: 0, done: 1, busy: [] } }, 'a second run has nothing to do');
});

t.test('ENCRYPTION_KEY rotation: the new key in the variable, the old one in ENCRYPTION_KEYS_PREVIOUS', async (t) => {
  const { dir, oldKey, tenantPath } = seeded(t);
  rmSync(join(dir, KEY_FILE));
  const newKey = randomBytes(32);
  const config = loadConfig({ DATA_DIR: dir, ENCRYPTION_KEY: newKey.toString('base64'), ENCRYPTION_KEYS_PREVIOUS: `${randomBytes(32).toString('hex')},${oldKey.toString('base64')}` });
  const report = rotateSecrets(dir, new SecretBox(loadEncryptionKey(config, captureLog().log)));
  t.match(report, { keyId: keyIdOf(newKey), management: 3, tenants: { resealed: 2 } });
  t.ok(sealedValues(dir, tenantPath).every((value) => value.startsWith(`v1.${keyIdOf(newKey)}.`)));
});

t.test('a tenant DB in use by an active tenant is skipped and reported, not waited for', async (t) => {
  const { dir, tenantId, tenantPath } = seeded(t);
  generateNextKeyFile(dir);
  const holder = new Database(tenantPath);
  holder.pragma('locking_mode = EXCLUSIVE');
  holder.prepare('UPDATE x_connection SET updated_at = 1').run();
  const report = rotateSecrets(dir, new SecretBox(loadEncryptionKey(loadConfig({ DATA_DIR: dir }), captureLog().log)));
  t.same(report.tenants.busy, [tenantId]);
  t.equal(report.management, 3, 'the rest is done');
  holder.close();
});

t.test('the CLI: rotate-key --generate, refused with ENCRYPTION_KEY; rotate-key re-seals', async (t) => {
  const { dir } = seeded(t);
  const generated = runCli(['rotate-key', '--generate'], { DATA_DIR: dir });
  t.equal(generated.status, 0, generated.stderr);
  t.match(generated.stdout, /new key [0-9a-f]{8} .*the old key [0-9a-f]{8} is kept/);
  t.match(generated.stdout, /re-sealed under key [0-9a-f]{8}: 3 value\(s\) in management.db, 2 in 1 tenant DB\(s\)/);
  t.ok(existsSync(join(dir, PREVIOUS_KEYS_FILE)));
  const refused = runCli(['rotate-key', '--generate'], { DATA_DIR: dir, ENCRYPTION_KEY: randomBytes(32).toString('base64') });
  t.equal(refused.status, 2);
  t.match(refused.stderr, /ENCRYPTION_KEY is set: rotate it there/);
});
