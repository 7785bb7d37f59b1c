/**
 * Invitations for servers with REGISTRATION=invite: the admin CLI creates a link, one signup uses
 * it. Stored as SHA-256 like every other token; an invite may be bound to one email address.
 */
import type Database from 'better-sqlite3';
import { hashToken, randomToken } from './tokens.js';
import { normalizeEmail } from './users.js';

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export function createInvite(db: Database.Database, email: string | null = null, now = Date.now()): string {
  const token = randomToken();
  db.prepare('INSERT INTO invites (token_hash, email, created_at, expires_at) VALUES (?, ?, ?, ?)').run(
    hashToken(token),
    email === null ? null : normalizeEmail(email),
    now,
    now + INVITE_TTL_MS,
  );
  return token;
}

/** Uses an invite for `email`; false when unknown, expired, used or bound to another address. */
export function consumeInvite(db: Database.Database, token: string, email: string, userId: string, now = Date.now()): boolean {
  return (
    db
      .prepare('UPDATE invites SET used_at = ?, used_by = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ? AND (email IS NULL OR email = ?)')
      .run(now, userId, hashToken(token), now, normalizeEmail(email)).changes === 1
  );
}
