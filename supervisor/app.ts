/**
 * The supervisor process assembled: management DB, tenant host, alarm scheduler, HTTP server,
 * and the order in which they start and stop.
 *
 * Stopping (SIGTERM/SIGINT) follows the budget of `shutdownTimeoutMs`: stop accepting
 * connections, let in-flight requests finish, hibernate every active tenant (their DBs
 * checkpointed and closed), checkpoint the management DB, done.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { checkpointAndClose, openDatabase } from '../migrations/runner.js';
import { purgeDeletedAccounts } from './auth/purge.js';
import { RateLimits } from './auth/rate-limits.js';
import { RequestAuth } from './auth/request-auth.js';
import { purgeTenantData } from './billing/purge-tenant.js';
import { startServerBackups } from './backups/server.js';
import type { BillingService } from './billing/service.js';
import { setUpBilling } from './billing/setup.js';
import { NO_PLAN_CEILINGS } from './billing/state.js';
import type { GitHubSettings } from './auth/github.js';
import { createSecondFactor } from './auth/second-factor.js';
import type { Config } from './config.js';
import { createMailQueue } from './email/mail-queue.js';
import { EmailSender } from './email/sender.js';
import { createEmailTransport } from './email/transport.js';
import { CorsPolicy } from './http/cors.js';
import { ReturnOrigins } from './http/return-origin.js';
import { Router } from './http/router.js';
import { createHttpServer, type Handler } from './http/server.js';
import { listenWithRetry } from './http/listen-retry.js';
import { createMetrics, type Metrics } from './metrics.js';
import { addAuthRoutes } from './routes/auth.js';
import { ApiDocument } from './api/openapi.js';
import { addApiDocumentRoute } from './routes/api-document.js';
import { addAccountDataRoutes, describeAccountDataRoutes } from './routes/account-data.js';
import { addLlmSettingsRoutes, describeLlmSettingsRoutes } from './routes/llm-settings.js';
import { addReportRoutes, describeReportRoutes } from './routes/reports.js';
import { addStrategyRoutes, describeStrategyRoutes } from './routes/strategy.js';
import { addAssistRoutes, describeAssistRoutes } from './routes/assist.js';
import { addContentRoutes, describeContentRoutes } from './routes/content.js';
import { addApprovalRoutes, describeApprovalRoutes } from './routes/approvals.js';
import { addRuntimeRoutes, describeRuntimeRoutes } from './routes/runtime.js';
import { addTargetRoutes, describeTargetRoutes } from './routes/targets.js';
import { addDiscoveryRoutes, describeDiscoveryRoutes } from './routes/discovery.js';
import { addAnalyticsRoutes, describeAnalyticsRoutes } from './routes/analytics.js';
import { addSettingsRoutes, describeSettingsRoutes } from './routes/settings.js';
import { addMediaRoutes, describeMediaRoutes } from './routes/media.js';
import { addBillingRoutes, describeBillingRoutes } from './routes/billing.js';
import { addDevMailRoutes } from './routes/dev-mail.js';
import { addDevRoutes } from './routes/dev.js';
import { addGitHubRoutes } from './routes/github.js';
import { addLiveSocket } from './live/socket.js';
import { addWebRoutes } from './web/routes.js';
import { addOpsRoutes } from './routes/ops.js';
import { addTwoFactorRoutes } from './routes/two-factor.js';
import { addUnsubscribeRoutes } from './routes/unsubscribe.js';
import { listUnsubscribeHeaders } from './notifications/headers.js';
import { NotificationMailer } from './notifications/mailer.js';
import { UnsubscribeTokens } from './notifications/unsubscribe-token.js';
import { addXConnectionRoutes, describeXConnectionRoutes } from './routes/x-connection.js';
import { loadEncryptionKey } from './secrets/master-key.js';
import { SecretBox } from '../protocol/secret-box.js';
import { callTenant } from './tenants/call.js';
import { TenantHost } from './tenants/host.js';
import { queueQuarantineNotice } from './tenants/quarantine-notice.js';
import { TenantRegistry } from './tenants/registry.js';
import { AlarmScheduler } from './tenants/scheduler.js';
import { queueXConnectionNotice } from './x/notices.js';
import { createXOAuthFlow } from './x/oauth-flow.js';
import { setUpSandboxLlm } from './llm/sandbox.js';
import { XApps } from './x/apps.js';
import { setUpX } from './x/setup.js';

/** The product's version, from package.json: one directory up in the sources, two in dist/. */
function productVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    const url = new URL(relative, import.meta.url);
    if (existsSync(url)) return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

