/**
 * The "Connect X" handshake (OAuth 2.0 authorization code + PKCE S256), the supervisor's half.
 *
 * `begin` creates a state bound to the caller's session and a PKCE verifier, stored for 10 minutes
 * (state as SHA-256, verifier sealed); `finish` consumes the state once, exchanges the code at X's
 * token endpoint (HTTP Basic when the app has a secret, a public client otherwise — arctic decides),
 * reads `/2/users/me`, and returns the identity with the tokens sealed for the user's tenant. The
 * tenant stores them; the supervisor never keeps an X token.
 */
import type Database from 'better-sqlite3';
import { ArcticFetchError, CodeChallengeMethod, generateCodeVerifier, generateState, OAuth2Client, OAuth2RequestError, UnexpectedResponseError } from 'arctic';
import type { SecretBox } from '../../protocol/index.js';
import { hashToken } from '../auth/tokens.js';
import type { XAppSettings } from '../config.js';

// media.write: attaching images and video to posts needs it (X's v2 media upload).
export const X_SCOPES = ['tweet.read', 'tweet.write', 'users.read', 'offline.access', 'media.write'];
export const STATE_TTL_MS = 10 * 60 * 1000;
const HTTP_TIMEOUT_MS = 10_000;

/** What `/dashboard/x?error=` may say. */
export type XConnectError =
  | 'denied' // the user pressed Deny on X
  | 'bad_state' // unknown, used, expired or another session's state: the attempt did not start here
  | 'exchange_failed' // X refused the code
  | 'x_unavailable' // X could not be reached in time, or answered nonsense
  | 'not_configured' // no X app on this server
  | 'rate_limited'
  | 'server_error';

