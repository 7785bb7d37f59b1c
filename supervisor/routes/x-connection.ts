/**
 * "Connect X": `GET /api/x/connect` sends the browser to X's consent page, `GET /api/x/callback`
 * finishes the handshake and hands the sealed tokens to the tenant, `DELETE /api/x/disconnect`
 * revokes and deletes them, `GET /api/x/status` says which account is connected.
 *
 * The callback always ends on the dashboard: `/dashboard/x?connected=<username>` or
 * `/dashboard/x?error=<code>` (see XConnectError), never a stack trace: the server's own, or the trusted app's
 * that started it with `?return_to=<origin>` (supervisor/http/return-origin.ts). Both browser routes are
 * rate-limited per account and per IP.
 */
import type Database from 'better-sqlite3';
import { audit } from '../auth/audit.js';
import { RateLimitedError, type RateLimits } from '../auth/rate-limits.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { json, redirect, type Reply } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler, RequestContext } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';
import * as v from 'valibot';
import { HttpError } from '../http/errors.js';
import type { ApiDocument } from '../api/openapi.js';
import { NO_RETURN_ORIGINS, ReturnToQuery, type ReturnOrigins } from '../http/return-origin.js';
import type { XApps } from '../x/apps.js';
import { XConnectFailure, type XConnectError, type XOAuthFlow } from '../x/oauth-flow.js';

export interface XConnectionRouteDeps {
  db: Database.Database;
  auth: RequestAuth;
  limits: RateLimits;
  host: TenantHost;
  flow: XOAuthFlow;
  apps: XApps;
  /** Called after a user's own X app was set or removed (billing re-computes the allowance). */
  onAppChanged?: (userId: string) => void;
  appUrl: () => string;
  /** The desktop app's origins a connection may end on (TRUSTED_ORIGINS); default none. */
  returnOrigins?: ReturnOrigins;
  requestTimeoutMs: number;
}

const LANDING = '/dashboard/x';

