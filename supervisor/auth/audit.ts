/** The security audit log: who did what to an account, from where. Never a secret in `detail`. */
import type Database from 'better-sqlite3';

export type AuditAction =
  | 'signup'
  | 'login'
  | 'login_failed'
  | 'login_2fa_failed'
  | 'logout'
  | 'session_revoked'
  | 'email_verified'
  | 'password_reset_requested'
  | 'password_reset'
  | 'password_changed'
  | 'email_change_requested'
  | 'email_changed'
  | 'two_factor_enabled'
  | 'two_factor_disabled'
  | 'recovery_code_used'
  | 'recovery_codes_regenerated'
  | 'oauth_linked'
  | 'account_deleted'
  | 'x_connected'
  | 'x_disconnected'
  | 'x_app_changed';

export function audit(
  db: Database.Database,
  entry: { userId: string | null; action: AuditAction; ip?: string | null; detail?: Record<string, unknown> },
  now = Date.now(),
): void {
  db.prepare('INSERT INTO audit_log (at, user_id, action, ip, detail) VALUES (?, ?, ?, ?, ?)').run(
    now,
    entry.userId,
    entry.action,
    entry.ip ?? null,
    entry.detail ? JSON.stringify(entry.detail) : null,
  );
}

export function auditTrail(db: Database.Database, userId: string, limit = 50): { at: number; action: string; ip: string | null; detail: unknown }[] {
  return db
    .prepare<[string, number], { at: number; action: string; ip: string | null; detail: string | null }>(
      'SELECT at, action, ip, detail FROM audit_log WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?',
    )
    .all(userId, limit)
    .map((row) => ({ ...row, detail: row.detail ? (JSON.parse(row.detail) as unknown) : null }));
}
