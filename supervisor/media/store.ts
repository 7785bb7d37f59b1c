/**
 * Media files on disk: `<DATA_DIR>/media/<tenant id>/<media id>.<ext>`. The supervisor owns the bytes (it
 * has the socket); the tenant's DB holds the record (tenant-worker/api/media.ts), and the tenant thread
 * reads the file when it posts (tenant-worker/media-files.ts derives the same directory from its DB path).
 *
 * An upload is streamed to a temp file in the tenant's directory while it is sniffed (magic bytes),
 * hashed and measured, so no upload is held in memory whole and a refused one leaves nothing behind.
 * Limits per kind (X's for images and GIFs): JPEG/PNG/WebP 5 MB, GIF 15 MB, MP4 64 MB. X takes videos up
 * to 512 MB, but a tenant posts a file by reading it whole in its thread, and 64 MB holds a 2-minute
 * 720p clip (X's usual length cap is 140 s).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HttpError } from '../http/errors.js';
import { DIMENSION_BYTES, dimensions, sniffType, SNIFF_BYTES, type MediaKind, type SniffedType } from './sniff.js';

const MB = 1024 * 1024;
export const MEDIA_LIMITS: Record<MediaKind, number> = { image: 5 * MB, gif: 15 * MB, video: 64 * MB };
/** The most any upload may send (the route's body limit, before the type is known). */
export const MAX_UPLOAD_BYTES = Math.max(...Object.values(MEDIA_LIMITS));

const KIND_NAMES: Record<MediaKind, string> = { image: 'An image (JPEG, PNG, WebP)', gif: 'A GIF', video: 'An MP4 video' };
/** Media ids are random and URL-safe (what approval items and compose accept as a media id). */
export const MEDIA_ID = /^[A-Za-z0-9_-]{22}$/;

export function tenantMediaDir(dataDir: string, tenantId: string): string {
  return join(dataDir, 'media', tenantId);
}

export function mediaFilePath(dataDir: string, tenantId: string, id: string, ext: string): string {
  return join(tenantMediaDir(dataDir, tenantId), `${id}.${ext}`);
}

export function newMediaId(): string {
  return randomBytes(16).toString('base64url');
}

/** All of a tenant's media, gone for good (its data is purged). */
export function removeTenantMedia(dataDir: string, tenantId: string): void {
  rmSync(tenantMediaDir(dataDir, tenantId), { recursive: true, force: true });
}

export interface ReceivedUpload {
  /** The bytes so far, under a temporary name in the tenant's directory. */
  tempPath: string;
  type: SniffedType;
  size: number;
  sha256: string;
  width: number | null;
  height: number | null;
}

/** Streams `body` to a temp file in `dir`; refuses (415/413/422, temp file removed) as soon as it can tell. */
export async function receiveUpload(body: Readable, dir: string): Promise<ReceivedUpload> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tempPath = join(dir, `.upload-${randomBytes(8).toString('hex')}.part`);
  const file = await open(tempPath, 'wx', 0o600);
  const hash = createHash('sha256');
  const head: Buffer[] = [];
  let headBytes = 0;
  let size = 0;
  let type: SniffedType | null = null;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.byteLength;
      if (headBytes < DIMENSION_BYTES) {
        head.push(chunk);
        headBytes += chunk.byteLength;
      }
      if (type === null && headBytes >= SNIFF_BYTES) type = sniffed(Buffer.concat(head));
      if (type !== null && size > MEDIA_LIMITS[type.kind]) throw tooLarge(type.kind);
      hash.update(chunk);
      await file.write(chunk);
    }
    if (size === 0) throw new HttpError(422, 'empty_upload', 'The request body is empty: send the file’s bytes as the body.');
    type ??= sniffed(Buffer.concat(head));
    await file.sync();
    await file.close();
    const found = dimensions(type, Buffer.concat(head));
    return { tempPath, type, size, sha256: hash.digest('hex'), width: found?.width ?? null, height: found?.height ?? null };
  } catch (error) {
    await file.close().catch(() => undefined);
    await unlink(tempPath).catch(() => undefined);
    throw error;
  }
}

/** Gives the temp file its final name; returns the path. */
export async function keepUpload(upload: ReceivedUpload, dir: string, id: string): Promise<string> {
  const path = join(dir, `${id}.${upload.type.ext}`);
  await rename(upload.tempPath, path);
  return path;
}

function sniffed(head: Buffer): SniffedType {
  const type = sniffType(head);
  if (!type) throw new HttpError(415, 'unsupported_media_type', 'Only JPEG, PNG, WebP, GIF and MP4 files are accepted (decided by the file’s content, not its name or declared type).');
  return type;
}

function tooLarge(kind: MediaKind): HttpError {
  return new HttpError(413, 'payload_too_large', `${KIND_NAMES[kind]} may be at most ${MEDIA_LIMITS[kind] / MB} MB.`);
}