export function addXConnectionRoutes(router: Router<Handler>, deps: XConnectionRouteDeps): void {
  const { db, auth, limits, host } = deps;
  const returnOrigins = deps.returnOrigins ?? NO_RETURN_ORIGINS;
  /** `back`: the trusted app origin the attempt started from; null: the server's own dashboard. */
  const land = (back: string | null, query: Record<string, string>): Reply => redirect(`${back ?? deps.appUrl()}${LANDING}?${new URLSearchParams(query)}`);
  const fail = (ctx: RequestContext, back: string | null, code: XConnectError, reason: string): Reply => {
    ctx.log.warn({ code, reason }, 'X connection failed');
    return land(back, { error: code });
  };

  router.add('GET', '/api/x/connect', async (ctx) => {
    const caller = auth.require(ctx);
    const back = returnOrigins.requested(ctx.query);
    try {
      await limits.consume(['x_connect_account', caller.user.id], ['oauth_ip', ctx.ip]);
    } catch (error) {
      if (error instanceof RateLimitedError) return fail(ctx, back, 'rate_limited', 'too many attempts');
      throw error;
    }
    let url: URL;
    try {
      url = deps.flow.begin({ userId: caller.user.id, tenantId: caller.user.tenant_id, sessionId: caller.session.id, returnOrigin: back });
    } catch (error) {
      if (error instanceof XConnectFailure) return fail(ctx, back, error.code, error.reason);
      throw error;
    }
    return { status: 302, headers: { Location: url.toString(), 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } };
  });

  router.add('GET', '/api/x/callback', async (ctx) => {
    const state = ctx.query.get('state') ?? '';
    // Read before anything consumes the state, checked against the list again (it may have changed since).
    const back = returnOrigins.recall(deps.flow.returnOrigin(state));
    const caller = auth.caller(ctx);
    if (!caller) return fail(ctx, back, 'bad_state', 'no session at the callback');
    try {
      await limits.consume(['x_connect_account', caller.user.id], ['oauth_ip', ctx.ip]);
    } catch (error) {
      if (error instanceof RateLimitedError) return fail(ctx, back, 'rate_limited', 'too many attempts');
      throw error;
    }
    const code = ctx.query.get('code');
    const xError = ctx.query.get('error');
    if (xError !== null || !code) {
      const ours = deps.flow.abandon({ sessionId: caller.session.id, state });
      if (!ours) return fail(ctx, back, 'bad_state', `X answered ${xError ?? 'without a code'} for a state that is not ours`);
      return fail(ctx, back, xError === 'access_denied' ? 'denied' : 'exchange_failed', `X answered ${xError ?? 'without a code'}`);
    }
    try {
      const connection = await deps.flow.finish({ userId: caller.user.id, tenantId: caller.user.tenant_id, sessionId: caller.session.id, state, code });
      await callTenant(host, caller.user.tenant_id, 'x.connect', connection, deps.requestTimeoutMs);
      audit(db, { userId: caller.user.id, action: 'x_connected', ip: ctx.ip, detail: { xUserId: connection.identity.id, username: connection.identity.username } });
      return land(back, { connected: connection.identity.username });
    } catch (error) {
      if (error instanceof XConnectFailure) return fail(ctx, back, error.code, error.reason);
      ctx.log.error({ err: error }, 'X connection failed unexpectedly');
      return land(back, { error: 'server_error' });
    }
  });

  router.add('GET', '/api/x/status', async (ctx) => {
    const caller = auth.require(ctx);
    const status = await callTenant(host, caller.user.tenant_id, 'x.status', {}, deps.requestTimeoutMs);
    return json(200, { configured: deps.apps.forUser(caller.user.id, caller.user.tenant_id) !== null, ...(status as object) });
  });

  // "Test the connection": X is asked who the account is (the tokens are refreshed if due).
  router.add('POST', '/api/x/verify', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await callTenant(host, caller.user.tenant_id, 'x.verify', {}, deps.requestTimeoutMs));
  });

  router.add('DELETE', '/api/x/disconnect', async (ctx) => {
    const caller = auth.require(ctx);
    const status = await callTenant(host, caller.user.tenant_id, 'x.disconnect', {}, deps.requestTimeoutMs);
    audit(db, { userId: caller.user.id, action: 'x_disconnected', ip: ctx.ip });
    return json(200, { configured: deps.apps.forUser(caller.user.id, caller.user.tenant_id) !== null, ...(status as object) });
  });

  // A user's own X app: X bills them and no allowance applies. Write-only secret.
  const appView = (userId: string, tenantId: string) => {
    const resolved = deps.apps.forUser(userId, tenantId);
    const own = deps.apps.own(userId);
    return {
      serverApp: deps.apps.serverApp,
      own: own && { clientId: own.clientId, clientSecret: own.hasSecret ? 'set' : 'not set', updatedAt: own.updatedAt },
      // Who pays X for this user's calls.
      xBilling: resolved === null ? null : resolved.own ? 'user' : resolved.managed ? 'plan_allowance' : 'server_owner',
    };
  };
  const requireDisconnected = async (tenantId: string) => {
    const status = (await callTenant(host, tenantId, 'x.status', {}, deps.requestTimeoutMs)) as { connected: boolean };
    if (status.connected) throw new HttpError(409, 'x_connected', 'Disconnect X first: its tokens belong to the current app.');
  };
  const appChanged = (userId: string, tenantId: string) => {
    host.setXApp(tenantId, deps.apps.forTenant(tenantId));
    deps.onAppChanged?.(userId);
  };

  router.add('GET', '/api/x/app', (ctx) => {
    const caller = auth.require(ctx);
    return json(200, appView(caller.user.id, caller.user.tenant_id));
  });

  router.add('PUT', '/api/x/app', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(OwnApp);
    await limits.consume(['x_connect_account', caller.user.id]);
    await requireDisconnected(caller.user.tenant_id);
    deps.apps.setOwn(caller.user.id, caller.user.tenant_id, { clientId: body.clientId, clientSecret: body.clientSecret ?? null });
    audit(db, { userId: caller.user.id, action: 'x_app_changed', ip: ctx.ip, detail: { clientId: body.clientId } });
    appChanged(caller.user.id, caller.user.tenant_id);
    return json(200, appView(caller.user.id, caller.user.tenant_id));
  });

  router.add('DELETE', '/api/x/app', async (ctx) => {
    const caller = auth.require(ctx);
    await requireDisconnected(caller.user.tenant_id);
    if (deps.apps.removeOwn(caller.user.id)) {
      audit(db, { userId: caller.user.id, action: 'x_app_changed', ip: ctx.ip, detail: { clientId: null } });
      appChanged(caller.user.id, caller.user.tenant_id);
    }
    return json(200, appView(caller.user.id, caller.user.tenant_id));
  });
}

