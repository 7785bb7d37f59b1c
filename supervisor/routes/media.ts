/**
 * The caller's media: upload, list, the bytes, delete. The supervisor owns the files (supervisor/media/
 * store.ts) and the tenant the records (tenant-worker/api/media.ts): an upload is streamed to disk and
 * sniffed here, then kept only if the tenant records it (quota, read-only); a file without a record is
 * never served.
 *
 * The upload body is the file itself (`Content-Type: image/*`, `video/mp4` or `application/octet-stream`),
 * not multipart: it streams straight to disk, and a cross-site form cannot send it (those content types
 * need a CORS preflight; the same-origin check applies as to every write). The bytes are served only to
 * their owner, by the session cookie too, so `<img src="/api/media/{id}">` works in the dashboard; the
 * type comes from our record (sniffed at upload), never from a file name.
 */
import { open, unlink } from 'node:fs/promises';
import * as v from 'valibot';
import type { ApiDocument } from '../api/openapi.js';
import type { RateLimits } from '../auth/rate-limits.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { HttpError } from '../http/errors.js';
import { json, type Reply } from '../http/reply.js';
import type { Router } from '../http/router.js';
import { streamingHandler, type Handler, type RequestContext } from '../http/server.js';
import { keepUpload, MAX_UPLOAD_BYTES, MEDIA_ID, MEDIA_LIMITS, mediaFilePath, newMediaId, receiveUpload, tenantMediaDir } from '../media/store.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';
import { integer, query } from './reports.js';

export interface MediaRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  limits: RateLimits;
  dataDir: string;
  /** What one tenant may store in all (config `MEDIA_QUOTA_BYTES`). */
  quotaBytes: number;
  requestTimeoutMs: number;
}

interface MediaRecord {
  id: string;
  kind: 'image' | 'gif' | 'video';
  mime: string;
  size: number;
  sha256: string;
}

const EXT: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp', 'image/gif': 'gif', 'video/mp4': 'mp4' };
const ListQuery = v.strictObject({ before: integer(1), limit: integer(1) });
// Media types a browser or client may declare for a file; what it really is is sniffed. JSON, forms,
// multipart and text are refused: they are not a file's bytes (and the last three need no preflight).
const FILE_BODY = /^(image\/[\w.+-]+|video\/[\w.+-]+|application\/octet-stream)$/;
const MB = 1024 * 1024;

export function addMediaRoutes(router: Router<Handler>, deps: MediaRouteDeps): void {
  const { auth, host, limits, dataDir } = deps;
  const ask = (tenantId: string, method: string, params: unknown) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);

  router.add(
    'POST',
    '/api/media',
    streamingHandler(MAX_UPLOAD_BYTES, async (ctx) => {
      const caller = auth.require(ctx);
      const declared = (ctx.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!FILE_BODY.test(declared)) {
        throw new HttpError(415, 'unsupported_media_type', 'Send the file’s bytes as the body with Content-Type image/*, video/mp4 or application/octet-stream (not JSON or multipart).');
      }
      await limits.consume(['media_upload_account', caller.user.id]);
      const tenantId = caller.user.tenant_id;
      const dir = tenantMediaDir(dataDir, tenantId);
      const upload = await receiveUpload(ctx.bodyStream(), dir);
      const id = newMediaId();
      // Named before it is recorded: a crash in between leaves a file nothing points at, never a record
      // without its file.
      const path = await keepUpload(upload, dir, id).catch(async (error: unknown) => {
        await unlink(upload.tempPath).catch(() => undefined);
        throw error;
      });
      try {
        const record = await ask(tenantId, 'media.add', { id, mime: upload.type.mime, size: upload.size, width: upload.width, height: upload.height, sha256: upload.sha256, quotaBytes: deps.quotaBytes });
        return json(201, record);
      } catch (error) {
        await unlink(path).catch(() => undefined);
        throw error;
      }
    }),
  );

  router.add('GET', '/api/media', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'media.list', { ...query(ctx, ListQuery), quotaBytes: deps.quotaBytes }));
  });

  router.add('GET', '/api/media/:id', async (ctx) => {
    const caller = auth.require(ctx);
    const record = (await ask(caller.user.tenant_id, 'media.get', { id: mediaId(ctx) })) as MediaRecord;
    return serveFile(ctx, mediaFilePath(dataDir, caller.user.tenant_id, record.id, EXT[record.mime] ?? 'bin'), record);
  });

  router.add('DELETE', '/api/media/:id', async (ctx) => {
    const caller = auth.require(ctx);
    const record = (await ask(caller.user.tenant_id, 'media.delete', { id: mediaId(ctx) })) as MediaRecord;
    await unlink(mediaFilePath(dataDir, caller.user.tenant_id, record.id, EXT[record.mime] ?? 'bin')).catch(() => undefined);
    return json(200, { deleted: record.id });
  });
}