const PRODUCT_VERSION = productVersion();

export interface Supervisor {
  port: number;
  host: TenantHost;
  registry: TenantRegistry;
  metrics: Metrics;
  /** null where billing is off (self-host). */
  billing: BillingService | null;
  /** Every HTTP route (for the API document's completeness test). */
  routes: readonly { method: string; pattern: string }[];
  /** Graceful stop; resolves when everything is closed. Safe to call twice. */
  close(): Promise<void>;
}

export async function startSupervisor(config: Config, log: Logger): Promise<Supervisor> {
  mkdirSync(join(config.dataDir, 'tenants'), { recursive: true });
  const db = openDatabase(join(config.dataDir, 'management.db'), 'management');
  // Where billing is on, a new tenant has no plan (and no automation) until its first payment.
  const registry = new TenantRegistry(db, config.dataDir, { defaultCeilings: config.billing.kind === 'disabled' ? null : NO_PLAN_CEILINGS });
  // Before anything listens: a missing or unreadable key must stop the start.
  const keyring = loadEncryptionKey(config, log.child({ component: 'secrets' }));
  const secrets = new SecretBox(keyring);
  const unsubscribeTokens = new UnsubscribeTokens(keyring);
  const metrics = createMetrics();
  const x = await setUpX(config.x, config.mode, log.child({ component: 'x' }));
  const xApps = new XApps({ db, secrets, server: x.server, endpoints: x.endpoints });
  const llm = await setUpSandboxLlm(config.mode, log.child({ component: 'llm' }));
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
    secrets,
    xAppFor: (tenantId) => xApps.forTenant(tenantId),
    mode: config.mode,
    llmFallback: llm?.fallback ?? null,
  });
  metrics.setTenantSource(host);
  const scheduler = new AlarmScheduler({ registry, host, log: log.child({ component: 'scheduler' }), batch: Math.max(64, t.threads * 4) });
  host.on('alarm', (_tenantId, at) => {
    scheduler.notify(at);
    // A thread may have just freed up: look for due tenants soon if nobody is waiting for one.
    if (host.queueLength() < host.threads) scheduler.poke();
  });

  const emailSender = new EmailSender({
    db,
    transport: config.email.smtpUrl ? createEmailTransport({ smtpUrl: config.email.smtpUrl, from: config.email.from }) : null,
    log: log.child({ component: 'email' }),
    headersFor: listUnsubscribeHeaders(unsubscribeTokens),
  });
  const mail = createMailQueue(db, emailSender);
  const periodicMail = new NotificationMailer({ db, mail, tokens: unsubscribeTokens, appUrl: () => appUrl(), log: log.child({ component: 'notifications' }) });
  const auth = new RequestAuth(db, config.publicUrl ? new URL(config.publicUrl).origin : null, config.trustedOrigins);
  const limits = new RateLimits();
  const returnOrigins = new ReturnOrigins(config.trustedOrigins);
  const secondFactor = createSecondFactor({ db, secrets });
  let port = 0;
  const appUrl = () => config.publicUrl?.replace(/\/$/, '') ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;

  host.on('quarantined', (tenantId) => {
    try {
      queueQuarantineNotice(db, mail, tenantId, appUrl());
    } catch (error) {
      log.error({ err: error, tenantId }, 'could not queue the quarantine notice');
    }
  });

  const billing = await setUpBilling(config.billing, {
    db,
    mail,
    appUrl,
    log: log.child({ component: 'billing' }),
    billsUserDirectly: (userId) => xApps.billsUserDirectly(userId),
    tenants: {
      setCeilings: (tenantId, ceilings) => host.setCeilings(tenantId, ceilings),
      wake: (tenantId) => host.wake(tenantId, 'alarm'),
      request: (tenantId, method, params, timeoutMs) => callTenant(host, tenantId, method, params, timeoutMs),
      purgeData: (tenantId) => purgeTenantData({ host, registry, dataDir: config.dataDir }, tenantId),
    },
  });
  host.on('event', (tenantId, event) => {
    // Kinds are a fixed vocabulary of the tenant code, so the label's cardinality is bounded.
    metrics.tenantEvents.inc({ kind: event.kind.slice(0, 60) });
    billing?.service.onTenantEvent(tenantId, event);
    queueXConnectionNotice(db, mail, tenantId, event, appUrl());
    periodicMail.onTenantEvent(tenantId, event);
  });

  const router = new Router<Handler>();
  addOpsRoutes(router, {
    metrics,
    metricsToken: config.metricsToken,
    checks: { managementDb: () => db.open, pool: () => host.up, scheduler: () => scheduler.running },
  });
  addAuthRoutes(router, {
    db,
    registry,
    host,
    auth,
    limits,
    mail,
    secondFactor,
    log: log.child({ component: 'auth' }),
    appUrl,
    mode: config.mode,
    registration: config.registration,
    onAccountDeleted: () => void billing?.service.sweep().catch((error: unknown) => log.error({ err: error }, 'billing sweep failed')),
    subscription: (userId) => billing?.service.summary(userId) ?? { status: 'disabled', plan: null },
  });
  addBillingRoutes(router, { billing: billing?.service ?? null, auth, limits, returnOrigins, onWebhook: (outcome) => metrics.stripeWebhooks.inc({ outcome }) });
  const apiDocument = new ApiDocument();
  describeBillingRoutes(apiDocument);
  describeXConnectionRoutes(apiDocument);
  addLlmSettingsRoutes(router, { auth, limits, host, requestTimeoutMs: config.http.requestTimeoutMs });
  describeLlmSettingsRoutes(apiDocument);
  addSettingsRoutes(router, { auth, host, requestTimeoutMs: config.http.requestTimeoutMs });
  describeSettingsRoutes(apiDocument);
  addReportRoutes(router, { auth, host, requestTimeoutMs: config.http.requestTimeoutMs });
  describeReportRoutes(apiDocument);
  for (const add of [addStrategyRoutes, addAssistRoutes]) add(router, { auth, host, requestTimeoutMs: config.http.requestTimeoutMs });
  for (const describe of [describeStrategyRoutes, describeAssistRoutes]) describe(apiDocument);
  addContentRoutes(router, { auth, host, requestTimeoutMs: config.http.requestTimeoutMs });
  describeContentRoutes(apiDocument);
  addApprovalRoutes(router, { auth, host, requestTimeoutMs: config.http.requestTimeoutMs });
  describeApprovalRoutes(apiDocument);
  addRuntimeRoutes(router, { auth, host, requestTimeoutMs: config.http.requestTimeoutMs, subscription: (userId) => billing?.service.summary(userId) ?? null });
  describeRuntimeRoutes(apiDocument);
  for (const add of [addTargetRoutes, addDiscoveryRoutes, addAnalyticsRoutes]) add(router, { auth, host, requestTimeoutMs: config.http.requestTimeoutMs });
  for (const describe of [describeTargetRoutes, describeDiscoveryRoutes, describeAnalyticsRoutes]) describe(apiDocument);
  addMediaRoutes(router, { auth, host, limits, dataDir: config.dataDir, quotaBytes: config.mediaQuotaBytes, requestTimeoutMs: config.http.requestTimeoutMs }), describeMediaRoutes(apiDocument);
  addAccountDataRoutes(router, { auth, limits, host, requestTimeoutMs: config.http.requestTimeoutMs }), describeAccountDataRoutes(apiDocument);
  addApiDocumentRoute(router, apiDocument, { appUrl, version: PRODUCT_VERSION });
  addXConnectionRoutes(router, {
    db,
    auth,
    limits,
    host,
    flow: createXOAuthFlow({ db, secrets, appFor: (userId, tenantId) => xApps.forUser(userId, tenantId)?.settings ?? null, redirectUri: () => `${appUrl()}/api/x/callback` }),
    apps: xApps,
    onAppChanged: (userId) => billing?.service.refresh(userId),
    appUrl,
    returnOrigins,
    requestTimeoutMs: config.http.requestTimeoutMs,
  });
  addTwoFactorRoutes(router, { db, auth, limits, mail, secrets, secondFactor });
  addUnsubscribeRoutes(router, { db, host, tokens: unsubscribeTokens, requestTimeoutMs: config.http.requestTimeoutMs });
  let github: GitHubSettings | null = config.github;
  let fakeGitHub: { close(): Promise<void> } | undefined;
  if (github === null && config.mode === 'sandbox') {
    // The sandbox switch: the only production path that reaches into sandbox/.
    const { startFakeGitHub } = await import('../sandbox/github.js');
    const fake = await startFakeGitHub({ host: '127.0.0.1', port: 0 });
    fakeGitHub = fake;
    github = fake.settings;
    log.warn({ url: fake.url }, 'SANDBOX: "Log in with GitHub" uses a simulated GitHub (logs in as sandbox-octocat)');
  }
  addGitHubRoutes(router, { db, registry, auth, limits, github, appUrl, returnOrigins, mode: config.mode, registration: config.registration });
  addWebRoutes(router, { log: log.child({ component: 'web' }) });
  // The sandbox mailbox shows tokens: only where nothing is really mailed and nobody else listens.
  if (config.mode === 'sandbox') addDevMailRoutes(router, { db });
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
    ...(config.trustedOrigins.length > 0 && { cors: new CorsPolicy(config.trustedOrigins) }),
    onResponse({ method, route, status, durationMs }) {
      metrics.httpRequests.inc({ method, route, status: String(status) });
      metrics.httpDuration.observe({ route }, durationMs / 1000);
    },
  });

  const live = addLiveSocket(http.app, {
    auth,
    host,
    log: log.child({ component: 'live' }),
    snapshot: async (user) => {
      const tenant = (await callTenant(host, user.tenant_id, 'live.snapshot', {}, config.http.requestTimeoutMs)) as object;
      return { ...tenant, billing: billing?.service.summary(user.id) ?? { status: 'disabled', plan: null } };
    },
  });

  metrics.setLiveConnections(() => live.connections());

  try {
    port = await listenWithRetry(() => http.listen(config.host, config.port), { host: config.host, port: config.port }, log);
  } catch (error) {
    await Promise.all([host.shutdown(Date.now() + 1_000), fakeGitHub?.close(), billing?.close(), x.close(), llm?.close()]);
    db.close();
    throw error;
  }
  scheduler.start();
  const backups = startServerBackups({ config, db, registry, host, log: log.child({ component: 'backups' }) });
  emailSender.start();
  billing?.listening(appUrl());
  // Grace expiries, purge reminders, purges and overage reports are due by the clock, not by an event.
  const billingSweep = setInterval(() => {
    billing?.service.sweep().catch((error: unknown) => log.error({ err: error }, 'billing sweep failed'));
  }, 60 * 1000);
  billingSweep.unref();
  const purge = setInterval(() => {
    try {
      const purged = purgeDeletedAccounts(db, registry);
      if (purged.length > 0) log.info({ accounts: purged.length }, 'purged deleted accounts');
    } catch (error) {
      log.error({ err: error }, 'account purge failed');
    }
  }, 60 * 60 * 1000);
  purge.unref();
  log.info({ mode: config.mode, host: config.host, port, dataDir: config.dataDir, threads: t.threads }, 'TuitBot supervisor listening');
  if (config.mode === 'sandbox') {
    log.warn('SANDBOX MODE: X, LLM and Stripe are simulated; nothing is posted to the real X');
    log.warn(`sandbox mailbox (mail is not sent): ${appUrl()}/dev/mail`);
  }

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      const deadline = Date.now() + config.shutdownTimeoutMs;
      log.info('shutting down: no new connections');
      http.stopListening();
      live.close();
      scheduler.stop();
      const drained = await http.drain(Math.max(0, (deadline - Date.now()) / 2));
      if (!drained) log.warn({ inflight: http.inflight() }, 'requests still in flight at the drain deadline');
      clearInterval(purge);
      clearInterval(billingSweep);
      await backups.stop();
      await Promise.all([host.shutdown(deadline - 500), emailSender.stop(), fakeGitHub?.close(), billing?.close(), x.close(), llm?.close()]);
      checkpointAndClose(db);
      log.info('shutdown complete');
    })());

  return { port, host, registry, metrics, billing: billing?.service ?? null, routes: router.routes(), close };
}
