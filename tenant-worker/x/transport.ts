/**
 * One request to X, done carefully: a bearer token from the TokenManager, a timeout on every call,
 * X's rate-limit headers remembered per endpoint (a spent window is refused here, without calling X,
 * until its reset), one refresh-and-retry on a 401, and bounded retries with jitter on 429, 5xx and
 * network failures — for idempotent requests only. A POST that failed may still have happened at X,
 * so it is never repeated here; the runtime reconciles it.
 */
import type { Logger } from 'pino';
import { XApiError, XAuthExpiredError, XForbiddenError, XNetworkError, XRateLimitedError } from './errors.js';

export interface AccessTokens {
  accessToken(): Promise<string>;
  afterUnauthorized(rejected: string): Promise<string>;
}

export interface XRequest {
  method: 'GET' | 'POST';
  /** Method and path template ('GET /2/users/:id/mentions'): the rate-limit and ledger key. */
  endpoint: string;
  url: string;
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  form?: FormData;
  /** Safe to repeat: GETs, and the media requests that are idempotent by design. */
  idempotent: boolean;
  timeoutMs?: number;
}

export interface XResponse {
  status: number;
  body: unknown;
}

export interface TransportOptions {
  tokens: AccessTokens;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Per request (default 15 s). */
  timeoutMs?: number;
  /** Extra attempts for idempotent requests (default 2). */
  retries?: number;
  /** First backoff; doubles per attempt, with jitter (default 500 ms). */
  backoffMs?: number;
  /** A 429 whose window resets sooner than this is waited out; a later one is thrown (default 5 s). */
  maxRateWaitMs?: number;
  log?: Logger;
  userAgent?: string;
  /** Every call X answered with an error (status) or that never got an answer (0), for the meter. */
  onFailure?: (endpoint: string, status: number) => void;
}

interface Window {
  remaining: number;
  /** Epoch ms. */
  resetAt: number;
}

/** When X sends a 429 without a reset header: its windows are 15 minutes, but try again sooner. */
const UNKNOWN_RESET_MS = 60_000;

export class XTransport {
  readonly #tokens: AccessTokens;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #maxRateWaitMs: number;
  readonly #log: Logger | undefined;
  readonly #userAgent: string;
  readonly #windows = new Map<string, Window>();
  readonly #onFailure: (endpoint: string, status: number) => void;

  constructor(options: TransportOptions) {
    this.#tokens = options.tokens;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#timeoutMs = options.timeoutMs ?? 15_000;
    this.#retries = options.retries ?? 2;
    this.#backoffMs = options.backoffMs ?? 500;
    this.#maxRateWaitMs = options.maxRateWaitMs ?? 5_000;
    this.#log = options.log;
    this.#userAgent = options.userAgent ?? 'TuitBot';
    this.#onFailure = options.onFailure ?? (() => {});
  }

  /** What X last said about an endpoint's window, for the runtime's scheduling. */
  window(endpoint: string): Readonly<Window> | undefined {
    return this.#windows.get(endpoint);
  }

  async send(request: XRequest): Promise<XResponse> {
    const url = new URL(request.url);
    for (const [k, v] of Object.entries(request.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    let attempt = 0;
    let reauthorized = false;
    let token = await this.#tokens.accessToken();
    for (;;) {
      this.#refuseIfSpent(request.endpoint);
      const started = this.#now();
      let response: Response;
      try {
        response = await fetch(url, {
          method: request.method,
          headers: {
            authorization: `Bearer ${token}`,
            'user-agent': this.#userAgent,
            ...(request.json !== undefined && { 'content-type': 'application/json' }),
          },
          body: request.json !== undefined ? JSON.stringify(request.json) : request.form,
          signal: AbortSignal.timeout(request.timeoutMs ?? this.#timeoutMs),
        });
      } catch (error) {
        const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : error instanceof Error ? error.message : String(error);
        this.#log?.debug({ endpoint: request.endpoint, attempt, reason }, 'X call failed');
        this.#onFailure(request.endpoint, 0);
        if (request.idempotent && attempt < this.#retries) {
          await this.#sleep(this.#backoff(attempt++));
          continue;
        }
        throw new XNetworkError(`${request.endpoint}: ${reason}`, { cause: error });
      }
      this.#remember(request.endpoint, response.headers);
      const text = await response.text();
      this.#log?.debug({ endpoint: request.endpoint, status: response.status, ms: this.#now() - started }, 'X call');
      const body: unknown = text === '' ? undefined : parseJson(text);
      if (response.status >= 400) this.#onFailure(request.endpoint, response.status);

      if (response.status === 401) {
        if (reauthorized) throw new XAuthExpiredError(`X refused the access token for ${request.endpoint} even after a refresh`);
        reauthorized = true;
        token = await this.#tokens.afterUnauthorized(token);
        continue;
      }
      if (response.status === 429) {
        const until = this.#windows.get(request.endpoint)?.resetAt ?? this.#now() + UNKNOWN_RESET_MS;
        this.#windows.set(request.endpoint, { remaining: 0, resetAt: until });
        const wait = until - this.#now();
        if (request.idempotent && attempt < this.#retries && wait <= this.#maxRateWaitMs) {
          this.#windows.delete(request.endpoint);
          await this.#sleep(Math.max(0, wait) + this.#backoff(attempt++));
          continue;
        }
        throw new XRateLimitedError(request.endpoint, until);
      }
      if (response.status >= 500) {
        if (request.idempotent && attempt < this.#retries) {
          await this.#sleep(this.#backoff(attempt++));
          continue;
        }
        throw apiError(response.status, body);
      }
      if (response.status >= 400) throw apiError(response.status, body);
      return { status: response.status, body };
    }
  }

  #refuseIfSpent(endpoint: string): void {
    const window = this.#windows.get(endpoint);
    if (!window || window.remaining > 0) return;
    if (window.resetAt > this.#now()) throw new XRateLimitedError(endpoint, window.resetAt);
    this.#windows.delete(endpoint);
  }

  #remember(endpoint: string, headers: Headers): void {
    const remaining = Number(headers.get('x-rate-limit-remaining') ?? NaN);
    const reset = Number(headers.get('x-rate-limit-reset') ?? NaN);
    if (Number.isFinite(remaining) && Number.isFinite(reset)) this.#windows.set(endpoint, { remaining, resetAt: reset * 1000 });
  }

  /** Exponential, with "equal jitter": half fixed, half random, so retrying tenants spread out. */
  #backoff(attempt: number): number {
    const ceiling = this.#backoffMs * 2 ** attempt;
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function apiError(status: number, body: unknown): XApiError {
  const problem = (typeof body === 'object' && body !== null ? body : {}) as { title?: unknown; detail?: unknown; errors?: { message?: unknown }[] };
  const title = typeof problem.title === 'string' ? problem.title : `HTTP ${status}`;
  const detail = [problem.detail, ...(problem.errors ?? []).map((e) => e.message)].filter((d): d is string => typeof d === 'string').join(' ') || title;
  return status === 403 ? new XForbiddenError(status, title, detail, body) : new XApiError(status, title, detail, body);
}
