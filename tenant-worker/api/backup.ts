/**
 * The online backup of an active tenant, taken by the tenant itself.
 *
 * While a tenant is active it holds its file in `locking_mode=EXCLUSIVE`, so no other connection
 * can read it: the copy has to be made through this connection. SQLite's backup API (better-sqlite3's
 * `db.backup`) copies the pages in steps between which the actor keeps serving; writes made meanwhile
 * through this same connection are carried into the copy, so the file is consistent as of its end.
 * The supervisor chooses the path (a `.partial` file in this tenant's own backup folder, renamed
 * once complete); any other path is refused.
 */
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import { validate, type Handler } from '../handlers.js';

const BackupParams = v.object({ path: v.pipe(v.string(), v.minLength(1), v.maxLength(4096)) });

/** `…/backups/tenants/<this tenant>/<name>.partial`, and nothing else. */
function isOwnBackupPath(path: string, tenantId: string): boolean {
  const absolute = resolve(path);
  return absolute === path && dirname(absolute).endsWith(join('/backups', 'tenants', tenantId)) && /^[\w.-]+\.partial$/.test(basename(absolute));
}

export const backupHandlers: Record<string, Handler> = {
  'backup.create': async (context, params) => {
    const { path } = validate(BackupParams, params);
    if (!isOwnBackupPath(path, context.tenantId)) {
      throw new RemoteError('invalid_params', 'The backup path is not in this tenant\'s backup folder.', { path: "must be a .partial file in this tenant's backup folder" });
    }
    const started = performance.now();
    const { totalPages } = await context.db.backup(path);
    return { pages: totalPages, bytes: statSync(path).size, ms: Math.round(performance.now() - started) };
  },
};
