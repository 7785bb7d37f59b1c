/**
 * "Log in with GitHub": `GET /auth/github` starts the OAuth web flow, `GET /auth/github/callback`
 * finishes it and lands on /dashboard with a session, or on `/login?error=<code>`: the server's own pages, or
 * those of the trusted app that started it with `?return_to=<origin>` (the desktop build; its origin rides in a
 * third flow cookie and is checked against TRUSTED_ORIGINS again at the end, supervisor/http/return-origin.ts).
 *
 * The flow is authorization code + state + PKCE S256. State and code verifier live in two
 * HttpOnly, SameSite=Lax cookies scoped to /auth/github for 10 minutes, and are cleared by the
 * first callback that sees them, so a callback works once.
 *
 * Which account a GitHub user gets, in order (`oauth_identities`, provider 'github', keyed by
 * GitHub's numeric id):
 *   1. an identity already links them → that account;
 *   2. GitHub's primary *verified* email is the verified email of an account → link, then that account;
 *   3. the email belongs to nobody → a new account (password-less, email verified), if registration allows.
 * No verified primary email: no link and no account. An account with 2FA still asks for its
 * second factor: GitHub stands in for the password, never for the TOTP code.
 *
 * Every failure is a redirect with a plain code (never a stack trace), logged at warn with the reason.
 */
import type Database from 'better-sqlite3';
import { generateCodeVerifier, generateState } from 'arctic';
import { audit } from '../auth/audit.js';
import { GitHubError, identifyGitHubUser, githubAuthorizationUrl, type GitHubIdentity, type GitHubSettings } from '../auth/github.js';
import { RateLimitedError, type RateLimits } from '../auth/rate-limits.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { createSession } from '../auth/sessions.js';
import { hashesEqual, hashToken } from '../auth/tokens.js';
import { issueUserToken } from '../auth/user-tokens.js';
import { countUsers, createUser, findUserByEmail, findUserById, type UserRow } from '../auth/users.js';
import { HttpError } from '../http/errors.js';
import { redirect, type Reply } from '../http/reply.js';
import { NO_RETURN_ORIGINS, type ReturnOrigins } from '../http/return-origin.js';
import type { Router } from '../http/router.js';
import type { Handler, RequestContext } from '../http/server.js';
import type { TenantRegistry } from '../tenants/registry.js';
import type { Registration } from './auth.js';

export interface GitHubRouteDeps {
  db: Database.Database;
  registry: TenantRegistry;
  auth: RequestAuth;
  limits: RateLimits;
  /** null: no OAuth app configured; the routes answer 404 github_not_configured. */
  github: GitHubSettings | null;
  /** Base URL users reach, e.g. https://app.tuitbot.cloud; the callback is `${appUrl}/auth/github/callback`. */
  appUrl: () => string;
  mode: 'sandbox' | 'self-host' | 'cloud';
  registration: Registration;
  /** The desktop app's origins a login may end on (TRUSTED_ORIGINS); default none. */
  returnOrigins?: ReturnOrigins;
}

/** What `/login?error=` may say after a GitHub attempt. */
export type GitHubLoginError =
  | 'github_denied' // the user pressed Cancel on GitHub
  | 'github_state' // no, expired or foreign state: the attempt did not start here (or was already used)
  | 'github_failed' // GitHub refused the code or the token
  | 'github_unavailable' // GitHub could not be reached in time, or answered nonsense
  | 'github_email_unverified' // no primary verified email on GitHub
  | 'account_email_unverified' // the matching account never verified its address: no link through it
  | 'github_other_account' // the matching account is already linked to another GitHub user
  | 'registration_closed'
  | 'rate_limited'
  | 'server_error';

/** Whether to show the "Log in with GitHub" button. */
export function isGitHubLoginEnabled(github: GitHubSettings | null): github is GitHubSettings {
  return github !== null;
}

const STATE_COOKIE = 'tuitbot_github_state';
const VERIFIER_COOKIE = 'tuitbot_github_verifier';
const RETURN_COOKIE = 'tuitbot_github_return';
const COOKIE_PATH = '/auth/github';
const FLOW_TTL_SECONDS = 10 * 60;
const LANDING = '/dashboard';
// The rule of RequestAuth's session cookie: Secure everywhere but plain-http loopback.
const LOOPBACK_HOST = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/i;

type Resolution =
  | { ok: true; user: UserRow; how: 'identity' | 'linked' | 'signup' }
  | { ok: false; code: GitHubLoginError; reason: string };