export const OwnApp = v.strictObject({
  clientId: v.pipe(v.string('must be a string'), v.trim(), v.regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be the OAuth 2.0 Client ID from the X developer portal')),
  clientSecret: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(200, 'is too long')))),
});

export function describeXConnectionRoutes(doc: ApiDocument): void {
  const tag = 'X connection';
  doc.add(
    { method: 'GET', path: '/api/x/connect', tag, auth: 'session', summary: 'Connect X (start)', query: ReturnToQuery, description: 'A browser navigation: redirects to X\'s consent page (OAuth 2.0 with PKCE). `?return_to=<origin>`: an app on an origin listed in TRUSTED_ORIGINS (the desktop build) asks to land on its own `/dashboard/x` at the end; any other value is refused.', responses: { 302: { description: 'To X, or to `/dashboard/x?error=<code>`.', location: "X's authorize URL." }, 400: { description: '`invalid_request`: `return_to` is not a trusted origin.' } } },
    { method: 'GET', path: '/api/x/callback', tag, auth: 'session', summary: 'Connect X (X sends the browser back here)', description: 'Always ends on the dashboard (the server\'s, or the trusted app\'s that started with `return_to`): `/dashboard/x?connected=<username>` or `/dashboard/x?error=denied|bad_state|exchange_failed|x_unavailable|not_configured|rate_limited|server_error`.', responses: { 302: { description: 'To the dashboard.', location: '/dashboard/x?…' } } },
    { method: 'GET', path: '/api/x/status', tag, auth: 'session', summary: 'The connected X account', responses: { 200: { description: '`{ configured, connected, account: { id, username, name, connectedAt } | null, disconnectedAt, disconnectedReason }`.' } } },
    { method: 'POST', path: '/api/x/verify', tag, auth: 'session', summary: 'Test the X connection', description: 'Asks X who the account is (refreshing the token if due).', responses: { 200: { description: '`{ ok: true, account }`.' }, 409: { description: '`x_not_connected`, `x_disconnected` (reconnect) or `x_budget_refused`.' } } },
    { method: 'DELETE', path: '/api/x/disconnect', tag, auth: 'session', summary: 'Disconnect X', description: 'Revokes the grant at X and deletes the tokens.', responses: { 200: { description: 'The status after disconnecting.' } } },
    { method: 'GET', path: '/api/x/app', tag, auth: 'session', summary: 'Which X app this account uses', description: '`xBilling` says who pays X: plan_allowance, user (own app) or server_owner.', responses: { 200: { description: '`{ serverApp, own: { clientId, clientSecret: "set" | "not set", updatedAt } | null, xBilling }`.' } } },
    { method: 'PUT', path: '/api/x/app', tag, auth: 'session', summary: 'Use your own X app', description: 'X then bills you directly and no allowance applies. Only while X is disconnected. The secret is write-only.', body: OwnApp, responses: { 200: { description: 'The app view.' }, 409: { description: '`x_connected`: disconnect first.' } } },
    { method: 'DELETE', path: '/api/x/app', tag, auth: 'session', summary: "Go back to the server's X app", responses: { 200: { description: 'The app view.' }, 409: { description: '`x_connected`: disconnect first.' } } },
  );
}
