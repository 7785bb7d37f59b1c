import { randomBytes } from 'node:crypto';
import t from 'tap';
import { deriveTenantKey, keyIdOf, keyringOf, SecretBox, SecretBoxError, TenantSecrets } from '../../protocol/secret-box.js';

const TENANT_A = '2f8c1d9e-0b7a-4c3e-9f1a-6d5e4c3b2a10';
const TENANT_B = '7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d';
const masterKey = () => new Uint8Array(randomBytes(32));

function failure(fn: () => unknown): SecretBoxError | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof SecretBoxError) return error;
    throw error;
  }
  return undefined;
}

t.test('a sealed value opens to the same plaintext and carries the version and key id', async (t) => {
  const key = masterKey();
  const box = new SecretBox(keyringOf(key));
  for (const plaintext of ['', 'JBSWY3DPEHPK3PXP', 'ünïcødé 🔐', 'x'.repeat(10_000)]) {
    const sealed = box.seal(TENANT_A, 'totp_secret', plaintext);
    t.match(sealed, new RegExp(`^v1\\.${keyIdOf(key)}\\.[A-Za-z0-9_-]+$`));
    t.equal(box.open(TENANT_A, 'totp_secret', sealed), plaintext);
  }
  t.equal(box.keyId, keyIdOf(key));
  t.match(keyIdOf(key), /^[0-9a-f]{8}$/);
});

t.test('the same plaintext seals differently every time and for every tenant, under per-tenant keys', async (t) => {
  const key = masterKey();
  const box = new SecretBox(keyringOf(key));
  const a1 = box.seal(TENANT_A, 'x_token', 'secret');
  const a2 = box.seal(TENANT_A, 'x_token', 'secret');
  const b = box.seal(TENANT_B, 'x_token', 'secret');
  t.not(a1, a2, 'a random IV per seal');
  t.not(a1, b);
  const keyA = deriveTenantKey(key, TENANT_A);
  const keyB = deriveTenantKey(key, TENANT_B);
  t.equal(keyA.byteLength, 32);
  t.notSame(keyA, keyB, 'tenants get different keys');
  t.notSame(keyA, Buffer.from(key), 'the master key never encrypts itself');
  t.same(deriveTenantKey(key, TENANT_A), keyA, 'derivation is deterministic');
});

t.test('tampering with any byte of the payload fails to open', async (t) => {
  const box = new SecretBox(keyringOf(masterKey()));
  const sealed = box.seal(TENANT_A, 'llm_key', 'sk-live-123');
  const [version, keyId, encoded] = sealed.split('.') as [string, string, string];
  const payload = Buffer.from(encoded, 'base64url');
  for (let i = 0; i < payload.byteLength; i++) {
    const tampered = Buffer.from(payload);
    tampered[i]! ^= 0x01;
    const error = failure(() => box.open(TENANT_A, 'llm_key', `${version}.${keyId}.${tampered.toString('base64url')}`));
    if (error?.reason !== 'unauthentic') t.fail(`flipping byte ${i} was not detected`);
  }
  t.pass(`every one of ${payload.byteLength} flipped bytes was detected`);
  t.equal(failure(() => box.open(TENANT_A, 'llm_key', `${version}.${keyId}.${payload.subarray(0, 20).toString('base64url')}`))?.reason, 'malformed', 'truncated');
  t.equal(failure(() => box.open(TENANT_A, 'llm_key', `${version}.${keyId}.${encoded}!`))?.reason, 'malformed', 'bad alphabet');
  t.equal(failure(() => box.open(TENANT_A, 'llm_key', `v2.${keyId}.${encoded}`))?.reason, 'malformed', 'unknown version');
  t.equal(failure(() => box.open(TENANT_A, 'llm_key', 'sk-live-123'))?.reason, 'malformed', 'a plaintext value');
});

