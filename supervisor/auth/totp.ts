/**
 * Time-based one-time passwords (RFC 6238) as authenticator apps expect them: SHA-1, 6 digits,
 * 30-second steps, with @oslojs/otp's HOTP at an explicit step so the clock is a parameter.
 *
 * Model, on `users`: `totp_secret` holds the 20-byte seed sealed with the SecretBox (tenant = the
 * user's tenant, field 'totp_secret'); setup writes it while `totp_enabled_at` stays NULL, and the
 * first correct code sets `totp_enabled_at`. A code is accepted for this step and the one before
 * (a code typed as the step turns), and `totp_last_step` records the step of the last accepted
 * code: the UPDATE that records it only succeeds for a later step, so a code works at most once
 * even when two requests race.
 */
import { createTOTPKeyURI, generateHOTP, verifyHOTP } from '@oslojs/otp';
import { decodeBase32IgnorePadding, encodeBase32UpperCaseNoPadding } from '@oslojs/encoding';
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { SecretBox } from '../../protocol/secret-box.js';
import type { UserRow } from './users.js';

export const TOTP_PERIOD_SECONDS = 30;
export const TOTP_DIGITS = 6;
export const TOTP_ISSUER = 'TuitBot';
/** The SecretBox field (AAD) of a sealed seed. */
export const TOTP_SEED_FIELD = 'totp_secret';
const SEED_BYTES = 20;
/** Steps accepted before the current one. */
const STEPS_BEHIND = 1;

export function newTotpSeed(): Uint8Array {
  return new Uint8Array(randomBytes(SEED_BYTES));
}

/** Base32 as typed into an authenticator app by hand. */
export function encodeTotpSeed(seed: Uint8Array): string {
  return encodeBase32UpperCaseNoPadding(seed);
}

export function totpStep(now = Date.now()): number {
  return Math.floor(now / (TOTP_PERIOD_SECONDS * 1000));
}

export function totpCode(seed: Uint8Array, step: number): string {
  return generateHOTP(seed, BigInt(step), TOTP_DIGITS);
}

export function totpUri(email: string, seed: Uint8Array): string {
  return createTOTPKeyURI(TOTP_ISSUER, email, seed, TOTP_PERIOD_SECONDS, TOTP_DIGITS);
}

/** Digits only, spaces allowed ("123 456"); null when it cannot be a TOTP code. */
export function normalizeTotpCode(code: string): string | null {
  const digits = code.replace(/\s+/g, '');
  return /^\d+$/.test(digits) && digits.length === TOTP_DIGITS ? digits : null;
}

/** The newest step within the window whose code this is, or null. */
export function matchTotpStep(seed: Uint8Array, code: string, now = Date.now()): number | null {
  const digits = normalizeTotpCode(code);
  if (digits === null) return null;
  const current = totpStep(now);
  for (let step = current; step >= current - STEPS_BEHIND; step--) {
    if (verifyHOTP(seed, BigInt(step), TOTP_DIGITS, digits)) return step;
  }
  return null;
}

export function sealTotpSeed(box: SecretBox, tenantId: string, seed: Uint8Array): string {
  return box.seal(tenantId, TOTP_SEED_FIELD, encodeTotpSeed(seed));
}

export function openTotpSeed(box: SecretBox, user: Pick<UserRow, 'tenant_id' | 'totp_secret'>): Uint8Array | null {
  if (user.totp_secret === null) return null;
  return decodeBase32IgnorePadding(box.open(user.tenant_id, TOTP_SEED_FIELD, user.totp_secret));
}

/**
 * Stores a new pending seed, replacing any earlier pending one; null when 2FA is already on
 * (a seed in use is never replaced: disable first).
 */
export function beginTotpSetup(db: Database.Database, box: SecretBox, user: UserRow): Uint8Array | null {
  const seed = newTotpSeed();
  const changed = db
    .prepare('UPDATE users SET totp_secret = ?, totp_last_step = NULL WHERE id = ? AND totp_enabled_at IS NULL')
    .run(sealTotpSeed(box, user.tenant_id, seed), user.id).changes;
  return changed === 1 ? seed : null;
}

/**
 * Accepts a code of the user's seed (pending: the one setup stored; active: the one in use) and
 * records its step; a pending seed becomes active. False for a wrong, stale or replayed code, or
 * when the seed changed since `user` was read.
 */
export function acceptTotp(
  db: Database.Database,
  box: SecretBox,
  user: UserRow,
  code: string,
  seedState: 'pending' | 'active',
  now = Date.now(),
): boolean {
  if ((user.totp_enabled_at !== null) !== (seedState === 'active')) return false;
  const seed = openTotpSeed(box, user);
  if (!seed) return false;
  const step = matchTotpStep(seed, code, now);
  if (step === null) return false;
  // `totp_secret = ?` pins the seed the code was checked against; the step condition is the replay guard.
  const guard = 'id = ? AND totp_secret = ? AND (totp_last_step IS NULL OR totp_last_step < ?)';
  const result =
    seedState === 'pending'
      ? db.prepare(`UPDATE users SET totp_last_step = ?, totp_enabled_at = ? WHERE ${guard} AND totp_enabled_at IS NULL`).run(step, now, user.id, user.totp_secret, step)
      : db.prepare(`UPDATE users SET totp_last_step = ? WHERE ${guard} AND totp_enabled_at IS NOT NULL`).run(step, user.id, user.totp_secret, step);
  return result.changes === 1;
}

/** Forgets the seed and its replay guard; the caller removes the recovery codes in the same transaction. */
export function clearTotp(db: Database.Database, userId: string): void {
  db.prepare('UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, totp_last_step = NULL WHERE id = ?').run(userId);
}