export function addGitHubRoutes(router: Router<Handler>, deps: GitHubRouteDeps): void {
  const { db, auth, limits } = deps;
  const returnOrigins = deps.returnOrigins ?? NO_RETURN_ORIGINS;
  const callbackUrl = () => `${deps.appUrl().replace(/\/+$/, '')}${COOKIE_PATH}/callback`;

  function settings(): GitHubSettings {
    if (!deps.github) throw new HttpError(404, 'github_not_configured', 'Log in with GitHub is not set up on this server.');
    return deps.github;
  }

  function flowCookie(ctx: RequestContext, name: string, value: string, maxAge: number): void {
    const loopback = LOOPBACK_HOST.test(ctx.headers['host'] ?? '') && !deps.appUrl().startsWith('https://');
    ctx.setCookie(name, value, { httpOnly: true, secure: !loopback, sameSite: 'lax', path: COOKIE_PATH, maxAge });
  }

  /** `back`: the trusted app origin the login started from; null: the server's own pages (relative, as always). */
  function fail(ctx: RequestContext, back: string | null, code: GitHubLoginError, reason: string, detail: Record<string, unknown> = {}): Reply {
    ctx.log.warn({ code, reason, ...detail }, 'GitHub login refused');
    return redirect(`${back ?? ''}/login?error=${code}`);
  }

  /** The oauth_ip limit, as a redirect: these are browser navigations, not API calls. */
  async function overLimit(ctx: RequestContext, back: string | null): Promise<Reply | null> {
    try {
      await limits.consume(['oauth_ip', ctx.ip]);
      return null;
    } catch (error) {
      if (error instanceof RateLimitedError) return fail(ctx, back, 'rate_limited', 'too many GitHub login attempts from this address', { ip: ctx.ip });
      throw error;
    }
  }

  router.add('GET', '/auth/github', async (ctx) => {
    const github = settings();
    const back = returnOrigins.requested(ctx.query);
    const limited = await overLimit(ctx, back);
    if (limited) return limited;
    const state = generateState();
    const codeVerifier = generateCodeVerifier();
    flowCookie(ctx, STATE_COOKIE, state, FLOW_TTL_SECONDS);
    flowCookie(ctx, VERIFIER_COOKIE, codeVerifier, FLOW_TTL_SECONDS);
    // A start without one clears what an earlier desktop attempt left, so this one ends on the server's pages.
    if (back !== null) flowCookie(ctx, RETURN_COOKIE, back, FLOW_TTL_SECONDS);
    else if (ctx.cookies[RETURN_COOKIE] !== undefined) flowCookie(ctx, RETURN_COOKIE, '', 0);
    // No ?next=: the landing path is fixed and its origin one of TRUSTED_ORIGINS, so this is no open redirect.
    return redirect(githubAuthorizationUrl(github, callbackUrl(), state, codeVerifier).href);
  });

  router.add('GET', '/auth/github/callback', async (ctx) => {
    const github = settings();
    // A cookie could be set by another port of this host: only a still-trusted origin is followed.
    const back = returnOrigins.recall(ctx.cookies[RETURN_COOKIE]);
    const limited = await overLimit(ctx, back);
    if (limited) return limited;
    const expectedState = ctx.cookies[STATE_COOKIE];
    const codeVerifier = ctx.cookies[VERIFIER_COOKIE];
    // Single use: whatever happens next, this attempt is over.
    flowCookie(ctx, STATE_COOKIE, '', 0);
    flowCookie(ctx, VERIFIER_COOKIE, '', 0);
    if (ctx.cookies[RETURN_COOKIE] !== undefined) flowCookie(ctx, RETURN_COOKIE, '', 0);

    const error = ctx.query.get('error');
    if (error !== null) {
      return fail(ctx, back, error === 'access_denied' ? 'github_denied' : 'github_failed', `GitHub answered error=${error.slice(0, 64)}`);
    }
    const state = ctx.query.get('state');
    const code = ctx.query.get('code');
    if (!expectedState || !codeVerifier) return fail(ctx, back, 'github_state', 'no state cookie (expired, already used, or the flow did not start here)');
    // Hashing first makes the comparison constant-time whatever the lengths.
    if (state === null || !hashesEqual(hashToken(state), hashToken(expectedState))) return fail(ctx, back, 'github_state', 'state does not match its cookie');
    if (!code) return fail(ctx, back, 'github_failed', 'callback without a code');

    let identity: GitHubIdentity;
    try {
      identity = await identifyGitHubUser(github, { redirectUri: callbackUrl(), code, codeVerifier });
    } catch (err) {
      if (err instanceof GitHubError) return fail(ctx, back, err.code, err.message);
      ctx.log.error({ err }, 'GitHub login failed unexpectedly');
      return redirect(`${back ?? ''}/login?error=server_error`);
    }

    let resolution: Resolution;
    try {
      resolution = db.transaction(() => resolveAccount(deps, ctx, identity)).immediate();
    } catch (err) {
      ctx.log.error({ err, githubId: identity.githubId }, 'GitHub login failed unexpectedly');
      return redirect(`${back ?? ''}/login?error=server_error`);
    }
    if (!resolution.ok) return fail(ctx, back, resolution.code, resolution.reason, { githubId: identity.githubId, githubLogin: identity.login });

    const { user, how } = resolution;
    if (user.totp_enabled_at !== null) {
      // The second step is the ordinary POST /auth/login/2fa; the challenge rides in the fragment,
      // which browsers never send to a server nor put in a Referer.
      const challenge = issueUserToken(db, user.id, 'login_2fa');
      return redirect(`${back ?? ''}/login?two_factor=1#challenge=${challenge}`);
    }
    // A signup is its own audit entry, as with a password signup.
    if (how !== 'signup') audit(db, { userId: user.id, action: 'login', ip: ctx.ip, detail: { method: 'github', githubLogin: identity.login } });
    const { token } = createSession(db, user.id, { ip: ctx.ip, userAgent: ctx.headers['user-agent'] ?? null });
    auth.setSessionCookie(ctx, token);
    return redirect(`${back ?? ''}${LANDING}`);
  });
}

