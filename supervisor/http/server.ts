// The HTTP server every route of the product sits behind: uWS sockets, our Router, and the rules at the edge.
//
// Model: one uWS catch-all route hands each request to an Exchange (which owns the uWS response and its
// invariants), the Router picks a Handler, and the Handler returns a plain Reply or throws. Expected failures
// (HttpError) become the error envelope; anything else is logged with the request id and answered 500 with no
// internals. A request that has a body (Content-Length > 0 or Transfer-Encoding) has it read eagerly from the first
// synchronous moment (uWS drops chunks that arrive before a reader is attached) within a size and time budget;
// breaking the budget is answered 413/408 at once, closing the connection because the rest of the body is still on
// the wire. A request without one (most GETs) costs no reader and no timer. A route made with `streamingHandler`
// (media uploads) instead reads its body as a stream (`ctx.bodyStream()`, body-stream.ts) up to its own limit; if it
// answers before the body ended, the connection is closed (the rest is still on the wire).
// Shutdown: stopListening() refuses new connections, in-flight handlers run to completion, drain() waits for them.
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type * as v from 'valibot';
import { AbortedError, payloadTooLarge, readBody } from './body.js';
import { streamBody } from './body-stream.js';
import { parseCookies, serializeCookie, type CookieOptions } from './cookies.js';
import type { CorsPolicy } from './cors.js';
import { errorReply, HttpError } from './errors.js';
import { internalError, openExchange, type Exchange, type SendOptions } from './exchange.js';
import { parseJsonBody, type AnySchema } from './json-body.js';
import type { Reply } from './reply.js';
import type { Router } from './router.js';
import { uws, type HttpRequest, type HttpResponse, type ListenSocket, type TemplatedApp } from './uws.js';

export interface RequestContext {
  /** Upper-case. */
  method: string;
  /** Without the query string, not decoded. */
  path: string;
  /** The route pattern that matched. */
  pattern: string;
  /** Percent-decoded. */
  params: Record<string, string>;
  query: URLSearchParams;
  /** Lower-case names; repeated headers joined with ', ' ('; ' for cookie). */
  headers: Record<string, string>;
  cookies: Record<string, string>;
  ip: string;
  requestId: string;
  log: Logger;
  /** Aborted when the client disconnects. */
  signal: AbortSignal;
  /** The whole body, size- and time-limited; the same promise on every call. */
  body(): Promise<Buffer>;
  json<S extends AnySchema>(schema: S): Promise<v.InferOutput<S>>;
  /** The body as a stream: read as it arrives on a `streamingHandler` route, else the buffered body. */
  bodyStream(): Readable;
  setCookie(name: string, value: string, options?: CookieOptions): void;
}

export type Handler = ((ctx: RequestContext) => Reply | Promise<Reply>) & { streamedBody?: { limitBytes: number } };

/** A route whose body is streamed to it (never buffered whole), up to `limitBytes` instead of the server's limit. */
export function streamingHandler(limitBytes: number, handler: (ctx: RequestContext) => Reply | Promise<Reply>): Handler {
  return Object.assign(handler, { streamedBody: { limitBytes } });
}

export interface ResponseInfo {
  method: string;
  /** The matched pattern, or '(unmatched)'. */
  route: string;
  /** 499 when the client aborted first. */
  status: number;
  durationMs: number;
}

export interface HttpServerOptions {
  router: Router<Handler>;
  log: Logger;
  maxBodyBytes: number;
  bodyTimeoutMs: number;
  hsts?: boolean;
  /** Only behind a proxy that overwrites X-Forwarded-For; otherwise clients choose their own ip. */
  trustProxy?: boolean;
  /** CORS for the trusted origins (cors.ts); undefined: none, and no CORS header is ever sent. */
  cors?: CorsPolicy;
  onResponse?(info: ResponseInfo): void;
}

export interface HttpServer {
  app: TemplatedApp;
  /** Resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  stopListening(): void;
  inflight(): number;
  /** Resolves true once no request is in flight, false if that did not happen within timeoutMs. */
  drain(timeoutMs: number): Promise<boolean>;
}

