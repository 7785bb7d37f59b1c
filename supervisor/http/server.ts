// The HTTP server every route of the product sits behind: uWS sockets, our Router, and the rules at the edge.
//
// Model: one uWS catch-all route hands each request to an Exchange (which owns the uWS response and its
// invariants), the Router picks a Handler, and the Handler returns a plain Reply or throws. Expected failures
// (HttpError) become the error envelope; anything else is logged with the request id and answered 500 with no
// internals. The request body is read eagerly from the first synchronous moment (uWS drops chunks that arrive
// before a reader is attached) within a size and time budget; breaking the budget is answered 413/408 at once,
// closing the connection because the rest of the body is still on the wire.
// Shutdown: stopListening() refuses new connections, in-flight handlers run to completion, drain() waits for them.
import type { Logger } from 'pino';
import type * as v from 'valibot';
import { AbortedError, payloadTooLarge, readBody } from './body.js';
import { parseCookies, serializeCookie, type CookieOptions } from './cookies.js';
import { errorReply, HttpError } from './errors.js';
import { internalError, openExchange, type Exchange } from './exchange.js';
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
  setCookie(name: string, value: string, options?: CookieOptions): void;
}

export type Handler = (ctx: RequestContext) => Reply | Promise<Reply>;

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

  app.any('/*', (res: HttpResponse, req: HttpRequest) => {
    inflight += 1;
    const exchange = openExchange(res, req, options);
    dispatch(exchange, res, options, () => stopping)
      .catch((err: unknown) => {
        exchange.log.error({ err }, 'request dispatch failed');
        exchange.send(internalError());
      })
      .finally(release);
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

async function dispatch(
  exchange: Exchange,
  res: HttpResponse,
  options: HttpServerOptions,
  stopping: () => boolean,
): Promise<void> {
  const { method, path, headers } = exchange;
  // While shutting down, ask keep-alive clients to reconnect elsewhere.
  const send = (reply: Reply, extra: { closeConnection?: boolean; cookies?: string[] } = {}): boolean =>
    exchange.send(reply, { ...extra, closeConnection: extra.closeConnection === true || stopping() });

  const match = options.router.match(method, path);
  if (match.kind === 'not_found') {
    send(errorReply(404, 'not_found', `no route for ${method} ${path}`));
    return;
  }
  if (match.kind === 'method_not_allowed') {
    const reply = errorReply(405, 'method_not_allowed', `${method} is not allowed here`);
    send({ ...reply, headers: { ...reply.headers, Allow: match.allow.join(', ') } });
    return;
  }
  exchange.route = match.pattern;

  const contentLength = parseContentLength(headers['content-length']);
  if (contentLength !== undefined && contentLength > options.maxBodyBytes) {
    // Refused before reading a byte and before the handler runs.
    send(payloadTooLarge(options.maxBodyBytes).toReply(), { closeConnection: true });
    return;
  }
  const body = readBody(res, {
    limitBytes: options.maxBodyBytes,
    timeoutMs: options.bodyTimeoutMs,
    signal: exchange.signal,
    ...(contentLength !== undefined && { contentLength }),
  });
  // Whether or not the handler ever reads the body, a broken budget is answered now.
  body.catch((err: unknown) => {
    if (err instanceof HttpError) send(err.toReply(), { closeConnection: true });
  });

  const cookies: string[] = [];
  let parsedCookies: Record<string, string> | undefined;
  const ctx: RequestContext = {
    method,
    path,
    pattern: match.pattern,
    params: match.params,
    query: new URLSearchParams(exchange.query),
    headers,
    get cookies() {
      return (parsedCookies ??= parseCookies(headers['cookie']));
    },
    ip: exchange.ip,
    requestId: exchange.requestId,
    log: exchange.log,
    signal: exchange.signal,
    body: () => body,
    json: (schema) => parseJsonBody(headers['content-type'], () => body, schema),
    setCookie: (name, value, cookieOptions) => {
      cookies.push(serializeCookie(name, value, cookieOptions));
    },
  };

  let reply: Reply;
  try {
    reply = await match.handler(ctx);
  } catch (err) {
    if (exchange.aborted || err instanceof AbortedError) return;
    if (err instanceof HttpError) {
      // Cookies still apply: an error may well be "your session is gone, here is the cleared cookie".
      send(err.toReply(), { cookies });
    } else {
      exchange.log.error({ err }, 'request handler failed');
      send(internalError());
    }
    return;
  }
  if (exchange.responded && !exchange.aborted) {
    exchange.log.debug('handler replied after the server already answered (body budget exceeded)');
    return;
  }
  send(reply, { cookies });
}

function parseContentLength(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,15}$/.test(value) ? Number(value) : undefined;
}
