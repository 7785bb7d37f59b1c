/**
 * The media attached to a post, as X media ids, at the moment it is posted: each of our media (table
 * `media`, tenant-worker/api/media.ts) is uploaded to X from its file, and X's id is kept on the row
 * until X forgets it (`x_media_expires_at`, X's 24 h), so a retried or resumed post does not upload twice.
 *
 * The files are written by the supervisor at `<DATA_DIR>/media/<tenant id>/<id>.<ext>`; the tenant finds
 * that directory beside its DB (`<DATA_DIR>/tenants/<tenant id>.db`), the registry's layout.
 *
 * What no retry can fix is permanent (the item fails with the reason shown): a media deleted meanwhile,
 * its file missing or unreadable or changed on disk, a combination X refuses (more than 4 images, or a
 * GIF or video with anything else). X's own refusals follow the usual rule (4xx permanent, else retry).
 * Uploads are not billed by X (docs/pricing-economics.md lists reads and posts), so no budget is spent.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type Database from 'better-sqlite3';
import type { XClient } from '../x/client.js';
import { isPermanentXError } from './intents.js';

/** X's id is not used in its last 10 minutes: a post may take that long to go out after the check. */
const EXPIRY_MARGIN_MS = 10 * 60_000;

export type AttachResult = { ok: true; xMediaIds: string[] } | { ok: false; message: string; permanent: boolean };

interface MediaRow {
  id: string;
  kind: 'image' | 'gif' | 'video';
  mime: string;
  ext: string;
  size: number;
  sha256: string;
  x_media_id: string | null;
  x_media_expires_at: number | null;
}

/** `<DATA_DIR>/tenants/<id>.db` → `<DATA_DIR>/media/<id>`. */
export function mediaDirOf(dbPath: string): string {
  return join(dirname(dirname(dbPath)), 'media', basename(dbPath).replace(/\.db$/, ''));
}

export async function xMediaIdsFor(
  deps: { db: Database.Database; now(): number; mediaDir?: string },
  client: XClient,
  mediaIds: readonly string[],
): Promise<AttachResult> {
  if (mediaIds.length === 0) return { ok: true, xMediaIds: [] };
  const { db } = deps;
  const rows: MediaRow[] = [];
  for (const id of mediaIds) {
    const row = db.prepare<[string], MediaRow>('SELECT id, kind, mime, ext, size, sha256, x_media_id, x_media_expires_at FROM media WHERE id = ?').get(id);
    if (!row) return { ok: false, message: `Attached media ${id} no longer exists (deleted?); remove it from the post.`, permanent: true };
    rows.push(row);
  }
  const moving = rows.filter((row) => row.kind !== 'image').length;
  if (rows.length > 4 || (moving > 0 && rows.length > 1)) {
    return { ok: false, message: 'X takes up to 4 images, or one GIF or video alone, per post.', permanent: true };
  }
  const dir = deps.mediaDir ?? mediaDirOf(db.name);
  const ids: string[] = [];
  for (const row of rows) {
    if (row.x_media_id !== null && (row.x_media_expires_at ?? 0) > deps.now() + EXPIRY_MARGIN_MS) {
      ids.push(row.x_media_id);
      continue;
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(join(dir, `${row.id}.${row.ext}`));
    } catch (error) {
      return { ok: false, message: `The file of attached media ${row.id} is missing or unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, permanent: true };
    }
    if (bytes.length !== row.size || createHash('sha256').update(bytes).digest('hex') !== row.sha256) {
      return { ok: false, message: `The file of attached media ${row.id} changed on disk since it was uploaded.`, permanent: true };
    }
    try {
      const uploaded = await client.uploadMediaWithExpiry(bytes, row.mime);
      db.prepare('UPDATE media SET x_media_id = ?, x_media_expires_at = ? WHERE id = ?').run(uploaded.id, uploaded.expiresAt, row.id);
      ids.push(uploaded.id);
    } catch (error) {
      const message = `Uploading media ${row.id} to X failed: ${error instanceof Error ? error.message : String(error)}`;
      return { ok: false, message, permanent: isPermanentXError(error) };
    }
  }
  return { ok: true, xMediaIds: ids };
}
