// A request body as a Node Readable, for the few routes whose bodies are too large to hold in memory (media
// uploads): chunks flow to the handler as they arrive and uWS is paused while the handler has not taken
// them, so a fast client never makes the supervisor buffer more than about one high-water mark per upload.
//
// The same uWS rules as body.ts: onData must be registered in the synchronous part of the request callback
// (server.ts opens the stream there), chunks are neutered when the callback returns (each is copied), and the
// response is never touched after an abort (the exchange's signal says when). Limits: a byte budget (413) and
// an idle timeout between chunks (408) — a large upload on a slow line may take minutes, a stalled one may not
// hold its socket and temp file for long.
import { Readable } from 'node:stream';
import { AbortedError, payloadTooLarge } from './body.js';
import { HttpError } from './errors.js';
import type { HttpResponse } from './uws.js';

export interface StreamBodyOptions {
  limitBytes: number;
  /** Longest pause between two chunks (and before the first). */
  idleTimeoutMs: number;
  contentLength?: number;
  signal: AbortSignal;
}

/** What the handler may hold unread before uWS stops reading the socket. */
const HIGH_WATER_BYTES = 1024 * 1024;

export function streamBody(res: HttpResponse, options: StreamBodyOptions): Readable {
  const { limitBytes, idleTimeoutMs, contentLength, signal } = options;
  let received = 0;
  let paused = false;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;

  const alive = () => !signal.aborted && !ended && !stream.destroyed;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stream.destroy(new HttpError(408, 'request_timeout', `no request body data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
  };

  const stream = new Readable({
    highWaterMark: HIGH_WATER_BYTES,
    read() {
      if (paused && alive()) {
        paused = false;
        res.resume();
        arm();
      }
    },
    destroy(error, callback) {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      callback(error);
    },
  });
  const onAbort = () => stream.destroy(new AbortedError());

  res.onData((chunk, isLast) => {
    if (!alive()) return;
    received += chunk.byteLength;
    if (received > limitBytes) {
      stream.destroy(payloadTooLarge(limitBytes));
      return;
    }
    const more = chunk.byteLength === 0 ? true : stream.push(Buffer.from(chunk.slice(0)));
    if (isLast) {
      ended = true;
      clearTimeout(timer);
      stream.push(null);
      return;
    }
    arm();
    if (!more && !paused) {
      // The handler is behind (a slow disk): stop reading the socket until it asks for more. Its own
      // pace is not the client's idleness, so the idle clock stops too.
      paused = true;
      clearTimeout(timer);
      res.pause();
    }
  });

  if (signal.aborted) {
    onAbort();
    return stream;
  }
  signal.addEventListener('abort', onAbort, { once: true });
  if (contentLength !== undefined && contentLength > limitBytes) stream.destroy(payloadTooLarge(limitBytes));
  else arm();
  return stream;
}

/** Whether the stream was read to its end (a handler that answered early leaves the rest on the wire). */
export function fullyRead(stream: Readable): boolean {
  return stream.readableEnded;
}
