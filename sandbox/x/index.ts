/**
 * A fake X for tests, benchmarks and the sandbox: X's OAuth 2.0 server and the v2 endpoints TuitBot
 * uses, on one node:http server on loopback, over a simulated world that evolves with a clock.
 *
 * Wire-compatible with X where our clients can tell: the same paths, parameters, status codes, error
 * bodies and rate-limit headers; responses are contract-tested against X's OpenAPI document
 * (../shared/specs/x-api-v2.openapi.json). Behaviour beyond the schema that X enforces (512-char
 * queries, the 7-day search window, 280 weighted characters, 403 on duplicate text, per-user
 * 15-minute windows) is imitated too. Never imported by production code paths outside the sandbox switch.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pino from 'pino';
import { FakeXApi, type Reply } from './api.js';
import { readBody, send, sendJson } from './http.js';
import { FakeXOAuth, type FakeXClient } from './oauth.js';
import { RateLimits, type Limit } from './rate-limits.js';
import { DEFAULT_TOPICS, World, prng } from './world.js';

export type { FakeXClient } from './oauth.js';

export interface FakeXOptions {
  /** Default: one confidential client { clientId: 'sandbox-x-client', clientSecret: 'sandbox-x-secret' }. */
  clients?: FakeXClient[];
  accessTokenTtlSeconds?: number;
  /** Uniform extra latency per API call, in ms. */
  latencyMs?: [number, number];
  /** Replaces X's per-endpoint limits (rate-limits.ts) with one limit for every endpoint. */
  rateLimit?: Limit;
  /** Probability of an unprovoked 429 per API call. */
  random429?: number;
  /** A controllable clock (ms); without it the fake runs on the wall clock moved by `advance()`. */
  now?: () => number;
  seed?: number;
  world?: { topics?: string[]; postsPerMinute?: number };
  log?: pino.Logger;
  host?: string;
  port?: number;
}

export interface FakeXSettings {
  authorizeUrl: string;
  tokenUrl: string;
  revokeUrl: string;
  apiUrl: string;
  /** X's legacy v1.1 upload endpoint; the v2 one is `${apiUrl}/media/upload`. */
  uploadUrl: string;
  clientId: string;
  clientSecret: string | null;
}

export interface FakeXRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** JSON or form fields; OAuth secrets and media bytes are replaced by placeholders. */
  body: unknown;
  status: number;
  /** The JSON answer, for contract tests. */
  response?: unknown;
}

export interface XFault {
  status: 429 | 500 | 503;
  times?: number;
  path?: RegExp;
  resetInSeconds?: number;
}

export interface FakeX {
  url: string;
  settings: FakeXSettings;
  /** Drives the consent page like a browser (GET the page, submit Authorize); returns the redirect Location. */
  approve(authorizeUrl: string, options?: { username?: string }): Promise<string>;
  /** Same, pressing Deny: the Location carries error=access_denied&state=… */
  deny(authorizeUrl: string): Promise<string>;
  /** The user revokes the app in X's settings: every token of theirs dies; a refresh gets invalid_grant. */
  revokeApp(username: string): void;
  /** Fault injection for the next matching API calls. */
  inject(fault: XFault): void;
  /** Moves the fake's own clock (and so the world); only without `options.now`. */
  advance(ms: number): void;
  /** Calls seen, oldest first (no tokens). */
  requests: FakeXRequest[];
  users: { byUsername(username: string): { id: string; username: string; name: string } | undefined };
  /** The simulated world, for tests that need to look behind the API. */
  world: World;
  close(): Promise<void>;
}

const DEFAULT_CLIENT: FakeXClient = { clientId: 'sandbox-x-client', clientSecret: 'sandbox-x-secret', name: 'TuitBot (sandbox)' };
/** Big enough for a 5 MB chunk as base64 JSON; X's own per-request cap is similar. */
const BODY_LIMIT = 12 * 1024 * 1024;
const SECRET_FIELDS = new Set(['code', 'code_verifier', 'refresh_token', 'token', 'client_secret']);

