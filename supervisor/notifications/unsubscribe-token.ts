/**
 * Unsubscribe tokens: a signed statement "user U may turn off mail kind K", put in the links and
 * List-Unsubscribe headers of periodic mail, so that turning it off needs no login and no lookup of a
 * stored (guessable or leakable) id.
 *
 *   token = "<kind>.<userId>.<keyId>.<base64url(HMAC-SHA256(key, "unsubscribe/v1|kind|userId"))[:16 bytes]>"
 *
 * The HMAC key is derived by HKDF from each master key of the keyring (salt: a label of its own, so it is
 * independent of the tenants' secret keys); the key id names the master key, so links mailed before a key
 * rotation keep working while the old key stays in the keyring (ENCRYPTION_KEYS_PREVIOUS). Tokens do not
 * expire: an unsubscribe link should work for as long as the mail is read, and all it can do is stop mail.
 * Nothing here logs; callers must not log a token either (it is a bearer credential for that one switch).
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../../protocol/index.js';

export const NOTIFICATION_KINDS = ['weekly_summary', 'approval_reminders'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** The tenant setting each kind turns off (tenant-worker/runtime/config.ts). */
export const SETTING_OF_KIND: Record<NotificationKind, string> = {
  weekly_summary: 'notifications.weekly_summary',
  approval_reminders: 'notifications.approval_reminders',
};

const HKDF_SALT = 'tuitbot-cloud/unsubscribe/v1';
const MAC_BYTES = 16;
const TOKEN = /^(weekly_summary|approval_reminders)\.([0-9a-f-]{36})\.([0-9a-f]{8})\.([A-Za-z0-9_-]{22})$/;

export interface UnsubscribeClaim {
  kind: NotificationKind;
  userId: string;
}

export class UnsubscribeTokens {
  readonly #currentId: string;
  readonly #keys: ReadonlyMap<string, Buffer>;

  constructor(keyring: Keyring) {
    this.#currentId = keyring.currentId;
    this.#keys = new Map([...keyring.keys].map(([id, master]) => [id, Buffer.from(hkdfSync('sha256', master, HKDF_SALT, '', 32))]));
  }

  sign(claim: UnsubscribeClaim): string {
    return `${claim.kind}.${claim.userId}.${this.#currentId}.${this.#mac(this.#keys.get(this.#currentId)!, claim).toString('base64url')}`;
  }

  /** The claim of an authentic token; null for anything else (malformed, unknown key, forged). */
  verify(token: string): UnsubscribeClaim | null {
    const match = TOKEN.exec(token);
    if (!match) return null;
    const [, kind, userId, keyId, mac] = match as unknown as [string, NotificationKind, string, string, string];
    const key = this.#keys.get(keyId);
    if (!key) return null;
    // Compared as text: base64url's last character carries spare bits, so decoding would accept variants.
    const given = Buffer.from(mac);
    const expected = Buffer.from(this.#mac(key, { kind, userId }).toString('base64url'));
    return given.length === expected.length && timingSafeEqual(given, expected) ? { kind, userId } : null;
  }

  #mac(key: Buffer, claim: UnsubscribeClaim): Buffer {
    return createHmac('sha256', key).update(`unsubscribe/v1|${claim.kind}|${claim.userId}`).digest().subarray(0, MAC_BYTES);
  }
}
