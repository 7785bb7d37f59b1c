/**
 * One LLM behind one interface, whatever the provider: `complete()` and `testConnection()`.
 *
 * Every call has a timeout. A 429 (or Anthropic's 529 "overloaded") is retried after the wait the
 * provider asks for (`retry-after-ms` / `retry-after`, else 60 s for a 429 and 30 s for a 529), a
 * 5xx or a dropped connection after a short backoff, all within a bounded budget of attempts and
 * waiting; past it the typed error goes to the caller, whose job can reschedule (the reference
 * runtime never retried: one busy minute at the provider lost the tweet). A timed-out call is not
 * repeated: the provider may have done, and billed, the work. Every HTTP call, failed or not, is
 * reported to `onCall` for the usage ledger.
 */
import type { Logger } from 'pino';
import { LlmApiError, LlmAuthError, LlmError, LlmNetworkError, LlmRateLimitedError } from './errors.js';
import { errorDetail, readAnswer, wireRequest, type CompletionParams, type LlmProvider, type LlmSettings } from './providers.js';

export type LlmCallStatus = 'ok' | 'rate_limited' | 'auth_error' | 'api_error' | 'network_error' | 'timeout';

/** One HTTP call to the provider, as the usage ledger records it. */
export interface LlmCall {
  at: number;
  provider: LlmProvider;
  model: string;
  purpose: string;
  inputTokens: number;
  outputTokens: number;
  status: LlmCallStatus;
  /** What the provider answered; null when it did not. */
  httpStatus: number | null;
  durationMs: number;
}

export interface CompletionRequest extends CompletionParams {
  /** What the text is for ('reply', 'tweet', 'thread', 'test', …): the ledger groups costs by it. */
  purpose: string;
}

export interface CompletionResult {
  text: string;
  usage: { inputTokens: number; outputTokens: number };
  model: string;
  provider: LlmProvider;
  /** The model hit max_tokens. */
  truncated: boolean;
}

export type ConnectionTest =
  | { ok: true; provider: LlmProvider; model: string; reply: string; latencyMs: number }
  | { ok: false; provider: LlmProvider; model: string; code: 'auth' | 'rate_limited' | 'api_error' | 'network' | 'timeout'; message: string };

export interface LlmClientOptions {
  settings: LlmSettings;
  /** Called once per HTTP call (the meter). */
  onCall?: (call: LlmCall) => void;
  /** Per HTTP call (default 30 s). */
  timeoutMs?: number;
  /** Calls per completion, the first included (default 3). */
  maxAttempts?: number;
  /** The most a completion may spend waiting between attempts (default 30 s). */
  retryBudgetMs?: number;
  /** First backoff after a 5xx or a dropped connection; doubles, with jitter (default 1 s). */
  backoffMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  log?: Logger;
}

const DEFAULT_RETRY_AFTER_MS = { 429: 60_000, 529: 30_000 } as const;

export class LlmClient {
  readonly #settings: LlmSettings;
  readonly #onCall: (call: LlmCall) => void;
  readonly #timeoutMs: number;
  readonly #maxAttempts: number;
  readonly #retryBudgetMs: number;
  readonly #backoffMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  readonly #log: Logger | undefined;

  constructor(options: LlmClientOptions) {
    this.#settings = { ...options.settings };
    this.#onCall = options.onCall ?? (() => {});
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.#retryBudgetMs = options.retryBudgetMs ?? 30_000;
    this.#backoffMs = options.backoffMs ?? 1_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = options.random ?? Math.random;
    this.#log = options.log;
  }

  get provider(): LlmProvider {
    return this.#settings.provider;
  }

  get model(): string {
    return this.#settings.model;
  }