export class XConnectFailure extends Error {
  override name = 'XConnectFailure';
  constructor(
    readonly code: XConnectError,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export interface SealedXConnection {
  identity: { id: string; username: string; name: string };
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number;
  scope: string;
}

export interface XOAuthFlow {
  /** `returnOrigin`: the trusted app origin the attempt ends on (desktop build), kept with its state until it ends. */
  begin(input: { userId: string; tenantId: string; sessionId: string; returnOrigin?: string | null }): URL;
  /** The return origin `begin` kept for this state, if any (read before `finish`/`abandon` consume it). */
  returnOrigin(state: string): string | null;
  finish(input: { userId: string; tenantId: string; sessionId: string; state: string; code: string }): Promise<SealedXConnection>;
  /** Consumes the state of an attempt X answered with an error (so it cannot be replayed); false if it was not ours. */
  abandon(input: { sessionId: string; state: string }): boolean;
}

interface StateRow {
  client_id: string;
  user_id: string;
  session_id: string;
  code_verifier: string;
  expires_at: number;
  used_at: number | null;
}

export function createXOAuthFlow(deps: {
  db: Database.Database;
  secrets: SecretBox;
  /** The app this user connects through (the server's or their own); null: none. */
  appFor: (userId: string, tenantId: string) => XAppSettings | null;
  redirectUri: () => string;
  now?: () => number;
}): XOAuthFlow {
  const { db, secrets } = deps;
  const now = deps.now ?? Date.now;
  const client = (app: XAppSettings) => new OAuth2Client(app.clientId, app.clientSecret, deps.redirectUri());
  const appOf = (userId: string, tenantId: string) => {
    const app = deps.appFor(userId, tenantId);
    if (!app) throw new XConnectFailure('not_configured', 'no X app for this user');
    return app;
  };

  /** Marks the state used and returns it, once; any later call finds it used. */
  const consume = (state: string, sessionId: string): StateRow => {
    const hash = hashToken(state);
    return db.transaction(() => {
      const row = db.prepare<[Uint8Array], StateRow>('SELECT client_id, user_id, session_id, code_verifier, expires_at, used_at FROM x_oauth_states WHERE state_hash = ?').get(hash);
      if (!row) throw new XConnectFailure('bad_state', 'unknown state');
      if (row.used_at !== null) throw new XConnectFailure('bad_state', 'state already used');
      db.prepare('UPDATE x_oauth_states SET used_at = ? WHERE state_hash = ?').run(now(), hash);
      if (row.session_id !== sessionId) throw new XConnectFailure('bad_state', 'state of another session');
      if (row.expires_at <= now()) throw new XConnectFailure('bad_state', 'state expired');
      return row;
    }).immediate();
  };

  return {
    begin({ userId, tenantId, sessionId, returnOrigin }) {
      const app = appOf(userId, tenantId);
      const state = generateState();
      const verifier = generateCodeVerifier();
      const at = now();
      db.transaction(() => {
        // Old attempts of this user are done with; keep the table small.
        db.prepare('DELETE FROM x_oauth_states WHERE user_id = ? AND (expires_at <= ? OR used_at IS NOT NULL)').run(userId, at);
        db.prepare('INSERT INTO x_oauth_states (state_hash, client_id, user_id, session_id, code_verifier, created_at, expires_at, return_origin) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
          hashToken(state),
          app.clientId,
          userId,
          sessionId,
          secrets.seal(tenantId, 'x_pkce_verifier', verifier),
          at,
          at + STATE_TTL_MS,
          returnOrigin ?? null,
        );
      })();
      return client(app).createAuthorizationURLWithPKCE(app.authorizeUrl, state, CodeChallengeMethod.S256, verifier, X_SCOPES);
    },

    returnOrigin(state) {
      // Also for a used or expired state: that attempt's error still belongs on the app that started it.
      return db.prepare<[Uint8Array], { return_origin: string | null }>('SELECT return_origin FROM x_oauth_states WHERE state_hash = ?').get(hashToken(state))?.return_origin ?? null;
    },

    abandon({ sessionId, state }) {
      try {
        consume(state, sessionId);
        return true;
      } catch {
        return false;
      }
    },

    async finish({ userId, tenantId, sessionId, state, code }) {
      const row = consume(state, sessionId);
      const app = appOf(userId, tenantId);
      if (app.clientId !== row.client_id) throw new XConnectFailure('bad_state', 'the X app changed during the attempt');
      const verifier = secrets.open(tenantId, 'x_pkce_verifier', row.code_verifier);
      let tokens;
      try {
        tokens = await withTimeout(client(app).validateAuthorizationCode(app.tokenUrl, code, verifier));
      } catch (error) {
        if (error instanceof OAuth2RequestError) throw new XConnectFailure('exchange_failed', `token endpoint refused: ${error.code}`);
        if (error instanceof ArcticFetchError || error instanceof UnexpectedResponseError || error instanceof TimeoutError) {
          throw new XConnectFailure('x_unavailable', `token endpoint: ${(error as Error).message}`);
        }
        throw new XConnectFailure('x_unavailable', `token response: ${(error as Error).message}`);
      }
      const accessToken = tokens.accessToken();
      const identity = await readIdentity(app.apiUrl, accessToken);
      const refreshToken = tokens.hasRefreshToken() ? tokens.refreshToken() : null;
      return {
        identity,
        accessToken: secrets.seal(tenantId, 'x_access_token', accessToken),
        refreshToken: refreshToken === null ? null : secrets.seal(tenantId, 'x_refresh_token', refreshToken),
        // X's tokens last two hours; a response without expires_in is read as that.
        expiresAt: tokens.data && 'expires_in' in tokens.data ? tokens.accessTokenExpiresAt().getTime() : now() + 7_200_000,
        scope: tokens.data && 'scope' in tokens.data && typeof tokens.data.scope === 'string' ? tokens.data.scope : X_SCOPES.join(' '),
      };
    },
  };
}

class TimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer within ${HTTP_TIMEOUT_MS} ms`)), HTTP_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function readIdentity(apiUrl: string, accessToken: string): Promise<SealedXConnection['identity']> {
  let body: unknown;
  try {
    const response = await fetch(`${apiUrl}/users/me`, { headers: { authorization: `Bearer ${accessToken}` }, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
    if (!response.ok) throw new Error(`users/me answered ${response.status}`);
    body = await response.json();
  } catch (error) {
    throw new XConnectFailure('x_unavailable', `users/me: ${(error as Error).message}`);
  }
  const data = (body as { data?: { id?: unknown; username?: unknown; name?: unknown } }).data;
  if (typeof data?.id !== 'string' || typeof data.username !== 'string' || typeof data.name !== 'string') {
    throw new XConnectFailure('x_unavailable', 'users/me answered without an id, username and name');
  }
  return { id: data.id, username: data.username, name: data.name };
}
