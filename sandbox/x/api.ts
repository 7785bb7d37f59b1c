/**
 * The v2 endpoints of the fake X: authentication, rate limits, injected faults and scopes first,
 * then one handler per endpoint over the simulated world. Handlers return their answer instead of
 * writing it, so the server can log it for contract tests.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { FakeXMedia } from './media.js';
import type { FakeXOAuth } from './oauth.js';
import { FORBIDDEN, SERVER_ERRORS, TOO_MANY, UNAUTHORIZED, invalidRequest, problem } from './problems.js';
import type { RateLimits } from './rate-limits.js';
import { Posts, type Params } from './posts.js';
import type { World } from './world.js';

export interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** What the request carried, for the log (media bytes replaced). */
  requestBody: unknown;
}

export interface ApiRequest {
  method: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: Buffer;
  fault: { status: 429 | 500 | 503; resetInSeconds?: number } | undefined;
}

export interface Caller {
  userId: string;
  scopes: readonly string[];
}

/** What an endpoint answers; the pipeline adds the rate-limit headers and the logged request. */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Handler = (caller: Caller, params: Params, request: ApiRequest, parsed: unknown) => Answer;

interface Route {
  method: string;
  pattern: RegExp;
  endpoint: string;
  scopes: string[];
  handler: Handler;
}

export interface FakeXApiOptions {
  world: World;
  oauth: FakeXOAuth;
  now: () => number;
  limits: RateLimits;
}

const READ = ['tweet.read', 'users.read'];

export class FakeXApi {
  readonly #options: FakeXApiOptions;
  readonly #routes: Route[];

  constructor(options: FakeXApiOptions) {
    this.#options = options;
    const posts = new Posts(options.world, options.now);
    const media = new FakeXMedia(options.now);
    posts.media = media;
    const route = (method: string, pattern: RegExp, endpoint: string, scopes: string[], handler: Handler): Route => ({ method, pattern, endpoint, scopes, handler });
    this.#routes = [
      route('GET', /^\/2\/users\/me$/, 'GET /2/users/me', READ, (c, p) => posts.me(c, p)),
      route('GET', /^\/2\/users\/by\/username\/([^/]+)$/, 'GET /2/users/by/username/:username', READ, (c, p) => posts.userByUsername(p)),
      route('GET', /^\/2\/users\/([^/]+)\/tweets$/, 'GET /2/users/:id/tweets', READ, (c, p) => posts.userTweets(p)),
      route('GET', /^\/2\/users\/([^/]+)\/mentions$/, 'GET /2/users/:id/mentions', READ, (c, p) => posts.mentions(p)),
      route('GET', /^\/2\/tweets\/search\/recent$/, 'GET /2/tweets/search/recent', READ, (c, p) => posts.search(p)),
      route('GET', /^\/2\/tweets\/([^/]+)$/, 'GET /2/tweets/:id', READ, (c, p) => posts.lookup(p)),
      route('POST', /^\/2\/tweets$/, 'POST /2/tweets', ['tweet.read', 'tweet.write', 'users.read'], (c, p, r, body) => posts.create(c, body)),
      route('POST', /^\/2\/media\/upload$/, 'media upload', ['media.write'], (c, p, r) => media.oneShot(c, r)),
      route('GET', /^\/2\/media\/upload$/, 'media upload', ['media.write'], (c, p) => media.status(c, p)),
      route('POST', /^\/2\/media\/upload\/initialize$/, 'media upload', ['media.write'], (c, p, r, body) => media.initialize(c, body)),
      route('POST', /^\/2\/media\/upload\/([^/]+)\/append$/, 'media upload', ['media.write'], (c, p, r) => media.append(c, p, r)),
      route('POST', /^\/2\/media\/upload\/([^/]+)\/finalize$/, 'media upload', ['media.write'], (c, p) => media.finalize(c, p)),
      route('POST', /^\/1\.1\/media\/upload\.json$/, 'media upload', ['media.write'], (c, p, r) => media.legacy(c, r)),
      route('GET', /^\/1\.1\/media\/upload\.json$/, 'media upload', ['media.write'], (c, p, r) => media.legacy(c, r)),
    ];
  }

  handle(request: ApiRequest): Reply {
    const { url, method } = request;
    const parsed = parseJson(request);
    const requestBody = FakeXMedia.loggable(request, parsed);
    const reply = (status: number, body: unknown, headers?: Record<string, string>): Reply => ({ status, body, requestBody, ...(headers && { headers }) });

    const token = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    const caller = token === undefined ? 'invalid' : this.#options.oauth.authenticate(token);
    if (caller === 'invalid') return reply(401, UNAUTHORIZED);

    let match: RegExpExecArray | null = null;
    const route = this.#routes.find((r) => r.method === method && (match = r.pattern.exec(url.pathname)) !== null);
    if (!route || !match) return reply(404, problem(404, 'Not Found', 'Sorry, that page does not exist.'));

    const now = this.#options.now();
    const quota = this.#options.limits.consume(caller.userId, route.endpoint, now);
    const headers: Record<string, string> = {
      'x-rate-limit-limit': String(quota.limit),
      'x-rate-limit-remaining': String(quota.remaining),
      'x-rate-limit-reset': String(quota.reset),
    };
    const fault = request.fault;
    if (fault?.status === 429) {
      headers['x-rate-limit-remaining'] = '0';
      if (fault.resetInSeconds !== undefined) headers['x-rate-limit-reset'] = String(Math.ceil(now / 1000) + fault.resetInSeconds);
      return reply(429, TOO_MANY, headers);
    }
    if (fault) return reply(fault.status, SERVER_ERRORS[fault.status], headers);
    if (!quota.allowed) return reply(429, TOO_MANY, headers);
    if (!route.scopes.every((s) => caller.scopes.includes(s))) return reply(403, FORBIDDEN, headers);
    if (parsed === INVALID_JSON) return reply(400, invalidRequest('body', '', 'The request body is not valid JSON.'), headers);

    const params: Params = { query: url.searchParams, path: (match as RegExpExecArray).slice(1).map(decodeURIComponent) };
    const answer = route.handler(caller, params, request, parsed);
    return { ...answer, requestBody, headers: { ...headers, ...answer.headers } };
  }
}

const INVALID_JSON = Symbol('invalid JSON');

function parseJson(request: ApiRequest): unknown {
  if (!/application\/json/i.test(request.headers['content-type'] ?? '') || request.body.length === 0) return undefined;
  try {
    return JSON.parse(request.body.toString('utf8'));
  } catch {
    return INVALID_JSON;
  }
}

