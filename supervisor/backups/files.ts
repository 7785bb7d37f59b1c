/**
 * Where backups live and which of them to keep.
 *
 *   <dataDir>/backups/management/<UTC time>.db        management.db
 *   <dataDir>/backups/tenants/<tenant id>/<UTC time>.db    one tenant (removed with the tenant's data)
 *   <dataDir>/backups/tenants/<tenant id>/replaced-<UTC time>.db    what a restore replaced
 *
 * The time is the start of the backup, as ISO 8601 with `-` for `:` (`2026-11-26T03-00-00.000Z.db`),
 * so names sort by time. A file being written is `<name>.partial` and renamed when complete: a
 * listed backup is always whole. Retention keeps every backup of the last 24 hours (an operator's
 * backup before an upgrade survives the scheduled one that follows), and the newest backup of each
 * of the last `keepDaily` days that have one and of each of the last `keepWeekly` ISO weeks (UTC);
 * `replaced-` files are an operator's to delete.
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { tenantBackupDir } from '../billing/purge-tenant.js';

export { tenantBackupDir };

export interface Retention {
  keepDaily: number;
  keepWeekly: number;
}

export interface BackupFile {
  name: string;
  path: string;
  at: number;
  bytes: number;
}

const NAME = /^(\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}\.\d{3}Z)\.db$/;

export function managementBackupDir(dataDir: string): string {
  return join(dataDir, 'backups', 'management');
}

export function backupName(at: number, prefix = ''): string {
  return `${prefix}${new Date(at).toISOString().replace(/:/g, '-')}.db`;
}

function timeOf(name: string): number | null {
  const match = NAME.exec(name);
  if (!match) return null;
  const iso = match[1]!.replace(/T(\d{2})-(\d{2})-(\d{2})/, 'T$1:$2:$3');
  const at = Date.parse(iso);
  return Number.isNaN(at) ? null : at;
}

/** The backups in a folder, newest first (not `.partial` files, not `replaced-` ones). */
export function listBackups(dir: string): BackupFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return [];
    throw error;
  }
  const backups: BackupFile[] = [];
  for (const name of names) {
    const at = timeOf(name);
    if (at === null) continue;
    const path = join(dir, name);
    backups.push({ name, path, at, bytes: statSync(path).size });
  }
  return backups.sort((a, b) => b.at - a.at);
}

/** Which backups retention lets go (of a list ordered newest first). */
export function expiredBackups(backups: BackupFile[], retention: Retention, now = Date.now()): BackupFile[] {
  const keep = new Set<BackupFile>(backups.filter((backup) => backup.at > now - 86_400_000));
  const newestPer = (key: (at: number) => string, count: number) => {
    const seen = new Set<string>();
    for (const backup of backups) {
      const period = key(backup.at);
      if (seen.has(period)) continue;
      if (seen.size >= count) break;
      seen.add(period);
      keep.add(backup);
    }
  };
  newestPer((at) => new Date(at).toISOString().slice(0, 10), Math.max(1, retention.keepDaily));
  newestPer((at) => DateTime.fromMillis(at, { zone: 'utc' }).toFormat("kkkk-'W'WW"), retention.keepWeekly);
  return backups.filter((backup) => !keep.has(backup));
}

/** Deletes what retention lets go; returns the names deleted. */
export function applyRetention(dir: string, retention: Retention, now = Date.now()): string[] {
  const expired = expiredBackups(listBackups(dir), retention, now);
  for (const backup of expired) rmSync(backup.path, { force: true });
  return expired.map((backup) => backup.name);
}
