/**
 * The records of the tenant's uploaded media (table `media`, migration 0012). The supervisor streams
 * the bytes to `<DATA_DIR>/media/<tenant id>/<id>.<ext>` and then asks here to keep the record; this
 * side owns the rules that need the tenant's data: the storage quota (the sum of `size`), read-only
 * after a subscription ended, and "in use" (media attached to a post still waiting to go out may not
 * be deleted: the post would fail at its time).
 *
 * The quota is the operator's (`MEDIA_QUOTA_BYTES`, default 512 MB: a hundred images and a few videos,
 * more than a month of posts uses) and arrives with each request; media stay until the user deletes them.
 */
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import { validate, type Handler, type HandlerContext } from '../handlers.js';
import { refuseWhenReadOnly } from './read-only.js';

const MediaId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{22}$/, 'is not a media id'));
const TYPES = { 'image/jpeg': ['image', 'jpg'], 'image/png': ['image', 'png'], 'image/webp': ['image', 'webp'], 'image/gif': ['gif', 'gif'], 'video/mp4': ['video', 'mp4'] } as const;
const Pixels = v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100_000)));

const QuotaBytes = v.pipe(v.number(), v.integer(), v.minValue(1));
const AddParams = v.strictObject({
  id: MediaId,
  mime: v.picklist(Object.keys(TYPES) as (keyof typeof TYPES)[]),
  size: v.pipe(v.number(), v.integer(), v.minValue(1)),
  width: Pixels,
  height: Pixels,
  sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256')),
  quotaBytes: QuotaBytes,
});
const ById = v.strictObject({ id: MediaId });
const ListParams = v.strictObject({
  quotaBytes: QuotaBytes,
  before: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
});

interface MediaRow {
  seq: number;
  id: string;
  kind: 'image' | 'gif' | 'video';
  mime: string;
  ext: string;
  size: number;
  width: number | null;
  height: number | null;
  sha256: string;
  created_at: number;
}

function mediaView(row: MediaRow) {
  return {
    id: row.id,
    kind: row.kind,
    mime: row.mime,
    size: row.size,
    width: row.width,
    height: row.height,
    sha256: row.sha256,
    createdAt: row.created_at,
    url: `/api/media/${row.id}`,
  };
}

function usedBytes(context: HandlerContext): number {
  return context.db.prepare<[], { used: number }>('SELECT coalesce(sum(size), 0) AS used FROM media').get()!.used;
}

function findMedia(context: HandlerContext, id: string): MediaRow {
  const row = context.db.prepare<[string], MediaRow>('SELECT * FROM media WHERE id = ?').get(id);
  if (!row) throw new RemoteError('not_found', 'No such media.');
  return row;
}

/** Items that will still be posted and name this media (their `media` JSON arrays). */
function usedBy(context: HandlerContext, id: string): { approvals: number; scheduled: number } {
  const count = (sql: string) => context.db.prepare<[string], { n: number }>(sql).get(id)!.n;
  return {
    approvals: count("SELECT count(*) AS n FROM approval_queue q, json_each(q.media) m WHERE m.value = ? AND q.status IN ('pending', 'approved', 'posting', 'failed')"),
    scheduled: count("SELECT count(*) AS n FROM scheduled_content s, json_each(s.media) m WHERE m.value = ? AND s.status IN ('draft', 'scheduled', 'posting', 'failed')"),
  };
}

export const mediaHandlers: Record<string, Handler> = {
  'media.add': (context, params) => {
    refuseWhenReadOnly(context);
    const input = validate(AddParams, params);
    const [kind, ext] = TYPES[input.mime];
    const now = Date.now();
    // Checked and written in one transaction: two uploads at once cannot both fit in the last room.
    context.db
      .transaction(() => {
        const used = usedBytes(context);
        if (used + input.size > input.quotaBytes) {
          throw new RemoteError('quota_exceeded', `This file does not fit in your media storage (${mb(used)} of ${mb(input.quotaBytes)} MB used); delete some media first.`);
        }
        context.db
          .prepare('INSERT INTO media (id, kind, mime, ext, size, width, height, sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(input.id, kind, input.mime, ext, input.size, input.width, input.height, input.sha256, now);
      })
      .immediate();
    return mediaView(findMedia(context, input.id));
  },

  /** Newest first; page with `before=<nextCursor>`. `usage` is the quota. */
  'media.list': (context, params) => {
    const { before, limit = 50, quotaBytes } = validate(ListParams, params);
    const rows = context.db
      .prepare<[number, number], MediaRow>('SELECT * FROM media WHERE seq < ? ORDER BY seq DESC LIMIT ?')
      .all(before ?? Number.MAX_SAFE_INTEGER, limit + 1);
    const page = rows.slice(0, limit);
    return {
      items: page.map(mediaView),
      nextCursor: rows.length > limit ? page[page.length - 1]!.seq : null,
      usage: { usedBytes: usedBytes(context), quotaBytes },
    };
  },

  'media.get': (context, params) => mediaView(findMedia(context, validate(ById, params).id)),

  /** Forgets the record (the supervisor then removes the file); refused while a post still needs it. */
  'media.delete': (context, params) => {
    refuseWhenReadOnly(context);
    const { id } = validate(ById, params);
    const row = findMedia(context, id);
    const users = usedBy(context, id);
    if (users.approvals + users.scheduled > 0) {
      throw new RemoteError('in_use', 'This media is attached to a post that has not gone out yet; remove it from the post first.', { id: `attached to ${users.approvals} approval item(s) and ${users.scheduled} scheduled item(s) or draft(s)` });
    }
    context.db.prepare('DELETE FROM media WHERE id = ?').run(id);
    return mediaView(row);
  },
};

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, '');
}
