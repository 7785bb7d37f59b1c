/**
 * Deleting a tenant's data for good when its retention period ends: the tenant is stopped (no
 * activation can open the DB meanwhile), its DB files and backups are removed, and it is made ready
 * again, so a later subscription starts from an empty DB (migrations create it on activation).
 * Its uploaded media (`<dataDir>/media/<tenant id>/`) go with the DB that recorded them.
 *
 * Backups of a tenant live in `<dataDir>/backups/tenants/<tenant id>/` (see docs/architecture.md).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeTenantMedia } from '../media/store.js';
import type { TenantHost } from '../tenants/host.js';
import type { TenantRegistry } from '../tenants/registry.js';

export function tenantBackupDir(dataDir: string, tenantId: string): string {
  return join(dataDir, 'backups', 'tenants', tenantId);
}

export async function purgeTenantData(
  deps: { host: TenantHost; registry: TenantRegistry; dataDir: string },
  tenantId: string,
  timeoutMs = 15_000,
): Promise<void> {
  const { host, registry } = deps;
  // A quarantined or stopped (deleted account) tenant stays so; only its data goes.
  const status = registry.get(tenantId)?.status ?? 'ready';
  host.stop(tenantId);
  const deadline = Date.now() + timeoutMs;
  while (host.state(tenantId) !== 'hibernated') {
    if (Date.now() > deadline) throw new Error(`tenant ${tenantId} did not hibernate for its purge`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const path = registry.dbPath(tenantId);
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
  rmSync(tenantBackupDir(deps.dataDir, tenantId), { recursive: true, force: true });
  removeTenantMedia(deps.dataDir, tenantId);
  registry.setStatus(tenantId, status);
  registry.setNextAlarm(tenantId, null);
}
