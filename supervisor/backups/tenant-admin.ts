/**
 * What the admin CLI reads and changes about tenants from outside the server process: a summary
 * row per tenant (registry, account, plan, size, usage), suspension, and purging a tenant's data.
 *
 * Usage is read from each tenant's own DB without waiting for locks: a tenant active in a running
 * server holds its file, and is shown as `active` instead of numbers.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { isTenantId, type TenantRecord, type TenantRegistry } from '../tenants/registry.js';
import { normalizeEmail } from '../auth/users.js';
import { tenantBackupDir } from './files.js';
import { holdTenant } from './hold.js';
import { DatabaseBusyError, openUnlocked } from './snapshot.js';

export interface TenantUsage {
  /** What X calls cost since the start of the UTC month (micro-dollars). */
  xSpendMicrosThisMonth: number;
  llmCostMicrosThisMonth: number;
  /** Replies, tweets and threads posted in the last 30 days. */
  postsLast30Days: number;
}

export interface TenantSummary extends TenantRecord {
  email: string | null;
  accountDeleted: boolean;
  plan: string;
  subscription: string | null;
  dbBytes: number | null;
  usage?: TenantUsage | 'active' | null;
}

interface AccountRow {
  email: string;
  deleted_at: number | null;
  plan: string | null;
  stripe_status: string | null;
}

/** A tenant by its id or by its user's email address (a deleted account's too). */
export function findTenant(db: Database.Database, registry: TenantRegistry, idOrEmail: string): TenantRecord | undefined {
  if (isTenantId(idOrEmail)) return registry.get(idOrEmail);
  const row = db
    .prepare<[string], { tenant_id: string }>('SELECT tenant_id FROM users WHERE email = ? ORDER BY deleted_at IS NOT NULL, created_at DESC LIMIT 1')
    .get(normalizeEmail(idOrEmail));
  return row ? registry.get(row.tenant_id) : undefined;
}

function fileBytes(path: string): number | null {
  if (!existsSync(path)) return null;
  const wal = existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0;
  return statSync(path).size + wal;
}

/** Usage from the tenant's DB; 'active' when a running tenant holds it, null without data. */
export function readUsage(path: string, now = Date.now()): TenantUsage | 'active' | null {
  if (!existsSync(path)) return null;
  let db: Database.Database;
  try {
    db = openUnlocked(path);
  } catch (error) {
    if (error instanceof DatabaseBusyError) return 'active';
    throw error;
  }
  try {
    const date = new Date(now);
    const monthStart = Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    const since = now - 30 * 86_400_000;
    const sum = (sql: string, ...params: number[]) => {
      try {
        return (db.prepare(sql).pluck().get(...params) as number | null) ?? 0;
      } catch {
        // A DB from before that table's migration.
        return 0;
      }
    };
    return {
      xSpendMicrosThisMonth: sum('SELECT sum(cost_micros) FROM x_spend WHERE at >= ?', monthStart),
      llmCostMicrosThisMonth: sum('SELECT sum(cost_micros) FROM llm_usage WHERE at >= ?', monthStart),
      postsLast30Days:
        sum('SELECT count(*) FROM replies WHERE posted_at >= ?', since) +
        sum('SELECT count(*) FROM original_tweets WHERE posted_at >= ?', since) +
        sum("SELECT count(*) FROM threads WHERE posted_at >= ? AND status = 'posted'", since),
    };
  } finally {
    db.close();
  }
}

export function summarize(db: Database.Database, registry: TenantRegistry, tenant: TenantRecord, options: { usage?: boolean } = {}): TenantSummary {
  const account = db
    .prepare<[string], AccountRow>(
      'SELECT u.email, u.deleted_at, s.plan, s.stripe_status FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id WHERE u.tenant_id = ?',
    )
    .get(tenant.id);
  const path = registry.dbPath(tenant.id);
  // Ceilings name the plan the tenant runs under; none at all means a self-hosted server (no limits).
  const plan = tenant.ceilings === null ? 'unlimited' : tenant.ceilings.plan;
  return {
    ...tenant,
    email: account?.email ?? null,
    accountDeleted: account ? account.deleted_at !== null : false,
    plan,
    subscription: account?.stripe_status ? `${account.plan} (${account.stripe_status})` : null,
    dbBytes: fileBytes(path),
    ...(options.usage && { usage: readUsage(path) }),
  };
}

/** Stops a tenant: no activation, requests answer 410. False if it was not ready. */
export function suspendTenant(registry: TenantRegistry, tenantId: string): boolean {
  if (registry.get(tenantId)?.status !== 'ready') return false;
  registry.setStatus(tenantId, 'stopped');
  return true;
}

/** Undoes a suspension; refuses a deleted account (its stop is the deletion's). */
export function resumeTenant(db: Database.Database, registry: TenantRegistry, tenantId: string): 'resumed' | 'not_suspended' | 'account_deleted' {
  if (registry.get(tenantId)?.status !== 'stopped') return 'not_suspended';
  const deleted = db.prepare<[string], { n: number }>('SELECT count(*) AS n FROM users WHERE tenant_id = ? AND deleted_at IS NOT NULL').get(tenantId)!.n;
  if (deleted > 0) return 'account_deleted';
  registry.setStatus(tenantId, 'ready');
  registry.setNextAlarm(tenantId, Date.now());
  return 'resumed';
}

/**
 * Deletes a tenant's DB and backups for good, as the billing purge does (tenants/billing): the
 * tenant keeps its registry row and status and starts from an empty DB if it runs again.
 */
export async function purgeTenantFiles(registry: TenantRegistry, dataDir: string, tenantId: string, options: { timeoutMs?: number; settleMs?: number } = {}): Promise<void> {
  const hold = await holdTenant(registry, tenantId, 'purge', options);
  try {
    const path = registry.dbPath(tenantId);
    for (const suffix of ['', '-wal', '-shm', '.restoring']) rmSync(`${path}${suffix}`, { force: true });
    rmSync(tenantBackupDir(dataDir, tenantId), { recursive: true, force: true });
    registry.setNextAlarm(tenantId, null);
  } finally {
    hold.release();
  }
}
