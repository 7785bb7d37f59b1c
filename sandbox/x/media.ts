/**
 * Media uploads on the fake X, in both of X's dialects over one store:
 *
 *   v2    POST /2/media/upload (one shot, images), POST /2/media/upload/initialize,
 *         POST /2/media/upload/:id/append, POST /2/media/upload/:id/finalize, GET /2/media/upload?command=STATUS
 *   v1.1  /1.1/media/upload.json: a `media` part alone (simple upload) or command=INIT|APPEND|FINALIZE|STATUS
 *
 * The limits are X's: images 5 MB, GIFs 15 MB, videos 512 MB, segments of at most 5 MB. GIFs and
 * videos are "processed" after FINALIZE (pending → in_progress → succeeded over a few seconds of the
 * fake's clock) and can be attached to a post only then. Uploads expire after 24 hours.
 */
import type { Answer, ApiRequest, Caller } from './api.js';
import { parseMultipart } from './http.js';
import type { Params } from './posts.js';
import { invalidRequest } from './problems.js';

const MB = 1024 * 1024;
const EXPIRES_AFTER_SECS = 86_400;
const LIMITS: Record<string, number> = { tweet_image: 5 * MB, dm_image: 5 * MB, tweet_gif: 15 * MB, dm_gif: 15 * MB, tweet_video: 512 * MB, dm_video: 512 * MB, amplify_video: 512 * MB };
const SEGMENT_LIMIT = 5 * MB;
/** How long the fake "transcodes": long enough that a client must poll STATUS. */
const PROCESSING_MS: Record<string, number> = { gif: 2_000, video: 4_000 };

interface Upload {
  id: string;
  key: string;
  ownerId: string;
  category: string;
  mediaType: string;
  totalBytes: number;
  segments: Map<number, number>;
  finalizedAt: number | null;
  processingMs: number;
  expiresAt: number;
}

interface Fields {
  values: Record<string, string>;
  media: Buffer | undefined;
}

