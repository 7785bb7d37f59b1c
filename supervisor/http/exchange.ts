// One HTTP request/response pair on a uWS connection, from the first synchronous moment to its access-log line.
//
// uWS rules this module exists to keep in one place:
// - HttpRequest is stack-allocated and valid only during the synchronous route callback, so everything a handler
//   may need later (method, path, query, headers, peer address) is copied out before the first await.
// - HttpResponse must get an onAborted handler before the callback returns, and touching it after an abort or
//   after it ended throws; every write goes through `send`, which is corked, runs at most once, and never after
//   an abort.
// The exchange ends exactly once: answered (access log with status and bytes) or aborted (status 499).
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import { errorReply } from './errors.js';
import type { Reply } from './reply.js';
import { withSecurityHeaders } from './security-headers.js';
import type { HttpRequest, HttpResponse } from './uws.js';

export interface ExchangeOptions {
  log: Logger;
  hsts?: boolean;
  trustProxy?: boolean;
  onResponse?(info: { method: string; route: string; status: number; durationMs: number }): void;
}

export interface SendOptions {
  /** Close the connection after this response (the request body was left unread or half-read). */
  closeConnection?: boolean;
  /** Serialized Set-Cookie values. */
  cookies?: readonly string[];
}

export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string>;
  readonly ip: string;
  readonly requestId: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
  /** The matched pattern, for logs and metrics; '(unmatched)' until routing finds one. */
  route: string;
  readonly aborted: boolean;
  readonly responded: boolean;
  /** Writes the reply unless the exchange already ended; returns whether it did. */
  send(reply: Reply, options?: SendOptions): boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const UNSAFE_VALUE = /[\r\n\0]/;
// Framing headers are uWS's job; a handler that sets them would corrupt the response.
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection']);

export function openExchange(res: HttpResponse, req: HttpRequest, options: ExchangeOptions): Exchange {
  const startedAt = performance.now();
  const controller = new AbortController();
  let aborted = false;
  let responded = false;

  // First thing, synchronously: uWS terminates the process if we return without an abort handler.
  res.onAborted(() => {
    aborted = true;
    controller.abort();
    if (!responded) {
      responded = true;
      finish(499, 0, true);
    }
  });

  const method = req.getMethod().toUpperCase();
  const path = req.getUrl();
  const query = req.getQuery() ?? '';
  const headers: Record<string, string> = Object.create(null);
  req.forEach((name, value) => {
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}${name === 'cookie' ? '; ' : ', '}${value}`;
  });
  const incomingId = headers['x-request-id'];
  const requestId = incomingId !== undefined && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
  const log = options.log.child({ reqId: requestId });
  const ip = clientIp(res, headers, options.trustProxy === true);

  const exchange: Exchange = {
    method,
    path,
    query,
    headers,
    ip,
    requestId,
    log,
    signal: controller.signal,
    route: '(unmatched)',
    get aborted() {
      return aborted;
    },
    get responded() {
      return responded;
    },
    send,
  };

  function send(reply: Reply, sendOptions: SendOptions = {}): boolean {
    if (aborted || responded) return false;
    responded = true;
    let wire: Wire | { invalid: string };
    try {
      wire = toWire(reply, sendOptions, requestId, options.hsts === true);
    } catch (err) {
      wire = { invalid: err instanceof Error ? err.message : 'unreadable reply' };
    }
    if ('invalid' in wire) {
      // Handlers are typed, but a bad cast or a JS caller must still not leave the client hanging.
      log.error({ problem: wire.invalid }, 'handler returned an invalid reply');
      wire = toWire(internalError(), {}, requestId, options.hsts === true) as Wire;
    }
    const { status, headerList, body, bodiless } = wire;
    const close = sendOptions.closeConnection === true || wire.close;
    try {
      res.cork(() => {
        res.writeStatus(`${status} ${STATUS_CODES[status] ?? ''}`.trimEnd());
        for (const [name, value] of headerList) res.writeHeader(name, value);
        if (bodiless) res.endWithoutBody();
        else if (method === 'HEAD') res.endWithoutBody(body.byteLength, close);
        else res.end(body, close);
      });
    } catch (err) {
      // Only reachable if uWS invalidated the response without telling us; the process must survive it.
      log.error({ err }, 'writing the response failed');
    }
    finish(status, method === 'HEAD' || bodiless ? 0 : body.byteLength, false);
    return true;
  }

  function finish(status: number, bytes: number, wasAborted: boolean): void {
    const durationMs = Math.round((performance.now() - startedAt) * 1000) / 1000;
    const route = exchange.route;
    // Never the query string, cookies or Authorization: they carry tokens.
    if (wasAborted) log.info({ method, route, path, status, durationMs, aborted: true }, 'request aborted');
    else log.info({ method, route, path, status, durationMs, bytes }, 'request');
    try {
      options.onResponse?.({ method, route, status, durationMs });
    } catch (err) {
      log.error({ err }, 'onResponse hook failed');
    }
  }

  return exchange;
}

export function internalError(): Reply {
  return errorReply(500, 'internal_error', 'internal server error');
}

interface Wire {
  status: number;
  headerList: Array<[string, string]>;
  body: Buffer;
  /** 1xx/204/304 responses carry neither a body nor Content-Length. */
  bodiless: boolean;
  close: boolean;
}

function toWire(
  reply: Reply,
  options: SendOptions,
  requestId: string,
  hsts: boolean,
): Wire | { invalid: string } {
  if (typeof reply !== 'object' || reply === null) return { invalid: 'not an object' };
  const status = reply.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) return { invalid: `status ${String(status)}` };
  const headerList: Array<[string, string]> = [];
  let close = false;
  if (reply.headers !== undefined && (typeof reply.headers !== 'object' || reply.headers === null)) {
    return { invalid: 'headers' };
  }
  for (const [name, value] of Object.entries(withSecurityHeaders(reply.headers, { hsts }))) {
    if (!HEADER_NAME.test(name) || typeof value !== 'string' || UNSAFE_VALUE.test(value)) {
      return { invalid: `header ${JSON.stringify(name)}` };
    }
    const lower = name.toLowerCase();
    if (lower === 'connection' && value.toLowerCase() === 'close') close = true;
    if (!FRAMING.has(lower) && lower !== 'x-request-id') headerList.push([name, value]);
  }
  headerList.push(['X-Request-Id', requestId]);
  for (const cookie of options.cookies ?? []) {
    if (UNSAFE_VALUE.test(cookie)) return { invalid: 'Set-Cookie' };
    headerList.push(['Set-Cookie', cookie]);
  }
  const raw: unknown = reply.body ?? '';
  let body: Buffer;
  if (typeof raw === 'string') body = Buffer.from(raw, 'utf8');
  else if (raw instanceof Uint8Array) body = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  else return { invalid: `body of type ${typeof raw}` };
  const bodiless = status === 204 || status === 304;
  // uWS cannot close after a bodiless end; asking the client to is the best we can do.
  if (bodiless && (close || options.closeConnection)) headerList.push(['Connection', 'close']);
  return { status, headerList, body, bodiless, close };
}

function clientIp(res: HttpResponse, headers: Record<string, string>, trustProxy: boolean): string {
  if (trustProxy) {
    const first = headers['x-forwarded-for']?.split(',')[0]?.trim();
    if (first) return first;
  }
  return Buffer.from(res.getRemoteAddressAsText()).toString('utf8');
}
