/**
 * Single-use tokens for links and steps: email verification (24 h), password reset (30 min),
 * email change (24 h) and the pending second step of a 2FA login (5 min). Stored as SHA-256;
 * consuming one marks it used in the same statement that checks it, so it works exactly once.
 */
import type Database from 'better-sqlite3';
import { hashToken, randomToken } from './tokens.js';

export type TokenPurpose = 'verify_email' | 'reset_password' | 'change_email' | 'login_2fa';

export const TOKEN_TTL_MS: Record<TokenPurpose, number> = {
  verify_email: 24 * 60 * 60 * 1000,
  reset_password: 30 * 60 * 1000,
  change_email: 24 * 60 * 60 * 1000,
  login_2fa: 5 * 60 * 1000,
};

export interface UserToken {
  userId: string;
  email: string | null;
  attempts: number;
}

/** Issues a token; earlier unused tokens of the same purpose stop working. */
export function issueUserToken(db: Database.Database, userId: string, purpose: TokenPurpose, email: string | null = null, now = Date.now()): string {
  const token = randomToken();
  db.prepare('DELETE FROM user_tokens WHERE user_id = ? AND purpose = ? AND used_at IS NULL').run(userId, purpose);
  db.prepare('INSERT INTO user_tokens (token_hash, user_id, purpose, email, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(
    hashToken(token),
    userId,
    purpose,
    email,
    now,
    now + TOKEN_TTL_MS[purpose],
  );
  return token;
}

/** Uses a token up; null when unknown, expired, already used or for another purpose. */
export function consumeUserToken(db: Database.Database, token: string, purpose: TokenPurpose, now = Date.now()): UserToken | null {
  const row = db
    .prepare<[number, Uint8Array, string, number], { user_id: string; email: string | null; attempts: number }>(
      'UPDATE user_tokens SET used_at = ? WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ? RETURNING user_id, email, attempts',
    )
    .get(now, hashToken(token), purpose, now);
  return row ? { userId: row.user_id, email: row.email, attempts: row.attempts } : null;
}

/** Reads a live token without using it (for multi-attempt steps such as the 2FA login). */
export function peekUserToken(db: Database.Database, token: string, purpose: TokenPurpose, now = Date.now()): UserToken | null {
  const row = db
    .prepare<[Uint8Array, string, number], { user_id: string; email: string | null; attempts: number }>(
      'SELECT user_id, email, attempts FROM user_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?',
    )
    .get(hashToken(token), purpose, now);
  return row ? { userId: row.user_id, email: row.email, attempts: row.attempts } : null;
}

/** Counts a failed attempt against a token; returns the new count. */
export function recordTokenAttempt(db: Database.Database, token: string): number {
  const row = db.prepare<[Uint8Array], { attempts: number }>('UPDATE user_tokens SET attempts = attempts + 1 WHERE token_hash = ? RETURNING attempts').get(hashToken(token));
  return row?.attempts ?? 0;
}