export class FakeXMedia {
  readonly #now: () => number;
  readonly #uploads = new Map<string, Upload>();
  #next = 1_880_000_000_000_000_000n;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** What a media request carried, for the request log: fields, with the bytes as a size. */
  static loggable(request: ApiRequest, parsed: unknown): unknown {
    if (parsed !== undefined) {
      if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { media?: unknown }).media === 'string') {
        return { ...parsed, media: `<${Buffer.from((parsed as { media: string }).media, 'base64').length} bytes>` };
      }
      return parsed;
    }
    if (request.body.length === 0) return undefined;
    const parts = parseMultipart(request.headers['content-type'], request.body);
    if (parts) return Object.fromEntries(parts.map((p) => [p.name, p.filename !== undefined || p.name === 'media' ? `<${p.data.length} bytes>` : p.data.toString('utf8')]));
    return Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
  }

  /** The media key to attach, when this user may attach this media now. */
  attachable(userId: string, id: string): string | undefined {
    const upload = this.#uploads.get(id);
    if (!upload || upload.ownerId !== userId || upload.expiresAt <= this.#now()) return undefined;
    return this.#state(upload) === 'succeeded' ? upload.key : undefined;
  }

  oneShot(caller: Caller, request: ApiRequest): Answer {
    const { values, media } = fieldsOf(request);
    const category = values['media_category'];
    if (!media) return bad('media', '', 'A `media` file is required.');
    if (category !== 'tweet_image' && category !== 'dm_image' && category !== 'subtitles') return bad('media_category', category ?? '', 'One-shot upload takes tweet_image, dm_image or subtitles; use initialize/append/finalize for GIFs and videos.');
    if (media.length > 5 * MB) return bad('media', `${media.length}`, 'Images may be at most 5 MB.');
    const upload = this.#create(caller, category, values['media_type'] ?? 'image/png', media.length);
    upload.segments.set(0, media.length);
    upload.finalizedAt = this.#now();
    return { status: 200, body: { data: this.#v2(upload, false) } };
  }

  initialize(caller: Caller, body: unknown): Answer {
    const config = (typeof body === 'object' && body !== null ? body : {}) as { media_type?: unknown; total_bytes?: unknown; media_category?: unknown };
    const started = this.#init(caller, String(config.media_type ?? ''), Number(config.total_bytes), String(config.media_category ?? ''));
    if (typeof started === 'string') return bad('total_bytes', String(config.total_bytes ?? ''), started);
    return { status: 200, body: { data: { id: started.id, media_key: started.key, expires_after_secs: EXPIRES_AFTER_SECS } } };
  }

  append(caller: Caller, params: Params, request: ApiRequest): Answer {
    const { values, media } = fieldsOf(request);
    const error = this.#append(caller, params.path[0]!, values['segment_index'], media);
    if (error) return bad(error.parameter, error.value, error.message);
    return { status: 200, body: { data: { expires_at: Math.floor(this.#uploads.get(params.path[0]!)!.expiresAt / 1000) } } };
  }

  finalize(caller: Caller, params: Params): Answer {
    const result = this.#finalize(caller, params.path[0]!);
    if (typeof result === 'string') return bad('id', params.path[0]!, result);
    return { status: 200, body: { data: this.#v2(result, true) } };
  }

  status(caller: Caller, params: Params): Answer {
    const id = params.query.get('media_id') ?? '';
    const upload = this.#owned(caller, id);
    if (!upload || upload.finalizedAt === null) return bad('media_id', id, 'No finalized upload with this media_id.');
    return { status: 200, body: { data: this.#v2(upload, true) } };
  }

  /** The v1.1 dialect: commands as form fields, numbers for ids, X's v1.1 error bodies. */
  legacy(caller: Caller, request: ApiRequest): Answer {
    const { values, media } = fieldsOf(request);
    const query = Object.fromEntries(new URL(request.url).searchParams);
    const command = (values['command'] ?? query['command'] ?? (media ? 'SIMPLE' : '')).toUpperCase();
    const mediaId = values['media_id'] ?? query['media_id'] ?? '';
    const fail = (message: string) => ({ status: 400, body: { errors: [{ code: 324, message }] } });
    switch (command) {
      case 'SIMPLE': {
        const category = values['media_category'] ?? 'tweet_image';
        if (media!.length > 5 * MB) return fail('Images may be at most 5 MB.');
        const upload = this.#create(caller, category, values['media_type'] ?? 'image/png', media!.length);
        upload.segments.set(0, media!.length);
        upload.finalizedAt = this.#now();
        return { status: 200, body: this.#v1(upload) };
      }
      case 'INIT': {
        const started = this.#init(caller, values['media_type'] ?? '', Number(values['total_bytes']), values['media_category'] ?? '');
        if (typeof started === 'string') return fail(started);
        return { status: 202, body: { media_id: Number(started.id), media_id_string: started.id, media_key: started.key, expires_after_secs: EXPIRES_AFTER_SECS } };
      }
      case 'APPEND': {
        const error = this.#append(caller, mediaId, values['segment_index'], media);
        return error ? fail(error.message) : { status: 204, body: undefined };
      }
      case 'FINALIZE': {
        const result = this.#finalize(caller, mediaId);
        return typeof result === 'string' ? fail(result) : { status: 201, body: this.#v1(result) };
      }
      case 'STATUS': {
        const upload = this.#owned(caller, mediaId);
        if (!upload || upload.finalizedAt === null) return fail('No finalized upload with this media_id.');
        return { status: 200, body: this.#v1(upload) };
      }
      default:
        return fail('command must be INIT, APPEND, FINALIZE or STATUS, or send a media part alone.');
    }
  }

  #init(caller: Caller, mediaType: string, totalBytes: number, category: string): Upload | string {
    const limit = LIMITS[category];
    if (limit === undefined) return `media_category must be one of ${Object.keys(LIMITS).join(', ')}.`;
    if (!Number.isInteger(totalBytes) || totalBytes <= 0) return 'total_bytes must be a positive integer.';
    if (totalBytes > limit) return `${category} media may be at most ${limit / MB} MB.`;
    if (!/^(image|video)\/[\w.+-]+$/.test(mediaType)) return 'media_type must be an image or video MIME type.';
    return this.#create(caller, category, mediaType, totalBytes);
  }

  #append(caller: Caller, id: string, index: string | undefined, media: Buffer | undefined): { parameter: string; value: string; message: string } | null {
    const upload = this.#owned(caller, id);
    if (!upload || upload.finalizedAt !== null || upload.expiresAt <= this.#now()) return { parameter: 'id', value: id, message: 'No open upload with this media id.' };
    const segment = Number(index);
    if (!/^[0-9]{1,3}$/.test(index ?? '') || segment > 999) return { parameter: 'segment_index', value: index ?? '', message: 'segment_index must be 0 to 999.' };
    if (!media || media.length === 0) return { parameter: 'media', value: '', message: 'A `media` chunk is required.' };
    if (media.length > SEGMENT_LIMIT) return { parameter: 'media', value: `${media.length}`, message: 'A segment may be at most 5 MB.' };
    upload.segments.set(segment, media.length);
    return null;
  }

  #finalize(caller: Caller, id: string): Upload | string {
    const upload = this.#owned(caller, id);
    if (!upload || upload.expiresAt <= this.#now()) return 'No open upload with this media id.';
    if (upload.finalizedAt !== null) return upload;
    const received = [...upload.segments.values()].reduce((a, b) => a + b, 0);
    if (received !== upload.totalBytes) return `Received ${received} bytes of the ${upload.totalBytes} announced at INIT.`;
    upload.finalizedAt = this.#now();
    return upload;
  }

  #create(caller: Caller, category: string, mediaType: string, totalBytes: number): Upload {
    const id = (this.#next++).toString();
    const kind = /gif/.test(category) ? 'gif' : /video/.test(category) ? 'video' : 'image';
    const upload: Upload = {
      id,
      key: `${kind === 'image' ? 3 : kind === 'gif' ? 16 : 7}_${id}`,
      ownerId: caller.userId,
      category,
      mediaType,
      totalBytes,
      segments: new Map(),
      finalizedAt: null,
      processingMs: PROCESSING_MS[kind] ?? 0,
      expiresAt: this.#now() + EXPIRES_AFTER_SECS * 1000,
    };
    this.#uploads.set(id, upload);
    return upload;
  }

  #owned(caller: Caller, id: string): Upload | undefined {
    const upload = this.#uploads.get(id);
    return upload?.ownerId === caller.userId ? upload : undefined;
  }

  #state(upload: Upload): 'pending' | 'in_progress' | 'succeeded' {
    if (upload.finalizedAt === null) return 'pending';
    const elapsed = this.#now() - upload.finalizedAt;
    if (elapsed >= upload.processingMs) return 'succeeded';
    return elapsed < upload.processingMs / 4 ? 'pending' : 'in_progress';
  }

  #processing(upload: Upload) {
    const state = this.#state(upload);
    const elapsed = this.#now() - (upload.finalizedAt ?? this.#now());
    const progress = Math.min(100, Math.floor((elapsed / upload.processingMs) * 100));
    return state === 'succeeded' ? { state, progress_percent: 100 } : { state, check_after_secs: 1, progress_percent: progress };
  }

  #v2(upload: Upload, withProcessing: boolean) {
    const secs = Math.max(0, Math.floor((upload.expiresAt - this.#now()) / 1000));
    return {
      id: upload.id,
      media_key: upload.key,
      size: upload.totalBytes,
      expires_after_secs: secs,
      ...(withProcessing && upload.processingMs > 0 && { processing_info: this.#processing(upload) }),
    };
  }

  #v1(upload: Upload) {
    return {
      media_id: Number(upload.id),
      media_id_string: upload.id,
      media_key: upload.key,
      size: upload.totalBytes,
      expires_after_secs: Math.max(0, Math.floor((upload.expiresAt - this.#now()) / 1000)),
      ...(upload.processingMs === 0 ? { image: { image_type: upload.mediaType, w: 1200, h: 675 } } : { processing_info: this.#processing(upload) }),
    };
  }
}

function bad(parameter: string, value: string, message: string): Answer {
  return { status: 400, body: invalidRequest(parameter, value, message) };
}

function fieldsOf(request: ApiRequest): Fields {
  const type = request.headers['content-type'] ?? '';
  const parts = parseMultipart(type, request.body);
  if (parts) {
    const values: Record<string, string> = {};
    let media: Buffer | undefined;
    for (const part of parts) {
      if (part.name === 'media') media = part.data;
      else if (part.name === 'media_data') media = Buffer.from(part.data.toString('utf8'), 'base64');
      else values[part.name] = part.data.toString('utf8');
    }
    return { values, media };
  }
  if (/application\/json/i.test(type)) {
    try {
      const json = JSON.parse(request.body.toString('utf8')) as Record<string, unknown>;
      const values = Object.fromEntries(Object.entries(json).filter(([k]) => k !== 'media').map(([k, v]) => [k, String(v)]));
      return { values, media: typeof json['media'] === 'string' ? Buffer.from(json['media'], 'base64') : undefined };
    } catch {
      return { values: {}, media: undefined };
    }
  }
  const form = Object.fromEntries(new URLSearchParams(request.body.toString('utf8')));
  const { media_data: data, ...values } = form;
  return { values, media: data === undefined ? undefined : Buffer.from(data, 'base64') };
}
