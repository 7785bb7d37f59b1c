/**
 * "Connect X" on a real HTTP server with real tenant threads (holding their derived keys) and the
 * sandbox's simulated X on loopback, with the test's clock for the OAuth state.
 */
import { randomBytes } from 'node:crypto';
import { keyringOf, SecretBox } from '../../protocol/index.js';
import { XApps } from '../../supervisor/x/apps.js';
import type { Router } from '../../supervisor/http/router.js';
import type { Handler } from '../../supervisor/http/server.js';
import type { AuthRouteDeps } from '../../supervisor/routes/auth.js';
import { addXConnectionRoutes } from '../../supervisor/routes/x-connection.js';
import type { HostOptions } from '../../supervisor/tenants/host.js';
import { createXOAuthFlow } from '../../supervisor/x/oauth-flow.js';
import { queueXConnectionNotice } from '../../supervisor/x/notices.js';
import { startFakeX, type FakeX, type FakeXOptions } from '../../sandbox/x/index.js';
import { Browser } from './browser.js';
import { startAuthServer, type AuthServer } from './auth-server.js';

export interface XServer extends AuthServer {
  x: FakeX;
  apps: XApps;
  secrets: SecretBox;
  clock: { now: number };
  signup(email: string): Promise<Browser>;
  /** Starts "Connect X" as `browser`; returns the URL of X's consent page. */
  connect(browser: Browser): Promise<string>;
  /** Follows X's redirect back to our callback as `browser`; returns where we sent the browser. */
  callback(browser: Browser, location: string): Promise<string>;
}

export async function startXServer(
  options: { fakeX?: FakeXOptions; publicClient?: boolean; register?: (router: Router<Handler>, deps: AuthRouteDeps) => void; tenants?: Partial<HostOptions> } = {},
): Promise<XServer> {
  const x = await startFakeX({
    ...(options.publicClient && { clients: [{ clientId: 'public-client', clientSecret: null }] }),
    ...options.fakeX,
  });
  const settings = { ...x.settings, ...(options.publicClient && { clientId: 'public-client', clientSecret: null }) };
  const secrets = new SecretBox(keyringOf(randomBytes(32)));
  let apps!: XApps;
  const clock = { now: Date.now() };
  let base = '';
  const server = await startAuthServer({
    tenants: { ...options.tenants, secrets, xAppFor: (tenantId) => apps.forTenant(tenantId) },
    register(router, deps) {
      const { authorizeUrl, tokenUrl, revokeUrl, apiUrl, uploadUrl } = settings;
      apps = new XApps({ db: deps.db, secrets, server: { settings, managed: true }, endpoints: { authorizeUrl, tokenUrl, revokeUrl, apiUrl, uploadUrl } });
      addXConnectionRoutes(router, {
        db: deps.db,
        auth: deps.auth,
        limits: deps.limits,
        host: deps.host,
        flow: createXOAuthFlow({ db: deps.db, secrets, appFor: (userId, tenantId) => apps.forUser(userId, tenantId)?.settings ?? null, redirectUri: () => `${base}/api/x/callback`, now: () => clock.now }),
        apps,
        appUrl: deps.appUrl,
        requestTimeoutMs: 20_000,
      });
      options.register?.(router, deps);
    },
  });
  base = server.base;
  server.host.on('event', (tenantId, event) => queueXConnectionNotice(server.db, { queue: (m) => void server.mails.push(m), flush: () => {} }, tenantId, event, base));
  return {
    ...server,
    x,
    get apps() {
      return apps;
    },
    secrets,
    clock,
    async signup(email) {
      const browser = new Browser(server.base);
      const response = await browser.json('POST', '/auth/signup', { email, password: 'correct horse battery staple' });
      if (response.status !== 201) throw new Error(`signup failed: ${JSON.stringify(response.body)}`);
      return browser;
    },
    async connect(browser) {
      const response = await browser.request('GET', '/api/x/connect');
      if (response.status !== 302) throw new Error(`connect answered ${response.status}: ${await response.text()}`);
      return response.headers.get('location')!;
    },
    async callback(browser, location) {
      const url = new URL(location);
      const response = await browser.request('GET', url.pathname + url.search);
      return response.headers.get('location') ?? `(status ${response.status})`;
    },
    async close() {
      await server.close();
      await x.close();
    },
  };
}