export async function startFakeX(options: FakeXOptions = {}): Promise<FakeX> {
  let skew = 0;
  const clock = options.now ?? (() => Date.now() + skew);
  const clients = options.clients ?? [DEFAULT_CLIENT];
  const chance = prng((options.seed ?? 1) ^ 0x5eed);
  const world = new World({
    seed: options.seed ?? 1,
    topics: options.world?.topics ?? DEFAULT_TOPICS,
    postsPerMinute: options.world?.postsPerMinute ?? 2,
    start: clock(),
  });
  const oauth = new FakeXOAuth({
    clients,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 7200,
    now: clock,
    ensureUser: (username) => world.connect(username),
    userIdOf: (username) => world.userByName(username)?.id,
  });
  const api = new FakeXApi({ world, oauth, now: clock, limits: new RateLimits(options.rateLimit) });
  const faults: Array<Required<Pick<XFault, 'status' | 'times'>> & XFault> = [];
  const requests: FakeXRequest[] = [];
  const log = options.log;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake.x');
    const method = req.method ?? 'GET';
    const route = `${method} ${url.pathname}`;
    const raw = await readBody(req, BODY_LIMIT);
    if (raw === null) return sendJson(res, 413, { title: 'Payload Too Large', type: 'about:blank', status: 413, detail: 'Payload Too Large' });
    const form = () => new URLSearchParams(raw.toString('utf8'));

    if (route === 'GET /i/oauth2/authorize') return oauth.authorizePage(url, res);
    if (route === 'POST /i/oauth2/authorize') return oauth.consent(form(), res);
    if (route === 'POST /2/oauth2/token' || route === 'POST /2/oauth2/revoke') {
      const fields = form();
      res.once('finish', () => requests.push({ method, path: url.pathname, query: {}, body: redacted(fields), status: res.statusCode }));
      return route === 'POST /2/oauth2/token' ? oauth.token(req, fields, res) : oauth.revoke(req, fields, res);
    }

    const [low, high] = options.latencyMs ?? [0, 0];
    if (high > 0) await new Promise((resolve) => setTimeout(resolve, low + chance() * (high - low)));
    world.catchUp(clock());
    const injected = takeFault(url.pathname);
    const unprovoked = injected === undefined && options.random429 !== undefined && chance() < options.random429;
    const fault = injected ?? (unprovoked ? { status: 429 as const } : undefined);
    const reply: Reply = api.handle({ method, url, headers: req.headers, body: raw, fault });
    requests.push({ method, path: url.pathname, query: Object.fromEntries(url.searchParams), body: reply.requestBody, status: reply.status, response: reply.body });
    if (reply.status >= 500 || reply.status === 429) log?.debug({ path: url.pathname, status: reply.status }, 'sandbox X answered with an error');
    if (reply.body === undefined) {
      res.writeHead(reply.status, { 'Content-Length': 0, ...reply.headers });
      return void res.end();
    }
    // X sends its RFC 7807 problems as application/problem+json.
    const isProblem = reply.status >= 400 && typeof reply.body === 'object' && reply.body !== null && 'type' in reply.body;
    send(res, reply.status, isProblem ? 'application/problem+json' : 'application/json; charset=utf-8', JSON.stringify(reply.body), reply.headers);
  }

  function takeFault(path: string): XFault | undefined {
    const index = faults.findIndex((f) => f.path === undefined || f.path.test(path));
    if (index < 0) return undefined;
    const fault = faults[index]!;
    if (--fault.times <= 0) faults.splice(index, 1);
    return fault;
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log?.error({ err: error }, 'sandbox X failed');
      if (!res.headersSent) sendJson(res, 500, { title: 'Internal Server Error', type: 'about:blank', status: 500, detail: 'Internal Server Error' });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  const first = clients[0]!;
  const settings: FakeXSettings = {
    authorizeUrl: `${url}/i/oauth2/authorize`,
    tokenUrl: `${url}/2/oauth2/token`,
    revokeUrl: `${url}/2/oauth2/revoke`,
    apiUrl: `${url}/2`,
    uploadUrl: `${url}/1.1/media/upload.json`,
    clientId: first.clientId,
    clientSecret: first.clientSecret,
  };
  log?.info({ url }, 'sandbox X listening (nothing is posted to the real X)');

  /** Loads the consent page and submits one of its two forms, as a browser would. */
  async function answerConsent(authorizeUrl: string, decision: 'authorize' | 'deny', username?: string): Promise<string> {
    const page = await fetch(authorizeUrl, { redirect: 'manual' });
    if (page.status === 302) return page.headers.get('location')!;
    const html = await page.text();
    if (page.status !== 200) throw new Error(`the sandbox X refused the authorization request (${page.status}): ${html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()}`);
    const request = /name="request" value="([^"]+)"/.exec(html)?.[1];
    if (!request) throw new Error('the consent page has no form');
    const fields = new URLSearchParams({ request, decision, ...(username !== undefined && { username }) });
    if (decision === 'authorize' && username === undefined) fields.set('username', /name="username" value="([^"]*)"/.exec(html)?.[1] ?? '');
    const answer = await fetch(new URL('/i/oauth2/authorize', authorizeUrl), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    });
    const location = answer.headers.get('location');
    if (answer.status !== 302 || location === null) throw new Error(`the consent form answered ${answer.status}`);
    return location;
  }

  return {
    url,
    settings,
    approve: (authorizeUrl, opts) => answerConsent(authorizeUrl, 'authorize', opts?.username),
    deny: (authorizeUrl) => answerConsent(authorizeUrl, 'deny'),
    revokeApp: (username) => oauth.revokeUser(username),
    inject: (fault) => void faults.push({ ...fault, times: fault.times ?? 1 }),
    advance(ms) {
      if (options.now) throw new Error('this fake X runs on options.now: move that clock instead of calling advance()');
      skew += ms;
      world.catchUp(clock());
    },
    requests,
    users: {
      byUsername(username) {
        const user = world.userByName(username);
        return user && { id: user.id, username: user.username, name: user.name };
      },
    },
    world,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function redacted(fields: URLSearchParams): Record<string, string> {
  return Object.fromEntries([...fields].map(([k, v]) => [k, SECRET_FIELDS.has(k) ? '[redacted]' : v]));
}
