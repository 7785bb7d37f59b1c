/**
 * `tuitbot rotate-key`: re-seals every stored secret under the keyring's current key, while the
 * server may be running.
 *
 * Safe alongside a live server because each value is replaced only if it is still the value read
 * (compare-and-swap) and the server's keyring holds both keys. A tenant DB held by an active
 * tenant (its thread opens it exclusively) is skipped and reported: the tenant re-seals its tokens
 * itself when it reads them, and a second run picks it up once it has hibernated.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { checkpointAndClose, openDatabase } from '../../migrations/runner.js';
import type { SecretBox } from '../../protocol/index.js';
import { resealTenant } from '../../tenant-worker/sealed-columns.js';
import { TOTP_SEED_FIELD } from '../auth/totp.js';
import { TenantRegistry } from '../tenants/registry.js';

/** Sealed columns of management.db, with the tenant whose key sealed each value. */
const MANAGEMENT_SEALED = [
  { sql: 'SELECT u.rowid AS row, u.totp_secret AS value, u.tenant_id AS tenant FROM users u WHERE u.totp_secret IS NOT NULL', table: 'users', column: 'totp_secret', field: TOTP_SEED_FIELD },
  {
    sql: 'SELECT s.rowid AS row, s.code_verifier AS value, u.tenant_id AS tenant FROM x_oauth_states s JOIN users u ON u.id = s.user_id',
    table: 'x_oauth_states',
    column: 'code_verifier',
    field: 'x_pkce_verifier',
  },
  {
    sql: 'SELECT a.rowid AS row, a.client_secret AS value, u.tenant_id AS tenant FROM x_own_apps a JOIN users u ON u.id = a.user_id WHERE a.client_secret IS NOT NULL',
    table: 'x_own_apps',
    column: 'client_secret',
    field: 'x_client_secret',
  },
] as const;

export interface RotationReport {
  keyId: string;
  management: number;
  tenants: { resealed: number; done: number; busy: string[] };
}

export function resealManagement(db: Database.Database, secrets: SecretBox): number {
  let count = 0;
  for (const { sql, table, column, field } of MANAGEMENT_SEALED) {
    const update = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE rowid = ? AND ${column} = ?`);
    for (const row of db.prepare<[], { row: number; value: string; tenant: string }>(sql).all()) {
      if (!secrets.isStale(row.value)) continue;
      count += update.run(secrets.seal(row.tenant, field, secrets.open(row.tenant, field, row.value)), row.row, row.value).changes;
    }
  }
  return count;
}

export function rotateSecrets(dataDir: string, secrets: SecretBox): RotationReport {
  const db = openDatabase(join(dataDir, 'management.db'), 'management');
  const report: RotationReport = { keyId: secrets.keyId, management: 0, tenants: { resealed: 0, done: 0, busy: [] } };
  try {
    report.management = resealManagement(db, secrets);
    const registry = new TenantRegistry(db, dataDir);
    for (const tenant of registry.list()) {
      const path = registry.dbPath(tenant.id);
      if (!existsSync(path)) continue;
      let tenantDb: Database.Database;
      try {
        tenantDb = openDatabase(path, 'tenant');
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_BUSY') {
          report.tenants.busy.push(tenant.id);
          continue;
        }
        throw error;
      }
      try {
        report.tenants.resealed += resealTenant(tenantDb, secrets.forTenant(tenant.id));
        report.tenants.done += 1;
      } catch (error) {
        if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
        report.tenants.busy.push(tenant.id);
      } finally {
        checkpointAndClose(tenantDb);
      }
    }
  } finally {
    checkpointAndClose(db);
  }
  return report;
}
