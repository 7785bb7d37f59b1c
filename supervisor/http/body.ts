// Reading a request body from a uWS HttpResponse, bounded in size and time.
//
// The uWS model: onData delivers ArrayBuffer chunks that are neutered (zero-length) once the callback returns,
// so each chunk is copied; chunks that arrive before onData is registered are dropped, so readBody must be
// called synchronously inside the uWS request handler (server.ts starts it eagerly and hands out the promise).
// After the client aborts, the response object must never be touched again; this module only ever registers
// callbacks on it, and learns of aborts from `signal` (or its own onAborted when used without one).
import { HttpError } from './errors.js';
import type { HttpResponse } from './uws.js';

export interface ReadBodyOptions {
  limitBytes: number;
  timeoutMs: number;
  /** The declared Content-Length, when the request had one: lets us refuse before reading a byte. */
  contentLength?: number;
  /**
   * Aborted when the client disconnects. uWS keeps a single onAborted handler per response, so a caller that
   * already registered one must pass its signal; without a signal readBody registers onAborted itself.
   */
  signal?: AbortSignal;
}

/** The client went away before the body was complete; there is nobody left to answer. */
export class AbortedError extends Error {
  override readonly name = 'AbortedError';
  constructor() {
    super('request aborted by the client');
  }
}

export function payloadTooLarge(limitBytes: number): HttpError {
  return new HttpError(413, 'payload_too_large', `request body exceeds ${limitBytes} bytes`);
}

export function readBody(res: HttpResponse, options: ReadBodyOptions): Promise<Buffer> {
  const { limitBytes, timeoutMs, contentLength, signal } = options;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;

    const finish = (error: Error | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      chunks.length = 0;
      if (error) reject(error);
      else resolve(body ?? Buffer.alloc(0));
    };
    const onAbort = (): void => finish(new AbortedError());

    // Registered before anything can fail, so data arriving after an early rejection is simply ignored.
    res.onData((chunk, isLast) => {
      if (settled) return;
      received += chunk.byteLength;
      if (received > limitBytes) return finish(payloadTooLarge(limitBytes));
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) finish(undefined, Buffer.concat(chunks, received));
    });

    if (signal) {
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    } else {
      res.onAborted(onAbort);
    }
    if (contentLength !== undefined && contentLength > limitBytes) return finish(payloadTooLarge(limitBytes));
    timer = setTimeout(
      () => finish(new HttpError(408, 'request_timeout', `request body not received within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
}
