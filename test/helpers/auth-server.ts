/** The account routes on a real HTTP server, real SQLite and real tenant threads. */
import { pino } from 'pino';
import { RateLimits } from '../../supervisor/auth/rate-limits.js';
import { RequestAuth } from '../../supervisor/auth/request-auth.js';
import { Router } from '../../supervisor/http/router.js';
import { createHttpServer, type Handler } from '../../supervisor/http/server.js';
import type { TemplatedApp } from '../../supervisor/http/uws.js';
import { addAuthRoutes, type AuthRouteDeps, type MailQueue, type SecondFactor } from '../../supervisor/routes/auth.js';
import type { HostOptions } from '../../supervisor/tenants/host.js';
import { startTenants, type TestTenants } from './tenants.js';

export interface QueuedMail {
  to: string;
  template: string;
  data: Record<string, unknown>;
}

export interface AuthServer extends TestTenants {
  base: string;
  mails: QueuedMail[];
  /** The last link mailed to an address, as a token. */
  tokenFor(to: string, template: string): string;
}

export async function startAuthServer(
  options: {
    secondFactor?: SecondFactor;
    overrides?: Partial<AuthRouteDeps>;
    register?: (router: Router<Handler>, deps: AuthRouteDeps) => void;
    /** Host options (e.g. the secrets and the X app tenants get). */
    tenants?: Partial<HostOptions>;
    /** Adds to the uWS app before it listens (e.g. the live WebSocket). */
    attach?: (app: TemplatedApp, deps: AuthRouteDeps) => void;
  } = {},
): Promise<AuthServer> {
  const tenants = startTenants({ threads: 1, ...options.tenants });
  const mails: QueuedMail[] = [];
  const mail: MailQueue = { queue: (m) => void mails.push(m), flush: () => {} };
  const router = new Router<Handler>();
  let base = '';
  const deps: AuthRouteDeps = {
    db: tenants.db,
    registry: tenants.registry,
    host: tenants.host,
    auth: new RequestAuth(tenants.db, null),
    limits: new RateLimits(),
    mail,
    secondFactor: options.secondFactor ?? { verify: async () => null },
    log: tenants.log,
    appUrl: () => base,
    mode: 'sandbox',
    registration: 'open',
    ...options.overrides,
  };
  addAuthRoutes(router, deps);
  options.register?.(router, deps);
  const http = createHttpServer({ router, log: pino({ level: 'silent' }), maxBodyBytes: 65_536, bodyTimeoutMs: 5_000 });
  options.attach?.(http.app, deps);
  const port = await http.listen('127.0.0.1', 0);
  base = `http://127.0.0.1:${port}`;
  return {
    ...tenants,
    base,
    mails,
    tokenFor(to, template) {
      const found = mails.filter((m) => m.to === to && m.template === template).at(-1);
      if (!found) throw new Error(`no ${template} mail to ${to}`);
      return new URL(String(found.data['link'])).searchParams.get('token')!;
    },
    async close() {
      http.stopListening();
      await tenants.close();
    },
  };
}
