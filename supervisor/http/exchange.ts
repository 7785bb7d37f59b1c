// One HTTP request/response pair on a uWS connection, from the first synchronous moment to its access-log line.
//
// uWS rules this module exists to keep in one place:
// - HttpRequest is stack-allocated and valid only during the synchronous route callback, so everything a handler
//   may need later (method, path, query, headers, peer address) is copied out before the first await.
// - HttpResponse must get an onAborted handler before the callback returns, and touching it after an abort or
//   after it ended throws; every write goes through `send`, which is corked, runs at most once, and never after
//   an abort.
// The exchange ends exactly once: answered (access log with status and bytes) or aborted (status 499).
//
// This is the hot path of every request, so what most requests never use is made on first use: the
// AbortController behind `signal`, the child logger behind `log`, the decoded peer address behind `ip`.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Logger } from 'pino';
import { errorReply } from './errors.js';
import type { Reply } from './reply.js';
import { defaultBit, FULL_SECURITY_HEADERS, securityHeaders, type HeaderPair } from './security-headers.js';
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
const NO_OPTIONS: SendOptions = Object.freeze({});

// uWS hands out the method lower-cased; the common ones are upper-cased once, not per request.
const METHODS = new Map(['get', 'head', 'post', 'put', 'patch', 'delete', 'options'].map((m) => [m, m.toUpperCase()]));

// What every response writes is encoded to bytes once: uWS takes a Uint8Array as is, whereas each string
// argument is measured and copied as UTF-8 on every call. "200 OK", "404 Not Found", …
const STATUS_LINES: Buffer[] = [];
for (let status = 200; status <= 599; status++) STATUS_LINES[status] = Buffer.from(`${status} ${STATUS_CODES[status] ?? ''}`.trimEnd());
const ENCODED_DEFAULTS = new Map(
  FULL_SECURITY_HEADERS.map((list) => [list, list.map(([name, value]) => [Buffer.from(name), Buffer.from(value)] as const)]),
);
const REQUEST_ID_HEADER = Buffer.from('X-Request-Id');
const SET_COOKIE_HEADER = Buffer.from('Set-Cookie');

export function openExchange(res: HttpResponse, req: HttpRequest, options: ExchangeOptions): Exchange {
  return new UwsExchange(res, req, options);
}

// A class rather than a closure per request: its methods are shared, and no per-request function objects are
// made (tsx's keepNames would also pay an Object.defineProperty for each named one).
class UwsExchange implements Exchange {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly headers: Record<string, string>;
  readonly requestId: string;
  route = '(unmatched)';
  readonly #res: HttpResponse;
  readonly #options: ExchangeOptions;
  readonly #startedAt = performance.now();
  #aborted = false;
  #responded = false;
  #controller: AbortController | undefined;
  #ip: string | undefined;
  #address: ArrayBuffer | undefined;
  #log: Logger | undefined;

