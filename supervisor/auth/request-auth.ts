/**
 * Who is calling: the session behind a request, from the session cookie (browsers) or an
 * `Authorization: Bearer` token (API clients), and the same-origin rule that keeps other sites
 * from riding on the cookie (CSRF).
 */
import type Database from 'better-sqlite3';
import { HttpError } from '../http/errors.js';
import type { RequestContext } from '../http/server.js';
import { SESSION_TTL_MS, validateSessionToken, type Session } from './sessions.js';
import { findUserById, type UserRow } from './users.js';

export const SESSION_COOKIE = 'tuitbot_session';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

export interface Caller {
  session: Session;
  user: UserRow;
  /** How the token arrived; only cookie callers need the origin check. */
  via: 'cookie' | 'bearer';
  token: string;
}

export class RequestAuth {
  readonly #trustedOrigins: ReadonlySet<string>;

  /** `trustedOrigins`: other sites' exact origins allowed to use the cookie (TRUSTED_ORIGINS, the desktop app's). */
  constructor(
    private readonly db: Database.Database,
    private readonly publicOrigin: string | null,
    trustedOrigins: readonly string[] = [],
  ) {
    this.#trustedOrigins = new Set(trustedOrigins);
  }

  /** The caller, or null when the request carries no valid session. */
  caller(ctx: Pick<RequestContext, 'headers' | 'cookies'>): Caller | null {
    const bearer = /^Bearer ([A-Za-z0-9.]+)$/.exec(ctx.headers['authorization'] ?? '')?.[1];
    const token = bearer ?? ctx.cookies[SESSION_COOKIE];
    if (!token) return null;
    const session = validateSessionToken(this.db, token);
    if (!session) return null;
    const user = findUserById(this.db, session.userId);
    if (!user) return null;
    return { session, user, via: bearer ? 'bearer' : 'cookie', token };
  }

  /** The caller, or 401; state-changing cookie requests must also come from our own origin. */
  require(ctx: RequestContext): Caller {
    this.checkOrigin(ctx);
    const caller = this.caller(ctx);
    if (!caller) throw new HttpError(401, 'unauthenticated', 'Log in to continue.');
    return caller;
  }

  /**
   * CSRF: a browser request that changes state must say it comes from this site. Browsers send
   * Sec-Fetch-Site or Origin on such requests; a client that sends neither is not a browser and
   * may only use a bearer token, never the cookie. A trusted origin's requests are same-site or
   * cross-site by Sec-Fetch-Site, so for them the Origin decides.
   */
  checkOrigin(ctx: RequestContext): void {
    if (SAFE_METHODS.has(ctx.method)) return;
    const site = ctx.headers['sec-fetch-site'];
    const origin = ctx.headers['origin'];
    let ok: boolean;
    if (origin !== undefined && this.#trustedOrigins.has(origin)) ok = true;
    else if (site !== undefined) ok = site === 'same-origin' || site === 'none';
    else if (origin !== undefined) ok = this.#sameOrigin(origin, ctx.headers['host']);
    else ok = ctx.headers['cookie'] === undefined;
    if (!ok) throw new HttpError(403, 'cross_origin', 'This request must come from the TuitBot site itself.');
  }

  /** Whether a session still exists and has not expired (logout, revocation and password changes end it). */
  sessionAlive(sessionId: string, now = Date.now()): boolean {
    return this.db.prepare<[string, number], { id: string }>('SELECT id FROM sessions WHERE id = ? AND expires_at > ?').get(sessionId, now) !== undefined;
  }

  userById(id: string): UserRow | undefined {
    return findUserById(this.db, id);
  }

  /** Whether a browser's Origin is this site or a trusted one (a WebSocket handshake must pass it: CSWSH). */
  acceptsOrigin(origin: string, host: string | undefined): boolean {
    return this.#trustedOrigins.has(origin) || this.#sameOrigin(origin, host);
  }

  #sameOrigin(origin: string, host: string | undefined): boolean {
    if (this.publicOrigin !== null && origin === this.publicOrigin) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  setSessionCookie(ctx: RequestContext, token: string): void {
    ctx.setCookie(SESSION_COOKIE, token, { ...this.#cookieBase(ctx), maxAge: Math.floor(SESSION_TTL_MS / 1000) });
  }

  clearSessionCookie(ctx: RequestContext): void {
    ctx.setCookie(SESSION_COOKIE, '', { ...this.#cookieBase(ctx), maxAge: 0 });
  }

  /** Secure everywhere but loopback, where browsers keep plain-http cookies for development. */
  #cookieBase(ctx: RequestContext) {
    const loopback = LOOPBACK_HOST.test(ctx.headers['host'] ?? '') && !this.publicOrigin?.startsWith('https://');
    return { httpOnly: true, secure: !loopback, sameSite: 'lax' as const, path: '/' };
  }
}
