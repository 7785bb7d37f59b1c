/**
 * The running server's backups: the schedule of `schedule.ts`, with the server's own management
 * connection and its tenant host (active tenants copy themselves; nothing is woken for a backup).
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { RemoteError } from '../../protocol/index.js';
import type { Config } from '../config.js';
import type { TenantHost } from '../tenants/host.js';
import type { TenantRegistry } from '../tenants/registry.js';
import type { TenantAccess } from './run.js';
import { startBackupSchedule, type BackupSchedule } from './schedule.js';

/** A large tenant copies itself in steps between its other work; give it time. */
const TENANT_BACKUP_TIMEOUT_MS = 120_000;

export function hostAccess(host: TenantHost, timeoutMs = TENANT_BACKUP_TIMEOUT_MS): TenantAccess {
  return {
    stateOf(tenantId) {
      const state = host.state(tenantId);
      return state === 'active' || state === 'hibernated' ? state : 'busy';
    },
    async backupThroughTenant(tenantId, path) {
      // Only a tenant that is active now: a request to any other would wake it.
      if (host.state(tenantId) !== 'active') throw new RemoteError('hibernating', 'The tenant is no longer active.');
      await host.request(tenantId, 'backup.create', { path }, timeoutMs);
    },
  };
}

export function startServerBackups(deps: { config: Config; db: Database.Database; registry: TenantRegistry; host: TenantHost; log: Logger }): BackupSchedule {
  const { config } = deps;
  return startBackupSchedule({
    dataDir: config.dataDir,
    registry: deps.registry,
    retention: config.backups,
    intervalMs: config.backups.intervalMs,
    management: deps.db,
    tenants: hostAccess(deps.host),
    log: deps.log,
  });
}
