/**
 * The data purge of deleted accounts, 30 days after deletion (the grace period in which support
 * can still restore an account by hand).
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { removeTenantMedia } from '../media/store.js';
import { tenantBackupDir } from '../billing/purge-tenant.js';
import type Database from 'better-sqlite3';
import type { TenantRegistry } from '../tenants/registry.js';

/**
 * Deletes, for good, the accounts whose purge date has passed: the user row (its sessions, tokens
 * and identities cascade), the tenant row and the tenant's files. Returns the purged user ids.
 */
export function purgeDeletedAccounts(db: Database.Database, registry: TenantRegistry, now = Date.now()): string[] {
  const due = db.prepare<[number], { id: string; tenant_id: string }>('SELECT id, tenant_id FROM users WHERE purge_after IS NOT NULL AND purge_after <= ?').all(now);
  for (const user of due) {
    const path = registry.dbPath(user.tenant_id);
    db.transaction(() => {
      db.prepare('DELETE FROM users WHERE id = ?').run(user.id);
      registry.remove(user.tenant_id);
    })();
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    // The DB is `<dataDir>/tenants/<id>.db` (registry.dbPath).
    removeTenantMedia(dirname(dirname(path)), user.tenant_id);
    rmSync(tenantBackupDir(dirname(dirname(path)), user.tenant_id), { recursive: true, force: true });
  }
  return due.map((user) => user.id);
}