export function createHttpServer(options: HttpServerOptions): HttpServer {
  const app = uws.App();
  let listenSocket: ListenSocket | undefined;
  let stopping = false;
  let inflight = 0;
  const drainWaiters = new Set<() => void>();

  const release = (): void => {
    inflight -= 1;
    if (inflight === 0) for (const wake of [...drainWaiters]) wake();
  };

  const edge: Edge = { stopping: () => stopping, cors: options.cors };

  app.any('/*', (res: HttpResponse, req: HttpRequest) => {
    inflight += 1;
    const exchange = openExchange(res, req, options);
    // route() never throws on purpose; anything that escapes is a bug, answered 500. Exactly one release().
    route(exchange, res, options, edge).then(release, (err: unknown) => {
      try {
        exchange.log.error({ err }, 'request dispatch failed');
        exchange.send(internalError());
      } finally {
        release();
      }
    });
  });

  return {
    app,
    listen: (host, port) =>
      new Promise<number>((resolve, reject) => {
        app.listen(host, port, (socket) => {
          if (!socket) return reject(new Error(`could not listen on ${host}:${port}`));
          listenSocket = socket;
          stopping = false;
          resolve(uws.us_socket_local_port(socket as Parameters<typeof uws.us_socket_local_port>[0]));
        });
      }),
    stopListening: () => {
      stopping = true;
      if (listenSocket) uws.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
    },
    inflight: () => inflight,
    drain: (timeoutMs) => {
      if (inflight === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          drainWaiters.delete(wake);
          resolve(true);
        };
        const timer = setTimeout(() => {
          drainWaiters.delete(wake);
          resolve(false);
        }, timeoutMs);
        drainWaiters.add(wake);
      });
    },
  };
}

const NO_EXTRA: SendOptions = Object.freeze({});
const CLOSE: SendOptions = Object.freeze({ closeConnection: true });
const EMPTY = Buffer.alloc(0);

/** What every answer of a server consults: whether it is shutting down, and its CORS policy. */
interface Edge {
  stopping(): boolean;
  cors: CorsPolicy | undefined;
}

async function route(exchange: Exchange, res: HttpResponse, options: HttpServerOptions, edge: Edge): Promise<void> {
  const { method, path, headers } = exchange;
  const preflight = edge.cors?.preflight(method, path, headers);
  if (preflight !== undefined) {
    exchange.route = '(preflight)';
    answer(exchange, edge, preflight);
    return;
  }
  // No named closures per request on this path (answer() is module-level, ctx is a class): under tsx, keepNames
  // turns each named closure into an Object.defineProperty call.
  const match = options.router.match(method, path);
  if (match.kind === 'not_found') {
    answer(exchange, edge, errorReply(404, 'not_found', `no route for ${method} ${path}`));
    return;
  }
  if (match.kind === 'method_not_allowed') {
    const reply = errorReply(405, 'method_not_allowed', `${method} is not allowed here`);
    answer(exchange, edge, { ...reply, headers: { ...reply.headers, Allow: match.allow.join(', ') } });
    return;
  }
  exchange.route = match.pattern;

  const contentLength = parseContentLength(headers['content-length']);
  const streamed = match.handler.streamedBody;
  const limitBytes = streamed?.limitBytes ?? options.maxBodyBytes;
  if (contentLength !== undefined && contentLength > limitBytes) {
    // Refused before reading a byte and before the handler runs.
    answer(exchange, edge, payloadTooLarge(limitBytes).toReply(), CLOSE);
    return;
  }
  let body: Promise<Buffer> | undefined;
  let stream: Readable | undefined;
  // HTTP/1.1 framing: without Transfer-Encoding and Content-Length (or with Content-Length: 0) a request has no
  // body, so nothing is registered with uWS and no timer runs for it (most GETs).
  const hasBody = headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && contentLength !== 0);
  if (hasBody && streamed) {
    stream = streamBody(res, { limitBytes, idleTimeoutMs: options.bodyTimeoutMs, signal: exchange.signal, ...(contentLength !== undefined && { contentLength }) });
    // Also the listener that keeps a stream error from being an uncaught one when the handler never read it.
    stream.on('error', (err: unknown) => {
      if (err instanceof HttpError) answer(exchange, edge, err.toReply(), CLOSE);
    });
  } else if (hasBody) {
    body = readBody(res, {
      limitBytes: options.maxBodyBytes,
      timeoutMs: options.bodyTimeoutMs,
      signal: exchange.signal,
      ...(contentLength !== undefined && { contentLength }),
    });
    // Whether or not the handler ever reads the body, a broken budget is answered now.
    body.catch((err: unknown) => {
      if (err instanceof HttpError) answer(exchange, edge, err.toReply(), CLOSE);
    });
  }

  const ctx = new Context(exchange, match, body, stream);

  let reply: Reply;
  try {
    reply = await match.handler(ctx);
  } catch (err) {
    if (exchange.aborted || err instanceof AbortedError) return;
    if (err instanceof HttpError) {
      // Cookies still apply: an error may well be "your session is gone, here is the cleared cookie".
      answer(exchange, edge, err.toReply(), sendOptions(ctx, stream));
    } else {
      exchange.log.error({ err }, 'request handler failed');
      answer(exchange, edge, internalError());
    }
    return;
  }
  if (exchange.responded && !exchange.aborted) {
    exchange.log.debug('handler replied after the server already answered (body budget exceeded)');
    return;
  }
  answer(exchange, edge, reply, sendOptions(ctx, stream));
}

