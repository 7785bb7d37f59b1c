/**
 * The supervisor process assembled: management DB, tenant host, alarm scheduler, HTTP server,
 * and the order in which they start and stop.
 *
 * Stopping (SIGTERM/SIGINT) follows the budget of `shutdownTimeoutMs`: stop accepting
 * connections, let in-flight requests finish, hibernate every active tenant (their DBs
 * checkpointed and closed), checkpoint the management DB, done.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { checkpointAndClose, openDatabase } from '../migrations/runner.js';
import type { Config } from './config.js';
import { Router } from './http/router.js';
import { createHttpServer, type Handler } from './http/server.js';
import { createMetrics, type Metrics } from './metrics.js';
import { addDevRoutes } from './routes/dev.js';
import { addOpsRoutes } from './routes/ops.js';
import { TenantHost } from './tenants/host.js';
import { TenantRegistry } from './tenants/registry.js';
import { AlarmScheduler } from './tenants/scheduler.js';

export interface Supervisor {
  port: number;
  host: TenantHost;
  registry: TenantRegistry;
  metrics: Metrics;
  /** Graceful stop; resolves when everything is closed. Safe to call twice. */
  close(): Promise<void>;
}

export async function startSupervisor(config: Config, log: Logger): Promise<Supervisor> {
  mkdirSync(join(config.dataDir, 'tenants'), { recursive: true });
  const db = openDatabase(join(config.dataDir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, config.dataDir);
  const metrics = createMetrics();
  const t = config.tenants;
  const host = new TenantHost({
    registry,
    log: log.child({ component: 'tenants' }),
    metrics,
    threads: t.threads,
    idleMs: t.idleMs,
    heapMb: t.heapMb,
    heartbeatMs: t.heartbeatMs,
    heartbeatTimeoutMs: t.heartbeatTimeoutMs,
    metricsMs: t.metricsMs,
    activationQueue: t.activationQueue,
    restart: { limit: t.crashLimit, windowMs: t.crashWindowMs, backoffMs: t.restartBackoffMs, backoffMaxMs: t.restartBackoffMaxMs },
    devHooks: config.devHooks,
    logLevel: config.logLevel,
  });
  metrics.setTenantSource(host);
  const scheduler = new AlarmScheduler({ registry, host, log: log.child({ component: 'scheduler' }), batch: Math.max(64, t.threads * 4) });
  host.on('alarm', (_tenantId, at) => scheduler.notify(at));
  host.on('alarm', () => {
    if (host.queueLength() < host.threads) scheduler.poke();
  });

  const router = new Router<Handler>();
  addOpsRoutes(router, {
    metrics,
    metricsToken: config.metricsToken,
    checks: { managementDb: () => db.open, pool: () => host.up, scheduler: () => scheduler.running },
  });
  if (config.devHooks) {
    addDevRoutes(router, { host, registry, requestTimeoutMs: config.http.requestTimeoutMs });
    log.warn('TUITBOT_DEV_HOOKS is on: /dev routes and fault injection are enabled; never use this in production');
  }
  const http = createHttpServer({
    router,
    log: log.child({ component: 'http' }),
    maxBodyBytes: config.http.maxBodyBytes,
    bodyTimeoutMs: config.http.bodyTimeoutMs,
    hsts: config.publicUrl?.startsWith('https://') ?? false,
    trustProxy: config.trustProxy,
    onResponse({ method, route, status, durationMs }) {
      metrics.httpRequests.inc({ method, route, status: String(status) });
      metrics.httpDuration.observe({ route }, durationMs / 1000);
    },
  });

  let port: number;
  try {
    port = await http.listen(config.host, config.port);
  } catch (error) {
    await host.shutdown(Date.now() + 1_000);
    db.close();
    throw error;
  }
  scheduler.start();
  log.info({ mode: config.mode, host: config.host, port, dataDir: config.dataDir, threads: t.threads }, 'TuitBot supervisor listening');
  if (config.mode === 'sandbox') log.warn('SANDBOX MODE: X, LLM and Stripe are simulated; nothing is posted to the real X');

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      log.info('shutting down: no new connections');
      http.stopListening();
      scheduler.stop();
      const drained = await http.drain(Math.max(0, (deadline - Date.now()) / 2));
      if (!drained) log.warn({ inflight: http.inflight() }, 'requests still in flight at the drain deadline');
      await host.shutdown(deadline - 500);
      checkpointAndClose(db);
      log.info('shutdown complete');
    })());

  return { port, host, registry, metrics, close };
}