/** A malformed id names nothing: the same 404 as someone else's (there is no way to tell them apart). */
function mediaId(ctx: RequestContext): string {
  const id = ctx.params['id'] ?? '';
  if (!MEDIA_ID.test(id)) throw new HttpError(404, 'not_found', 'No such media.');
  return id;
}

/** The file's bytes under the record's type, whole or the one range a video player asks for. */
async function serveFile(ctx: RequestContext, path: string, record: MediaRecord): Promise<Reply> {
  const headers: Record<string, string> = {
    'Content-Type': record.mime,
    'X-Content-Type-Options': 'nosniff',
    // Every kind we accept is an image or a video; anything else would be an attachment.
    'Content-Disposition': `${/^(image|video)\//.test(record.mime) ? 'inline' : 'attachment'}; filename="${record.id}.${EXT[record.mime] ?? 'bin'}"`,
    'Content-Security-Policy': "default-src 'none'; sandbox; frame-ancestors 'none'",
    'Cache-Control': 'private, max-age=3600',
    ETag: `"${record.sha256}"`,
    'Accept-Ranges': 'bytes',
  };
  if (ctx.headers['if-none-match'] === headers['ETag']) return { status: 304, headers };
  let file;
  try {
    file = await open(path, 'r');
  } catch {
    // The record outlived its file (deleted by hand, a lost disk): nothing to serve.
    throw new HttpError(404, 'not_found', 'The file of this media is missing.');
  }
  try {
    const range = byteRange(ctx.headers['range'], record.size);
    if (range === 'unsatisfiable') return { status: 416, headers: { ...headers, 'Content-Range': `bytes */${record.size}` } };
    const [start, end] = range ?? [0, record.size - 1];
    const body = Buffer.alloc(end - start + 1);
    await file.read(body, 0, body.length, start);
    if (!range) return { status: 200, headers, body };
    return { status: 206, headers: { ...headers, 'Content-Range': `bytes ${start}-${end}/${record.size}` }, body };
  } finally {
    await file.close();
  }
}

/** One `bytes=` range (video players seek with them), capped at 8 MB a piece; null for the whole file. */
function byteRange(header: string | undefined, size: number): [number, number] | null | 'unsatisfiable' {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return [start, Math.min(end, start + 8 * MB - 1)];
}

export function describeMediaRoutes(doc: ApiDocument): void {
  const tag = 'Media';
  const record = '`{ id, kind (image|gif|video), mime, size, width, height, sha256, createdAt, url }`';
  const limits = `JPEG, PNG and WebP up to ${MEDIA_LIMITS.image / MB} MB, GIF up to ${MEDIA_LIMITS.gif / MB} MB, MP4 up to ${MEDIA_LIMITS.video / MB} MB`;
  doc.add(
    {
      method: 'POST',
      path: '/api/media',
      tag,
      auth: 'session',
      summary: 'Upload a media file',
      description: `The body is the file's bytes (Content-Type image/*, video/mp4 or application/octet-stream; not JSON, not multipart). The type is decided by the file's content (magic bytes), not the declared type or a name: ${limits}. Each account stores at most the operator's quota (512 MB unless set; see \`usage\` in the list). Attach media to posts by id (compose, approval edits: \`media: [id]\`; up to 4 images, or one GIF or video).`,
      binaryBody: { mediaTypes: ['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'video/mp4', 'application/octet-stream'], description: 'The file itself.' },
      responses: {
        201: { description: `${record}.` },
        409: { description: '`read_only`: the subscription ended.' },
        413: { description: '`payload_too_large` (over the limit of its kind) or `quota_exceeded` (the storage is full).' },
        415: { description: '`unsupported_media_type`: a JSON/multipart body, or a file that is none of the accepted types.' },
      },
    },
    {
      method: 'GET',
      path: '/api/media',
      tag,
      auth: 'session',
      summary: 'The media, newest first',
      description: 'Page with `before=<nextCursor>`.',
      query: ListQuery,
      responses: { 200: { description: `\`{ items: [${record}], nextCursor, usage: { usedBytes, quotaBytes } }\`.` } },
    },
    {
      method: 'GET',
      path: '/api/media/:id',
      tag,
      auth: 'session',
      summary: 'The bytes of a media file',
      description: 'Only to its owner (the session cookie works, so it can be an `<img src>`). Served with the type recorded at upload, `nosniff`, a sandboxing CSP, and `Range` support for video players.',
      responses: { 200: { description: 'The file.' }, 206: { description: 'The requested range.' }, 404: { description: 'No such media (or another user\'s).' } },
    },
    {
      method: 'DELETE',
      path: '/api/media/:id',
      tag,
      auth: 'session',
      summary: 'Delete a media file',
      responses: { 200: { description: '`{ deleted: id }`.' }, 404: { description: 'No such media.' }, 409: { description: '`in_use`: a post that has not gone out yet uses it; or `read_only`.' } },
    },
  );
}
