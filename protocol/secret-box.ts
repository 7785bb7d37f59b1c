/**
 * Secrets at rest: X tokens, LLM keys, TOTP seeds are stored only as sealed strings.
 *
 * Model: one master key (ENCRYPTION_KEY) never encrypts anything itself. Each tenant gets its own
 * AES-256-GCM key, HKDF-SHA256(master, salt = a fixed product label, info = tenant id), and every
 * ciphertext is authenticated together with the tenant id, the field it belongs to and its own
 * header, so a value copied to another tenant or another column does not open.
 *
 *   sealed = "v1.<keyId>.<base64url(iv[12] | ciphertext | tag[16])>"
 *
 * The key id (first 8 hex digits of SHA-256 of the master key) names the master key that sealed
 * a value, so a keyring can hold old keys for opening while sealing with the current one (rotation).
 *
 * It lives in protocol/ because the sealed format is shared by both sides: the supervisor holds the
 * master keyring and hands each tenant thread only its own derived keys (in the activation
 * message), with which the tenant opens and seals its values (X tokens, LLM keys).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const HKDF_SALT = 'tuitbot-cloud/secrets/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const SEALED = /^v1\.([0-9a-f]{8})\.([A-Za-z0-9_-]+)$/;

export interface Keyring {
  /** The id of the key that seals. */
  currentId: string;
  /** Every key that may open, by id (the current one included). */
  keys: ReadonlyMap<string, Uint8Array>;
}

export type SecretBoxFailure = 'malformed' | 'unknown_key' | 'unauthentic';

/** A sealed value that cannot be opened; the message never contains key material or plaintext. */
export class SecretBoxError extends Error {
  override name = 'SecretBoxError';
  constructor(
    readonly reason: SecretBoxFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Not secret-revealing: 32 bits of a hash of a 256-bit key. */
export function keyIdOf(masterKey: Uint8Array): string {
  return createHash('sha256').update(masterKey).digest('hex').slice(0, 8);
}

/** The current key first; older keys only open what they sealed. */
export function keyringOf(current: Uint8Array, ...previous: Uint8Array[]): Keyring {
  const keys = new Map<string, Uint8Array>();
  for (const key of [current, ...previous]) {
    if (key.byteLength !== KEY_BYTES) throw new TypeError(`An encryption key must be ${KEY_BYTES} bytes`);
    keys.set(keyIdOf(key), key);
  }
  return { currentId: keyIdOf(current), keys };
}

export function deriveTenantKey(masterKey: Uint8Array, tenantId: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, HKDF_SALT, tenantId, KEY_BYTES));
}

/** Unambiguous (JSON), and covers the header so a value cannot be relabelled with another key id. */
function additionalData(keyId: string, tenantId: string, field: string): Buffer {
  return Buffer.from(JSON.stringify([VERSION, keyId, tenantId, field]));
}

/**
 * One tenant's secrets: its derived keys only (never the master key), so a tenant thread can open
 * and seal its own values and nobody else's.
 */
export class TenantSecrets {
  readonly #tenantId: string;
  readonly #currentId: string;
  readonly #keys: ReadonlyMap<string, Uint8Array>;

  constructor(tenantId: string, keys: TenantKeys) {
    if (!keys.keys.some((k) => k.id === keys.currentId)) throw new TypeError('The tenant keys do not hold the current key');
    this.#tenantId = tenantId;
    this.#currentId = keys.currentId;
    this.#keys = new Map(keys.keys.map((k) => [k.id, k.key]));
  }

  /** The id of the key new values are sealed with. */
  get keyId(): string {
    return this.#currentId;
  }

  seal(field: string, plaintext: string): string {
    const keyId = this.#currentId;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(keyId)!, iv);
    cipher.setAAD(additionalData(keyId, this.#tenantId, field));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const payload = Buffer.concat([iv, ciphertext, cipher.getAuthTag()]);
    return `${VERSION}.${keyId}.${payload.toString('base64url')}`;
  }

  open(field: string, sealed: string): string {
    const match = SEALED.exec(sealed);
    if (!match) throw new SecretBoxError('malformed', `The sealed ${field} is not in the ${VERSION} format`);
    const keyId = match[1]!;
    const payload = Buffer.from(match[2]!, 'base64url');
    // Canonical encoding only: one sealed value has exactly one spelling.
    if (payload.byteLength < IV_BYTES + TAG_BYTES || payload.toString('base64url') !== match[2]) throw new SecretBoxError('malformed', `The sealed ${field} is not a valid payload`);
    const key = this.#keys.get(keyId);
    if (!key) throw new SecretBoxError('unknown_key', `The sealed ${field} uses key ${keyId}, which is not in the keyring`);
    const decipher = createDecipheriv('aes-256-gcm', key, payload.subarray(0, IV_BYTES));
    decipher.setAAD(additionalData(keyId, this.#tenantId, field));
    decipher.setAuthTag(payload.subarray(payload.byteLength - TAG_BYTES));
    try {
      const plaintext = Buffer.concat([decipher.update(payload.subarray(IV_BYTES, payload.byteLength - TAG_BYTES)), decipher.final()]);
      return plaintext.toString('utf8');
    } catch {
      throw new SecretBoxError('unauthentic', `The sealed ${field} does not open for this tenant: tampered, or sealed for another tenant or field`);
    }
  }

  /** Whether a sealed value was sealed with an older key (and should be re-sealed). */
  isStale(sealed: string): boolean {
    return SEALED.exec(sealed)?.[1] !== this.#currentId;
  }
}

/** A tenant's derived keys, as the activation message carries them to its thread. */
export interface TenantKeys {
  currentId: string;
  keys: Array<{ id: string; key: Uint8Array }>;
}

/** The master keyring: derives each tenant's keys and seals or opens on a tenant's behalf. */
export class SecretBox {
  readonly #keyring: Keyring;

  constructor(keyring: Keyring) {
    if (!keyring.keys.has(keyring.currentId)) throw new TypeError('The keyring does not hold its current key');
    this.#keyring = keyring;
  }

  /** The id of the key new values are sealed with. */
  get keyId(): string {
    return this.#keyring.currentId;
  }

  /** What a tenant thread gets: its own keys, derived, for every master key in the ring. */
  tenantKeys(tenantId: string): TenantKeys {
    return {
      currentId: this.#keyring.currentId,
      keys: [...this.#keyring.keys].map(([id, master]) => ({ id, key: new Uint8Array(deriveTenantKey(master, tenantId)) })),
    };
  }

  forTenant(tenantId: string): TenantSecrets {
    return new TenantSecrets(tenantId, this.tenantKeys(tenantId));
  }

  seal(tenantId: string, field: string, plaintext: string): string {
    return this.forTenant(tenantId).seal(field, plaintext);
  }

  open(tenantId: string, field: string, sealed: string): string {
    return this.forTenant(tenantId).open(field, sealed);
  }

  /** Whether a sealed value was sealed with an older key (and should be re-sealed). */
  isStale(sealed: string): boolean {
    return SEALED.exec(sealed)?.[1] !== this.#keyring.currentId;
  }
}
