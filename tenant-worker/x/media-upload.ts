/**
 * Media upload to X's v2 endpoints (runtime §6.1): images up to 5 MB in one request; GIFs, videos
 * and anything larger in chunks — initialize, append 5 MB segments, finalize, then poll STATUS until
 * X has processed it (wait `check_after_secs`, else 5 s doubling to 30 s; give up after 300 s).
 *
 * Uploads are not billed by X, so they are not metered; the post that attaches them is. X forgets an
 * upload after `expires_after_secs` (24 h); callers that cache X's id keep it no longer than that.
 */
import { XApiError } from './errors.js';
import type { XTransport } from './transport.js';

const MB = 1024 * 1024;
export const SEGMENT_BYTES = 5 * MB;

export type MediaKind = 'image' | 'gif' | 'video';

/** X's limits per kind, and the category its processing pipeline expects. */
export const MEDIA_LIMITS: Record<MediaKind, { maxBytes: number; category: string }> = {
  image: { maxBytes: 5 * MB, category: 'tweet_image' },
  gif: { maxBytes: 15 * MB, category: 'tweet_gif' },
  video: { maxBytes: 512 * MB, category: 'tweet_video' },
};

const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);

export function mediaKindOf(mediaType: string): MediaKind {
  if (mediaType === 'image/gif') return 'gif';
  if (mediaType === 'video/mp4') return 'video';
  if (IMAGE_TYPES.has(mediaType)) return 'image';
  throw new XApiError(400, 'Unsupported media', `X accepts JPEG, PNG, WebP, GIF or MP4, not ${mediaType}`);
}

interface UploadData {
  id?: string;
  expires_after_secs?: number;
  processing_info?: { state?: string; check_after_secs?: number; progress_percent?: number };
}

export interface UploadOptions {
  transport: XTransport;
  /** `${apiUrl}/media/upload` */
  uploadUrl: string;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  /** Per request; segments take longer than API calls (default 60 s). */
  timeoutMs?: number;
}

const ENDPOINT = 'POST /2/media/upload';
const POLL_START_MS = 5_000;
const POLL_CAP_MS = 30_000;
const POLL_GIVE_UP_MS = 300_000;

export interface UploadedMedia {
  id: string;
  /** When X forgets it (epoch ms): X's `expires_after_secs` from its last answer, else 24 h. */
  expiresAt: number;
}

const DEFAULT_EXPIRY_MS = 86_400_000;

export async function uploadMedia(options: UploadOptions, bytes: Uint8Array, mediaType: string): Promise<string> {
  return (await uploadMediaWithExpiry(options, bytes, mediaType)).id;
}

export async function uploadMediaWithExpiry(options: UploadOptions, bytes: Uint8Array, mediaType: string): Promise<UploadedMedia> {
  const kind = mediaKindOf(mediaType);
  const { maxBytes, category } = MEDIA_LIMITS[kind];
  if (bytes.byteLength > maxBytes) throw new XApiError(400, 'Media too large', `${kind} media may be at most ${maxBytes / MB} MB at X`);
  const { transport, uploadUrl } = options;
  const timeoutMs = options.timeoutMs ?? 60_000;

  if (kind === 'image') {
    const form = new FormData();
    form.set('media', new Blob([bytes.slice()], { type: mediaType }), 'media');
    form.set('media_category', category);
    form.set('media_type', mediaType);
    const started = options.now();
    const answer = await transport.send({ method: 'POST', endpoint: ENDPOINT, url: uploadUrl, form, idempotent: false, timeoutMs });
    return { id: idOf(answer.body), expiresAt: expiryOf(dataOf(answer.body), started) };
  }

  const init = await transport.send({
    method: 'POST',
    endpoint: 'POST /2/media/upload/initialize',
    url: `${uploadUrl}/initialize`,
    json: { media_type: mediaType, total_bytes: bytes.byteLength, media_category: category },
    idempotent: false,
    timeoutMs,
  });
  const id = idOf(init.body);
  for (let index = 0, offset = 0; offset < bytes.byteLength; index++, offset += SEGMENT_BYTES) {
    const form = new FormData();
    form.set('segment_index', String(index));
    form.set('media', new Blob([bytes.slice(offset, offset + SEGMENT_BYTES)], { type: 'application/octet-stream' }), 'media');
    // Re-sending a segment index replaces it, so appends may be retried.
    await transport.send({ method: 'POST', endpoint: 'POST /2/media/upload/:id/append', url: `${uploadUrl}/${id}/append`, form, idempotent: true, timeoutMs });
  }
  const finalizing = options.now();
  const finalized = await transport.send({ method: 'POST', endpoint: 'POST /2/media/upload/:id/finalize', url: `${uploadUrl}/${id}/finalize`, idempotent: true, timeoutMs });
  await waitForProcessing(options, id, dataOf(finalized.body));
  return { id, expiresAt: expiryOf(dataOf(finalized.body), finalizing) };
}

/** Counted from when the request was sent, so a slow answer errs on the early side. */
function expiryOf(data: UploadData, sentAt: number): number {
  const secs = data.expires_after_secs;
  return sentAt + (typeof secs === 'number' && secs > 0 ? secs * 1000 : DEFAULT_EXPIRY_MS);
}

async function waitForProcessing(options: UploadOptions, id: string, first: UploadData): Promise<void> {
  const started = options.now();
  let info = first.processing_info;
  let delay = POLL_START_MS;
  while (info !== undefined && info.state !== 'succeeded') {
    if (info.state === 'failed') throw new XApiError(400, 'Media processing failed', `X could not process media ${id}`);
    const wait = info.check_after_secs !== undefined ? info.check_after_secs * 1000 : delay;
    delay = Math.min(delay * 2, POLL_CAP_MS);
    if (options.now() + wait - started > POLL_GIVE_UP_MS) throw new XApiError(504, 'Media processing timeout', `X had not processed media ${id} after ${POLL_GIVE_UP_MS / 1000} s`);
    await options.sleep(wait);
    const status = await options.transport.send({
      method: 'GET',
      endpoint: 'GET /2/media/upload',
      url: options.uploadUrl,
      query: { command: 'STATUS', media_id: id },
      idempotent: true,
    });
    info = dataOf(status.body).processing_info;
  }
}

function dataOf(body: unknown): UploadData {
  return ((body as { data?: UploadData } | undefined)?.data ?? {}) as UploadData;
}

function idOf(body: unknown): string {
  const id = dataOf(body).id;
  if (typeof id !== 'string') throw new XApiError(502, 'Bad media answer', 'X did not return a media id');
  return id;
}