t.test('a value copied to another tenant or another field does not open', async (t) => {
  const box = new SecretBox(keyringOf(masterKey()));
  const sealed = box.seal(TENANT_A, 'totp_secret', 'seed');
  t.equal(failure(() => box.open(TENANT_B, 'totp_secret', sealed))?.reason, 'unauthentic');
  t.equal(failure(() => box.open(TENANT_A, 'x_access_token', sealed))?.reason, 'unauthentic');
  t.equal(box.open(TENANT_A, 'totp_secret', sealed), 'seed');
});

t.test('a key id that is not in the keyring is refused, even relabelled onto a known key', async (t) => {
  const key = masterKey();
  const other = masterKey();
  const sealed = new SecretBox(keyringOf(other)).seal(TENANT_A, 'f', 'v');
  const box = new SecretBox(keyringOf(key));
  const error = failure(() => box.open(TENANT_A, 'f', sealed));
  t.equal(error?.reason, 'unknown_key');
  t.match(error?.message, keyIdOf(other), 'the message names the missing key id');
  const relabelled = sealed.replace(keyIdOf(other), keyIdOf(key));
  t.equal(failure(() => box.open(TENANT_A, 'f', relabelled))?.reason, 'unauthentic');
});

t.test('a keyring with a new key opens old values and seals with the new key id', async (t) => {
  const oldKey = masterKey();
  const newKey = masterKey();
  const before = new SecretBox(keyringOf(oldKey)).seal(TENANT_A, 'x_token', 'old secret');
  const rotated = new SecretBox(keyringOf(newKey, oldKey));
  t.equal(rotated.open(TENANT_A, 'x_token', before), 'old secret');
  t.ok(rotated.isStale(before));
  const after = rotated.seal(TENANT_A, 'x_token', 'new secret');
  t.match(after, new RegExp(`^v1\\.${keyIdOf(newKey)}\\.`));
  t.notOk(rotated.isStale(after));
  t.equal(failure(() => new SecretBox(keyringOf(oldKey)).open(TENANT_A, 'x_token', after))?.reason, 'unknown_key');
});

t.test('keys must be 32 bytes and the keyring must hold its current key', async (t) => {
  t.throws(() => keyringOf(new Uint8Array(16)), TypeError);
  t.throws(() => new SecretBox({ currentId: 'deadbeef', keys: new Map() }), TypeError);
});

t.test("a tenant thread's keys open its own values and nothing of another tenant; the master key never travels", async (t) => {
  const master = randomBytes(32);
  const old = randomBytes(32);
  const box = new SecretBox(keyringOf(master, old));
  const a = '8d1c1f0e-1a2b-4c3d-9e8f-001122334455';
  const b = '8d1c1f0e-1a2b-4c3d-9e8f-001122334466';
  const keys = box.tenantKeys(a);
  t.equal(keys.keys.length, 2, 'one derived key per master key (rotation)');
  for (const { key } of keys.keys) {
    t.notOk(Buffer.from(key).equals(master) || Buffer.from(key).equals(old), 'derived, not the master');
  }
  const tenant = new TenantSecrets(a, keys);
  t.equal(tenant.open('x_access_token', box.seal(a, 'x_access_token', 'tok')), 'tok');
  t.equal(box.open(a, 'x_refresh_token', tenant.seal('x_refresh_token', 'ref')), 'ref', 'the supervisor opens what the tenant sealed');
  t.equal(failure(() => new TenantSecrets(b, keys).open('x_access_token', box.seal(a, 'x_access_token', 'tok')))?.reason, 'unauthentic');
  t.equal(failure(() => tenant.open('x_access_token', box.seal(b, 'x_access_token', 'tok')))?.reason, 'unauthentic', 'another tenant’s value does not open');
  const oldBox = new SecretBox(keyringOf(old));
  t.equal(tenant.open('llm_key', oldBox.seal(a, 'llm_key', 'k')), 'k', 'values sealed under the previous key still open');
  t.ok(tenant.isStale(oldBox.seal(a, 'llm_key', 'k')));
});
