/**
 * User accounts in `management.db`. Every user owns exactly one tenant, registered in the same
 * transaction as the user, so there is never an account without a runtime or the reverse.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { TenantRegistry } from '../tenants/registry.js';

export type Role = 'user' | 'admin';

export interface User {
  id: string;
  email: string;
  emailVerifiedAt: number | null;
  role: Role;
  tenantId: string;
  twoFactorEnabled: boolean;
  hasPassword: boolean;
  createdAt: number;
}

export interface UserRow {
  id: string;
  email: string;
  email_verified_at: number | null;
  password_hash: string | null;
  role: Role;
  tenant_id: string;
  totp_secret: string | null;
  totp_enabled_at: number | null;
  totp_last_step: number | null;
  created_at: number;
  deleted_at: number | null;
  purge_after: number | null;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    emailVerifiedAt: row.email_verified_at,
    role: row.role,
    tenantId: row.tenant_id,
    twoFactorEnabled: row.totp_enabled_at !== null,
    hasPassword: row.password_hash !== null,
    createdAt: row.created_at,
  };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A live (not deleted) user row. */
export function findUserByEmail(db: Database.Database, email: string): UserRow | undefined {
  return db.prepare<[string], UserRow>('SELECT * FROM users WHERE email = ? AND deleted_at IS NULL').get(normalizeEmail(email));
}

export function findUserById(db: Database.Database, id: string): UserRow | undefined {
  return db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ? AND deleted_at IS NULL').get(id);
}

export function countUsers(db: Database.Database): number {
  return db.prepare<[], { n: number }>('SELECT count(*) AS n FROM users').get()!.n;
}

export interface NewUser {
  email: string;
  passwordHash: string | null;
  role?: Role;
  emailVerified?: boolean;
}

/** Creates the user and its tenant; call inside a transaction when more must commit with it. */
export function createUser(db: Database.Database, registry: TenantRegistry, input: NewUser, now = Date.now()): UserRow {
  const tenant = registry.create({ now });
  const id = randomUUID();
  db.prepare(
    'INSERT INTO users (id, email, email_verified_at, password_hash, role, tenant_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
  ).run(id, normalizeEmail(input.email), input.emailVerified ? now : null, input.passwordHash, input.role ?? 'user', tenant.id, now);
  return findUserById(db, id)!;
}

export function setPasswordHash(db: Database.Database, userId: string, hash: string): void {
  db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(hash, userId);
}

export function markEmailVerified(db: Database.Database, userId: string, email: string, now = Date.now()): void {
  db.prepare('UPDATE users SET email = ?, email_verified_at = ? WHERE id = ?').run(normalizeEmail(email), now, userId);
}