/** Finds, links or creates the account of a GitHub user; runs inside one immediate transaction. */
function resolveAccount(deps: GitHubRouteDeps, ctx: RequestContext, identity: GitHubIdentity): Resolution {
  const { db } = deps;
  const linked = db
    .prepare<[string], { user_id: string }>("SELECT user_id FROM oauth_identities WHERE provider = 'github' AND provider_user_id = ?")
    .get(identity.githubId);
  if (linked) {
    const user = findUserById(db, linked.user_id);
    if (user) return { ok: true, user, how: 'identity' };
    // The account was deleted: its identity is stale and must not log anyone in. Dropped, the
    // GitHub user is treated as new below (a deleted account's address was released).
    db.prepare("DELETE FROM oauth_identities WHERE provider = 'github' AND provider_user_id = ?").run(identity.githubId);
  }

  const email = identity.primaryVerifiedEmail;
  if (email === null) return { ok: false, code: 'github_email_unverified', reason: 'GitHub reports no primary verified email' };

  const now = Date.now();
  const link = (user: UserRow) =>
    db.prepare("INSERT INTO oauth_identities (provider, provider_user_id, user_id, email, created_at) VALUES ('github', ?, ?, ?, ?)").run(identity.githubId, user.id, email, now);

  const existing = findUserByEmail(db, email);
  if (existing) {
    // Linking through an address the account never proved would hand a pre-registered account
    // (someone else's password on your address) to whoever owns the address, or the reverse.
    if (existing.email_verified_at === null) return { ok: false, code: 'account_email_unverified', reason: 'the matching account has not verified its email' };
    const other = db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM oauth_identities WHERE provider = 'github' AND user_id = ?").get(existing.id)!.n;
    if (other > 0) return { ok: false, code: 'github_other_account', reason: 'the matching account is linked to another GitHub user' };
    link(existing);
    audit(db, { userId: existing.id, action: 'oauth_linked', ip: ctx.ip, detail: { provider: 'github', githubId: identity.githubId, githubLogin: identity.login } });
    return { ok: true, user: existing, how: 'linked' };
  }

  const firstUser = countUsers(db) === 0;
  // Self-host: the first account, then only when REGISTRATION=open (an invite cannot ride on this flow).
  if (deps.mode === 'self-host' && !firstUser && deps.registration !== 'open') {
    return { ok: false, code: 'registration_closed', reason: `self-host registration is ${deps.registration}` };
  }
  const user = createUser(db, deps.registry, { email, passwordHash: null, emailVerified: true, role: deps.mode === 'self-host' && firstUser ? 'admin' : 'user' }, now);
  link(user);
  audit(db, { userId: user.id, action: 'signup', ip: ctx.ip, detail: { method: 'github', githubId: identity.githubId, githubLogin: identity.login } });
  return { ok: true, user, how: 'signup' };
}