  async complete(request: CompletionRequest): Promise<CompletionResult> {
    let waited = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#call(request);
      } catch (error) {
        const wait = this.#retryDelay(error, attempt);
        if (wait === null || attempt >= this.#maxAttempts || waited + wait > this.#retryBudgetMs) throw error;
        this.#log?.debug({ provider: this.provider, attempt, waitMs: wait, err: (error as Error).message }, 'LLM call will be retried');
        waited += wait;
        await this.#sleep(wait);
      }
    }
  }

  /** A completion of "Say OK" with max_tokens 10: is the key, model and base URL usable? */
  async testConnection(): Promise<ConnectionTest> {
    const started = this.#now();
    const { provider, model } = this.#settings;
    try {
      const result = await this.complete({ user: 'Say OK', maxTokens: 10, temperature: 0, purpose: 'test' });
      return { ok: true, provider, model: result.model, reply: result.text.trim(), latencyMs: this.#now() - started };
    } catch (error) {
      if (!(error instanceof LlmError)) throw error;
      const code =
        error instanceof LlmAuthError ? 'auth' : error instanceof LlmRateLimitedError ? 'rate_limited' : error instanceof LlmNetworkError ? (error.timedOut ? 'timeout' : 'network') : 'api_error';
      return { ok: false, provider, model, code, message: error.message };
    }
  }

  async #call(request: CompletionRequest): Promise<CompletionResult> {
    const { provider, model } = this.#settings;
    const wire = wireRequest(this.#settings, request);
    const started = this.#now();
    const meter = (status: LlmCallStatus, httpStatus: number | null, inputTokens = 0, outputTokens = 0) =>
      this.#onCall({ at: started, provider, model, purpose: request.purpose, inputTokens, outputTokens, status, httpStatus, durationMs: Math.max(0, this.#now() - started) });

    let response: Response;
    let text: string;
    try {
      response = await fetch(wire.url, { method: 'POST', headers: wire.headers, body: JSON.stringify(wire.body), signal: AbortSignal.timeout(this.#timeoutMs) });
      text = await response.text();
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      meter(timedOut ? 'timeout' : 'network_error', null);
      const reason = timedOut ? `no answer within ${this.#timeoutMs} ms` : error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
      throw new LlmNetworkError(`The LLM (${provider}) could not be reached: ${reason}`, timedOut, { cause: error });
    }
    const body = parseJson(text);
    if (response.status === 429 || response.status === 529) {
      meter('rate_limited', response.status);
      const retryAfterMs = retryAfter(response.headers, this.#now()) ?? DEFAULT_RETRY_AFTER_MS[response.status];
      throw new LlmRateLimitedError(response.status, retryAfterMs, `The LLM (${provider}) is ${response.status === 529 ? 'overloaded' : 'rate limiting us'}: ${errorDetail(body, response.status)}`);
    }
    if (response.status === 401 || response.status === 403) {
      meter('auth_error', response.status);
      throw new LlmAuthError(response.status, `The LLM (${provider}) refused the API key: ${errorDetail(body, response.status)}`);
    }
    if (response.status >= 400) {
      meter('api_error', response.status);
      throw new LlmApiError(response.status, errorDetail(body, response.status), body);
    }
    const answer = readAnswer(provider, body, model);
    if (!answer) {
      meter('api_error', response.status);
      throw new LlmApiError(response.status, 'the answer is not a completion in the expected format', body);
    }
    meter('ok', response.status, answer.inputTokens, answer.outputTokens);
    return { text: answer.text, usage: { inputTokens: answer.inputTokens, outputTokens: answer.outputTokens }, model: answer.model, provider, truncated: answer.truncated };
  }

  /** How long to wait before trying again, or null when trying again will not help. */
  #retryDelay(error: unknown, attempt: number): number | null {
    if (error instanceof LlmRateLimitedError) return error.retryAfterMs;
    const transient = (error instanceof LlmApiError && error.status >= 500) || (error instanceof LlmNetworkError && !error.timedOut);
    if (!transient) return null;
    // "Equal jitter": half fixed, half random, so tenants retrying together spread out.
    const ceiling = this.#backoffMs * 2 ** (attempt - 1);
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2);
  }
}

/** `retry-after-ms` (OpenAI) or `retry-after` in seconds or as an HTTP date, in ms from now. */
export function retryAfter(headers: Headers, now: number): number | null {
  const ms = Number(headers.get('retry-after-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const value = headers.get('retry-after');
  if (value === null || value.trim() === '') return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