  constructor(res: HttpResponse, req: HttpRequest, options: ExchangeOptions) {
    this.#res = res;
    this.#options = options;
    // First thing, synchronously: uWS terminates the process if we return without an abort handler.
    res.onAborted(() => {
      this.#aborted = true;
      this.#controller?.abort();
      if (!this.#responded) {
        this.#responded = true;
        this.#finish(499, undefined, true);
      }
    });

    const method = req.getMethod();
    this.method = METHODS.get(method) ?? method.toUpperCase();
    this.path = req.getUrl();
    this.query = req.getQuery() ?? '';
    const headers: Record<string, string> = Object.create(null);
    req.forEach((name, value) => {
      const previous = headers[name];
      headers[name] = previous === undefined ? value : `${previous}${name === 'cookie' ? '; ' : ', '}${value}`;
    });
    this.headers = headers;
    const incomingId = headers['x-request-id'];
    this.requestId = incomingId !== undefined && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
    if (options.trustProxy === true) this.#ip = forwardedFor(headers);
    // Read now, while the response is surely alive (a handler may ask after the client left, e.g. for an audit
    // line, and uWS forbids touching the response then), but decoded only when asked.
    if (this.#ip === undefined) this.#address = res.getRemoteAddressAsText();
  }

  get ip(): string {
    return (this.#ip ??= Buffer.from(this.#address!).toString('latin1'));
  }

  get log(): Logger {
    return (this.#log ??= this.#options.log.child({ reqId: this.requestId }));
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  get responded(): boolean {
    return this.#responded;
  }

  send(reply: Reply, sendOptions: SendOptions = NO_OPTIONS): boolean {
    if (this.#aborted || this.#responded) return false;
    this.#responded = true;
    const hsts = this.#options.hsts === true;
    let wire: Wire | string;
    try {
      wire = toWire(reply, sendOptions, hsts);
    } catch (err) {
      wire = err instanceof Error ? err.message : 'unreadable reply';
    }
    if (typeof wire === 'string') {
      // Handlers are typed, but a bad cast or a JS caller must still not leave the client hanging.
      this.log.error({ problem: wire }, 'handler returned an invalid reply');
      wire = toWire(internalError(), NO_OPTIONS, hsts) as Wire;
    }
    const ready = wire;
    const res = this.#res;
    const head = this.method === 'HEAD';
    const close = sendOptions.closeConnection === true || ready.close;
    try {
      res.cork(() => write(res, ready, this.requestId, head, close));
    } catch (err) {
      // Only reachable if uWS invalidated the response without telling us; the process must survive it.
      this.log.error({ err }, 'writing the response failed');
    }
    this.#finish(ready.status, head ? undefined : ready, false);
    return true;
  }

  /** `sent` is what went out (undefined when aborted or HEAD): its body is only measured if the line is logged. */
  #finish(status: number, sent: Wire | undefined, wasAborted: boolean): void {
    const durationMs = Math.round((performance.now() - this.#startedAt) * 1000) / 1000;
    const { method, route, path } = this;
    const options = this.#options;
    // Never the query string, cookies or Authorization: they carry tokens.
    if (options.log.isLevelEnabled('info')) {
      const line = wasAborted
        ? { method, route, path, status, durationMs, aborted: true }
        : { method, route, path, status, durationMs, bytes: sent === undefined || sent.bodiless ? 0 : byteLength(sent.body) };
      const msg = wasAborted ? 'request aborted' : 'request';
      // The child logger is made only if something else logged; the line carries the same reqId either way.
      if (this.#log) this.#log.info(line, msg);
      else options.log.info({ reqId: this.requestId, ...line }, msg);
    }
    try {
      options.onResponse?.({ method, route, status, durationMs });
    } catch (err) {
      this.log.error({ err }, 'onResponse hook failed');
    }
  }
}

export function internalError(): Reply {
  return errorReply(500, 'internal_error', 'internal server error');
}

interface Wire {
  status: number;
  /** The handler's own headers, validated, framing and X-Request-Id left out. */
  own: HeaderPair[];
  /** The security headers the handler did not set (a shared frozen list). */
  defaults: readonly HeaderPair[];
  cookies: readonly string[] | undefined;
  body: string | Uint8Array;
  /** 204/304 responses carry neither a body nor Content-Length. */
  bodiless: boolean;
  close: boolean;
}

/** The reply checked and laid out for the wire, or why it cannot be sent. */
function toWire(reply: Reply, options: SendOptions, hsts: boolean): Wire | string {
  if (typeof reply !== 'object' || reply === null) return 'not an object';
  const status = reply.status;
  if (!Number.isInteger(status) || status < 200 || status > 599) return `status ${String(status)}`;
  const own: HeaderPair[] = [];
  let close = false;
  let overridden = 0;
  let contentType: string | undefined;
  const headers = reply.headers;
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null) return 'headers';
    for (const name in headers) {
      if (!Object.hasOwn(headers, name)) continue;
      const value: unknown = headers[name];
      if (!HEADER_NAME.test(name) || typeof value !== 'string' || UNSAFE_VALUE.test(value)) {
        return `header ${JSON.stringify(name)}`;
      }
      const lower = name.toLowerCase();
      overridden |= defaultBit(lower);
      if (lower === 'content-type') contentType ??= value;
      else if (lower === 'connection' && value.toLowerCase() === 'close') close = true;
      if (!FRAMING.has(lower) && lower !== 'x-request-id') own.push([name, value]);
    }
  }
  const cookies = options.cookies !== undefined && options.cookies.length > 0 ? options.cookies : undefined;
  if (cookies) for (const cookie of cookies) if (UNSAFE_VALUE.test(cookie)) return 'Set-Cookie';
  const body: unknown = reply.body ?? '';
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) return `body of type ${typeof body}`;
  const defaults = securityHeaders({ overridden, contentType }, { hsts });
  return { status, own, defaults, cookies, body, bodiless: status === 204 || status === 304, close };
}

function write(res: HttpResponse, wire: Wire, requestId: string, head: boolean, close: boolean): void {
  res.writeStatus(STATUS_LINES[wire.status]!);
  for (const [name, value] of wire.own) res.writeHeader(name, value);
  // A handler that overrides a default gets a filtered list, written as strings (rare).
  for (const [name, value] of ENCODED_DEFAULTS.get(wire.defaults) ?? wire.defaults) res.writeHeader(name, value);
  res.writeHeader(REQUEST_ID_HEADER, requestId);
  if (wire.cookies) for (const cookie of wire.cookies) res.writeHeader(SET_COOKIE_HEADER, cookie);
  if (wire.bodiless) {
    // uWS cannot close after a bodiless end; asking the client to is the best we can do.
    if (close) res.writeHeader('Connection', 'close');
    res.endWithoutBody();
  } else if (head) res.endWithoutBody(byteLength(wire.body), close);
  // uWS copies a string as UTF-8 itself: no Buffer is made for it here.
  else res.end(wire.body, close);
}

function byteLength(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength;
}

function forwardedFor(headers: Record<string, string>): string | undefined {
  const first = headers['x-forwarded-for']?.split(',')[0]?.trim();
  return first ? first : undefined;
}
