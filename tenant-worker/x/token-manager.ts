/**
 * The tenant's X access token, kept fresh: refreshed when less than 5 minutes remain, with refresh
 * tokens that rotate (each works once, so the new one is saved before anyone uses the access token).
 *
 * The model: the TokenStore (encrypted, in the tenant DB) is the truth and is read on every call, so
 * a reconnection saved by the supervisor is seen at once. Concurrent callers share one refresh. When
 * X answers invalid_grant the connection is over: the store is told (it pauses X jobs and tells the
 * user) and no request reaches X again until a new connection is saved — never a retry loop.
 */
import { OAuth2Client, OAuth2RequestError, type OAuth2Tokens } from 'arctic';
import type { Logger } from 'pino';
import { XApiError, XAuthExpiredError, XNetworkError } from './errors.js';

export interface XTokens {
  accessToken: string;
  refreshToken: string | null;
  /** Epoch ms. */
  expiresAt: number;
  scope: string;
}

export interface TokenStore {
  /** null = not connected. */
  load(): XTokens | null;
  /** Persists atomically (the rotated refresh token must never be lost). */
  save(tokens: XTokens): void;
  /** invalid_grant: X is disconnected; the store pauses X jobs and tells the user. */
  markDisconnected(reason: string): void;
}

export interface XOAuthSettings {
  tokenUrl: string;
  revokeUrl: string;
  clientId: string;
  clientSecret: string | null;
}

export interface TokenManagerOptions {
  store: TokenStore;
  settings: XOAuthSettings;
  now?: () => number;
  /** How long a refresh may take before callers give up on it (default 10 s). */
  timeoutMs?: number;
  log?: Logger;
}

/** Refresh this long before expiry, so a token never dies in the middle of a job. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** X's access-token lifetime, assumed when a response omits expires_in. */
const DEFAULT_EXPIRES_IN_S = 7200;

export class TokenManager {
  readonly #store: TokenStore;
  readonly #client: OAuth2Client;
  readonly #settings: XOAuthSettings;
  readonly #now: () => number;
  readonly #timeoutMs: number;
  readonly #log: Logger | undefined;
  #refreshing: Promise<XTokens> | null = null;
  /** The refresh token X refused (or the dead access token): a store still holding it is still disconnected. */
  #refused: string | null = null;

  constructor(options: TokenManagerOptions) {
    this.#store = options.store;
    this.#settings = options.settings;
    // arctic sends HTTP Basic when there is a secret (confidential client), client_id in the body otherwise.
    this.#client = new OAuth2Client(options.settings.clientId, options.settings.clientSecret, null);
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#log = options.log;
  }

  /** A bearer token valid for at least a few minutes more. */
  async accessToken(): Promise<string> {
    const tokens = this.#current();
    if (tokens.expiresAt - this.#now() > REFRESH_MARGIN_MS) return tokens.accessToken;
    return (await this.#refresh(tokens)).accessToken;
  }

  /**
   * X refused `rejected` with a 401: refresh once, unless someone already did. The caller retries
   * its request once with the answer and gives up after that.
   */
  async afterUnauthorized(rejected: string): Promise<string> {
    const tokens = this.#current();
    if (tokens.accessToken !== rejected) return tokens.accessToken;
    return (await this.#refresh(tokens, true)).accessToken;
  }

  #current(): XTokens {
    const tokens = this.#store.load();
    if (tokens === null) throw new XAuthExpiredError('X is not connected');
    if (this.#refused !== null && (tokens.refreshToken ?? tokens.accessToken) === this.#refused) throw new XAuthExpiredError('X is disconnected: reconnect your X account');
    return tokens;
  }

  #refresh(tokens: XTokens, forced = false): Promise<XTokens> {
    if (this.#refreshing === null) {
      // Saving is chained to the request itself, not to the caller's wait: a refresh that
      // outlives a caller's timeout still stores the rotated token X has just issued.
      this.#refreshing = this.#requestRefresh(tokens).finally(() => {
        this.#refreshing = null;
      });
    }
    const shared = this.#refreshing;
    return withTimeout(shared, this.#timeoutMs).catch((error: unknown) => {
      // A transient failure while the old token still works is not worth failing the call for.
      if (error instanceof XNetworkError && !forced && tokens.expiresAt > this.#now()) {
        this.#log?.warn({ err: error.message }, 'X token refresh failed; the current token is still valid');
        return tokens;
      }
      throw error;
    });
  }

  async #requestRefresh(tokens: XTokens): Promise<XTokens> {
    if (tokens.refreshToken === null) {
      if (tokens.expiresAt > this.#now()) return tokens;
      this.#disconnect(tokens.accessToken, 'The X access token expired and there is no refresh token (offline.access was not granted).');
    }
    let answer: OAuth2Tokens;
    try {
      answer = await this.#client.refreshAccessToken(this.#settings.tokenUrl, tokens.refreshToken, []);
    } catch (error) {
      if (error instanceof OAuth2RequestError && error.code === 'invalid_grant') {
        this.#disconnect(tokens.refreshToken, 'X refused the refresh token (invalid_grant): the app was revoked or the connection expired.');
      }
      if (error instanceof OAuth2RequestError) throw new XApiError(401, error.code, error.description ?? 'token refresh refused', { error: error.code });
      throw new XNetworkError(`X token refresh failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const data = answer.data as { expires_in?: unknown; scope?: unknown };
    const next: XTokens = {
      accessToken: answer.accessToken(),
      // X always rotates; keeping the old one is only right if a server does not.
      refreshToken: answer.hasRefreshToken() ? answer.refreshToken() : tokens.refreshToken,
      expiresAt: this.#now() + (typeof data.expires_in === 'number' ? data.expires_in : DEFAULT_EXPIRES_IN_S) * 1000,
      scope: typeof data.scope === 'string' ? data.scope : tokens.scope,
    };
    this.#store.save(next);
    this.#log?.info({ expiresAt: next.expiresAt }, 'X access token refreshed');
    return next;
  }

  #disconnect(deadToken: string, reason: string): never {
    this.#refused = deadToken;
    this.#store.markDisconnected(reason);
    this.#log?.warn({ reason }, 'X disconnected');
    throw new XAuthExpiredError(reason);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new XNetworkError(`X did not answer the token refresh within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
