/**
 * Sessions, after Lucia's session guide.
 *
 * A token is `<id>.<secret>`: the id finds the row, the secret proves possession and is stored only
 * as SHA-256, compared in constant time. Sessions slide: valid for 30 days after the last use, and
 * the last use is written at most hourly so validating a session is normally one read.
 */
import type Database from 'better-sqlite3';
import { hashToken, hashesEqual, randomToken } from './tokens.js';

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
const REFRESH_EVERY_MS = 60 * 60 * 1000;

export interface Session {
  id: string;
  userId: string;
  createdAt: number;
  lastVerifiedAt: number;
  expiresAt: number;
  ip: string | null;
  userAgent: string | null;
}

interface SessionRow {
  id: string;
  user_id: string;
  secret_hash: Uint8Array;
  created_at: number;
  last_verified_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    lastVerifiedAt: row.last_verified_at,
    expiresAt: row.expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
  };
}

export function createSession(
  db: Database.Database,
  userId: string,
  client: { ip?: string | null; userAgent?: string | null } = {},
  now = Date.now(),
): { token: string; session: Session } {
  const id = randomToken(16);
  const secret = randomToken(20);
  const row: SessionRow = {
    id,
    user_id: userId,
    secret_hash: hashToken(secret),
    created_at: now,
    last_verified_at: now,
    expires_at: now + SESSION_TTL_MS,
    ip: client.ip ?? null,
    user_agent: client.userAgent?.slice(0, 300) ?? null,
  };
  db.prepare(
    'INSERT INTO sessions (id, user_id, secret_hash, created_at, last_verified_at, expires_at, ip, user_agent) VALUES (@id, @user_id, @secret_hash, @created_at, @last_verified_at, @expires_at, @ip, @user_agent)',
  ).run(row);
  return { token: `${id}.${secret}`, session: toSession(row) };
}

/** The live session a token proves, refreshed if due; null for anything else. */
export function validateSessionToken(db: Database.Database, token: string, now = Date.now()): Session | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const id = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  const row = db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?').get(id);
  if (!row || !hashesEqual(hashToken(secret), row.secret_hash)) return null;
  if (row.expires_at <= now) {
    invalidateSession(db, id);
    return null;
  }
  if (now - row.last_verified_at >= REFRESH_EVERY_MS) {
    row.last_verified_at = now;
    row.expires_at = now + SESSION_TTL_MS;
    db.prepare('UPDATE sessions SET last_verified_at = ?, expires_at = ? WHERE id = ?').run(now, row.expires_at, id);
  }
  return toSession(row);
}

export function invalidateSession(db: Database.Database, id: string): void {
  db.prepare('DELETE FROM sessions WHERE id = ?').run(id);
}

/** Ends every session of a user, except `keep` (the one making the change). */
export function invalidateUserSessions(db: Database.Database, userId: string, keep?: string): number {
  return db.prepare('DELETE FROM sessions WHERE user_id = ? AND id IS NOT ?').run(userId, keep ?? null).changes;
}

export function listSessions(db: Database.Database, userId: string, now = Date.now()): Session[] {
  return db
    .prepare<[string, number], SessionRow>('SELECT * FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY last_verified_at DESC')
    .all(userId, now)
    .map(toSession);
}
