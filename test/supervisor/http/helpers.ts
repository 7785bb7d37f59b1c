// Shared test fixtures: a real server on 127.0.0.1:0 with captured JSON logs, and a raw-socket client for the
// cases fetch cannot express (half-sent bodies, trickled bytes, aborts mid-request).
import net from 'node:net';
import { pino, type Logger } from 'pino';
import { Router } from '../../../supervisor/http/router.js';
import { createHttpServer, type Handler, type HttpServer, type HttpServerOptions, type ResponseInfo } from '../../../supervisor/http/server.js';

export interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  [key: string]: unknown;
}

export function captureLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return { log, lines };
}

export interface TestServer {
  server: HttpServer;
  port: number;
  url: string;
  lines: LogLine[];
  responses: ResponseInfo[];
}

export async function startServer(
  t: { teardown(fn: () => void | Promise<void>): void },
  routes: (router: Router<Handler>) => void,
  overrides: Partial<HttpServerOptions> = {},
): Promise<TestServer> {
  const router = new Router<Handler>();
  routes(router);
  const { log, lines } = captureLog();
  const responses: ResponseInfo[] = [];
  const server = createHttpServer({
    router,
    log,
    maxBodyBytes: 1024,
    bodyTimeoutMs: 2_000,
    onResponse: (info) => void responses.push(info),
    ...overrides,
  });
  const port = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.stopListening());
  return { server, port, url: `http://127.0.0.1:${port}`, lines, responses };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

/** Parses the first HTTP/1.1 response in `raw` (Content-Length framed, as uWS sends them). */
export function parseResponse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw new Error(`no complete response head in ${JSON.stringify(raw)}`);
  const [statusLine, ...headerLines] = raw.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const length = Number(headers['content-length'] ?? 0);
  return { status: Number(statusLine!.split(' ')[1]), headers, body: raw.slice(end + 4, end + 4 + length), raw };
}

export interface RawOptions {
  /** Sent one after another, `gapMs` apart; stops early once a response arrived. */
  chunks: Array<string | Buffer>;
  gapMs?: number;
  /** Destroy the socket after the last chunk instead of waiting for a response. */
  destroyAfterLast?: boolean;
  timeoutMs?: number;
}

/** Writes raw bytes and collects everything the server sends until it closes (or timeoutMs). */
export function rawExchange(port: number, options: RawOptions): Promise<{ data: string; closedByServer: boolean }> {
  const { chunks, gapMs = 0, destroyAfterLast = false, timeoutMs = 3_000 } = options;
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    let closedByServer = false;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ data, closedByServer });
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    // A reset after the server answered and closed is expected when we were still sending.
    socket.on('error', (err: NodeJS.ErrnoException) => (data || err.code === 'ECONNRESET' || err.code === 'EPIPE' ? finish() : reject(err)));
    socket.on('close', finish);
    socket.once('connect', async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (done || data) break;
        socket.write(chunk);
        if (i < chunks.length - 1 && gapMs > 0) await sleep(gapMs);
      }
      if (destroyAfterLast) {
        await sleep(20);
        finish();
      }
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` is true, for log lines written after the response was already on the wire. */
export async function eventually(check: () => boolean, timeoutMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}
