/**
 * `tuitbot restore <tenant>`: puts a backup back in place of a tenant's DB.
 *
 * The backup is first copied next to the live file (`<id>.db.restoring`, same filesystem) and
 * checked there: SQLite's integrity check, and a schema this code knows (a backup from a newer
 * version is refused, as the migration runner would). Then the tenant is held (hold.ts), the live
 * file keeps a second name in the tenant's backup folder (`replaced-<time>.db`, a hard link, so
 * nothing is copied and the purge removes it with the rest), and the checked copy is renamed over
 * it: at every instant `<id>.db` is either the old file or the new one. The tenant's alarm is set to
 * now, so it wakes, runs what the restored jobs say is due, and reports its real next alarm.
 *
 * Backups belong to their tenant: sealed secrets are bound to the tenant id, so a backup of
 * another tenant would restore its data but not its X connection or LLM key (use export/import).
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { checkpointAndClose, loadMigrations, migrationsDir } from '../../migrations/runner.js';
import type { TenantRegistry } from '../tenants/registry.js';
import { backupName, listBackups, tenantBackupDir } from './files.js';
import { holdTenant } from './hold.js';
import { settle } from './snapshot.js';

export interface RestoreResult {
  tenantId: string;
  from: string;
  /** Where the replaced DB was kept; null when the tenant had none. */
  replacedKeptAt: string | null;
}

export class RestoreError extends Error {
  override name = 'RestoreError';
}

/** Refuses a file that is not a sound tenant DB of a schema this code knows. */
function checkCandidate(path: string): void {
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: true });
  } catch (error) {
    throw new RestoreError(`cannot open the backup: ${(error as Error).message}`);
  }
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new RestoreError(`the backup is damaged: ${String(check)}`);
    const hasMigrations = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
    if (!hasMigrations) throw new RestoreError('the file is not a TuitBot tenant DB (no schema_migrations)');
    const known = new Set(loadMigrations(migrationsDir('tenant')).map((m) => m.name));
    const applied = db.prepare<[], { name: string }>('SELECT name FROM schema_migrations').all().map((row) => row.name);
    const newer = applied.filter((name) => !known.has(name));
    if (newer.length > 0) throw new RestoreError(`the backup was written by a newer TuitBot (migrations ${newer.join(', ')}); upgrade first`);
    if (!known.has(applied[0] ?? '')) throw new RestoreError('the file is not a TuitBot tenant DB (unknown migrations)');
    // Leave it a WAL file with nothing in its WAL, as a hibernated tenant's is.
    db.pragma('journal_mode = WAL');
  } catch (error) {
    db.close();
    throw error instanceof RestoreError ? error : new RestoreError(`the backup is not a readable TuitBot DB: ${(error as Error).message}`);
  }
  checkpointAndClose(db);
}

export async function restoreTenant(
  deps: { registry: TenantRegistry; dataDir: string; now?: () => number },
  tenantId: string,
  options: { from?: string; timeoutMs?: number; settleMs?: number } = {},
): Promise<RestoreResult> {
  const now = deps.now ?? Date.now;
  if (!deps.registry.get(tenantId)) throw new RestoreError(`no tenant ${tenantId}`);
  const backups = tenantBackupDir(deps.dataDir, tenantId);
  const from = options.from ?? listBackups(backups)[0]?.path;
  if (!from) throw new RestoreError(`tenant ${tenantId} has no backups in ${backups}`);
  if (!existsSync(from)) throw new RestoreError(`no such file: ${from}`);

  const live = deps.registry.dbPath(tenantId);
  const staged = `${live}.restoring`;
  for (const suffix of ['', '-wal', '-shm', '.partial']) rmSync(`${staged}${suffix}`, { force: true });
  mkdirSync(join(deps.dataDir, 'tenants'), { recursive: true });
  copyFileSync(from, `${staged}.partial`);
  settle(`${staged}.partial`, staged);
  try {
    checkCandidate(staged);
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm']) rmSync(`${staged}${suffix}`, { force: true });
    throw error;
  }

  const hold = await holdTenant(deps.registry, tenantId, 'restore', { timeoutMs: options.timeoutMs, settleMs: options.settleMs });
  try {
    let replacedKeptAt: string | null = null;
    if (existsSync(live)) {
      // A tenant that crashed left its last writes in the WAL: fold them in, so the kept file is whole.
      if (existsSync(`${live}-wal`)) checkpointAndClose(new Database(live, { fileMustExist: true, timeout: 0 }));
      mkdirSync(backups, { recursive: true });
      replacedKeptAt = join(backups, backupName(now(), 'replaced-'));
      try {
        linkSync(live, replacedKeptAt);
      } catch {
        copyFileSync(live, replacedKeptAt);
      }
    }
    settle(staged, live);
    for (const suffix of ['-wal', '-shm']) rmSync(`${live}${suffix}`, { force: true });
    deps.registry.setNextAlarm(tenantId, now());
    return { tenantId, from, replacedKeptAt };
  } finally {
    hold.release();
  }
}