/** The cookies the handler set; and a body stream left unfinished closes the connection (and stops its timer). */
function sendOptions(ctx: Context, stream: Readable | undefined): SendOptions {
  if (stream && !stream.readableEnded) {
    stream.destroy();
    return ctx.outgoing ? { cookies: ctx.outgoing, closeConnection: true } : CLOSE;
  }
  return ctx.outgoing ? { cookies: ctx.outgoing } : NO_EXTRA;
}

/**
 * What a handler sees. A class so that the lazy parts (query, cookies, ip, log, signal) are getters on the
 * prototype instead of accessors defined on every request's object; body/json/setCookie stay own arrow
 * properties, so a handler may destructure them.
 */
class Context implements RequestContext {
  readonly method: string;
  readonly path: string;
  readonly pattern: string;
  readonly params: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly requestId: string;
  readonly body: RequestContext['body'];
  readonly json: RequestContext['json'];
  readonly setCookie: RequestContext['setCookie'];
  /** Serialized Set-Cookie values the handler asked for, if any. */
  outgoing: string[] | undefined;
  readonly #exchange: Exchange;
  readonly #stream: Readable | undefined;
  #query: URLSearchParams | undefined;
  #cookies: Record<string, string> | undefined;

  constructor(exchange: Exchange, match: { pattern: string; params: Record<string, string> }, body: Promise<Buffer> | undefined, stream?: Readable) {
    this.#exchange = exchange;
    this.#stream = stream;
    this.method = exchange.method;
    this.path = exchange.path;
    this.pattern = match.pattern;
    this.params = match.params;
    this.headers = exchange.headers;
    this.requestId = exchange.requestId;
    // Assigned arrows, not class fields: under tsx (keepNames) a named arrow costs an Object.defineProperty.
    let whole = body;
    this.body = () => (whole ??= Promise.resolve(EMPTY));
    this.json = (schema) => parseJsonBody(this.headers['content-type'], this.body, schema);
    this.setCookie = (name, value, options) => {
      (this.outgoing ??= []).push(serializeCookie(name, value, options));
    };
  }

  bodyStream(): Readable {
    if (this.#stream) return this.#stream;
    const whole = this.body();
    return Readable.from((async function* () {
      yield await whole;
    })());
  }

  get query(): URLSearchParams {
    return (this.#query ??= new URLSearchParams(this.#exchange.query));
  }

  get cookies(): Record<string, string> {
    return (this.#cookies ??= parseCookies(this.headers['cookie']));
  }

  get ip(): string {
    return this.#exchange.ip;
  }

  get log(): Logger {
    return this.#exchange.log;
  }

  get signal(): AbortSignal {
    return this.#exchange.signal;
  }
}

/** Adds the CORS headers the request calls for; while shutting down, asks keep-alive clients to reconnect elsewhere. */
function answer(exchange: Exchange, edge: Edge, reply: Reply, extra: SendOptions = NO_EXTRA): boolean {
  const sent = edge.cors === undefined ? reply : edge.cors.apply(reply, exchange.path, exchange.headers['origin']);
  return exchange.send(sent, edge.stopping() && extra.closeConnection !== true ? { ...extra, closeConnection: true } : extra);
}

function parseContentLength(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}
