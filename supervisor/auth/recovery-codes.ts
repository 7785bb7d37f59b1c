/**
 * Recovery codes: the way back in when the authenticator is lost.
 *
 * Model, table `recovery_codes`: ten codes per user, each 120 random bits shown as six groups of
 * four base32 letters (`abcd-efgh-…`), handed out once and stored only as SHA-256 of the normalized
 * code. A fast hash is enough (ASVS 6.5.2) because nobody can guess 120 bits, however fast the
 * hash. A code is single-use: the UPDATE that marks it used is the check, so two requests with the
 * same code cannot both succeed. Regenerating replaces the whole set.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

export const RECOVERY_CODE_COUNT = 10;
const CODE_BYTES = 15; // 120 bits = 24 base32 letters
const GROUP = 4;

function newRecoveryCode(): string {
  const letters = encodeBase32LowerCaseNoPadding(randomBytes(CODE_BYTES));
  return letters.match(new RegExp(`.{${GROUP}}`, 'g'))!.join('-');
}

/**
 * The canonical form a code is hashed in: lower case, no spaces or dashes, and the digits people
 * type for look-alike letters (base32 has no 0 or 1) read as those letters. Null when it cannot be one.
 */
export function normalizeRecoveryCode(input: string): string | null {
  const letters = input.toLowerCase().replace(/[\s-]+/g, '').replace(/0/g, 'o').replace(/1/g, 'l');
  return /^[a-z2-7]{24}$/.test(letters) ? letters : null;
}

function hashRecoveryCode(normalized: string): Uint8Array {
  return sha256(new TextEncoder().encode(normalized));
}

/** Replaces the user's codes with a fresh set; the codes are returned for showing once, never stored. */
export function generateRecoveryCodes(db: Database.Database, userId: string): string[] {
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
  const insert = db.prepare('INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)');
  db.transaction(() => {
    deleteRecoveryCodes(db, userId);
    for (const code of codes) insert.run(userId, hashRecoveryCode(normalizeRecoveryCode(code)!));
  })();
  return codes;
}

/** Marks the code used if it is one of the user's unused codes; true when it was. */
export function useRecoveryCode(db: Database.Database, userId: string, input: string, now = Date.now()): boolean {
  const normalized = normalizeRecoveryCode(input);
  if (normalized === null) return false;
  return (
    db
      .prepare('UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL')
      .run(now, userId, hashRecoveryCode(normalized)).changes === 1
  );
}

export function remainingRecoveryCodes(db: Database.Database, userId: string): number {
  return db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL').get(userId)!.n;
}

export function deleteRecoveryCodes(db: Database.Database, userId: string): void {
  db.prepare('DELETE FROM recovery_codes WHERE user_id = ?').run(userId);
}
