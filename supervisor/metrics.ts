/**
 * The Prometheus metrics of one supervisor (a registry per instance, so tests can run several).
 * Gauges that describe current state are filled at scrape time from their owners; counters and
 * histograms are updated where things happen.
 */
import client from 'prom-client';

export interface TenantGaugeSource {
  /** Tenants holding a thread or waiting for one, by runtime state. */
  residentCounts(): Record<string, number>;
  registeredCounts(): { ready: number; quarantined: number; stopped: number };
  queueLength(): number;
  activeTenantMetrics(): { tenantId: string; heapUsedBytes: number; heapTotalBytes: number; eventLoopUtilization: number }[];
}

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });

  const httpRequests = new client.Counter({
    name: 'tuitbot_http_requests_total',
    help: 'HTTP requests by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new client.Histogram({
    name: 'tuitbot_http_request_duration_seconds',
    help: 'HTTP request duration by route pattern.',
    labelNames: ['route'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const activations = new client.Counter({
    name: 'tuitbot_tenant_activations_total',
    help: 'Tenant activations by reason.',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const wakeSeconds = new client.Histogram({
    name: 'tuitbot_tenant_wake_seconds',
    help: 'Time from asking for a tenant to its DB being open and ready, queueing included.',
    buckets: [0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  const crashes = new client.Counter({
    name: 'tuitbot_tenant_crashes_total',
    help: 'Tenant crashes by kind.',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const quarantines = new client.Counter({
    name: 'tuitbot_tenant_quarantines_total',
    help: 'Tenants quarantined after exceeding their restart budget.',
    registers: [registry],
  });
  const jobLag = new client.Histogram({
    name: 'tuitbot_tenant_job_lag_seconds',
    help: 'How late tenant jobs started compared with their due time.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const protocolRejected = new client.Counter({
    name: 'tuitbot_protocol_rejected_total',
    help: 'Malformed protocol messages rejected, by receiving side.',
    labelNames: ['side'] as const,
    registers: [registry],
  });

  const tenantEvents = new client.Counter({
    name: 'tuitbot_tenant_events_total',
    help: 'Events tenants reported, by kind (x.disconnected, billing.x_budget, runtime.*).',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const stripeWebhooks = new client.Counter({
    name: 'tuitbot_stripe_webhooks_total',
    help: 'Stripe webhook deliveries by outcome (applied, ignored, duplicate, rejected).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  let liveConnections: () => number = () => 0;
  new client.Gauge({
    name: 'tuitbot_live_connections',
    help: 'Open dashboard WebSocket connections.',
    registers: [registry],
    collect() {
      this.set(liveConnections());
    },
  });

  let source: TenantGaugeSource | null = null;
  new client.Gauge({
    name: 'tuitbot_tenants',
    help: 'Tenants by state: resident states from memory, hibernated/quarantined/stopped from the registry.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      this.reset();
      if (!source) return;
      const resident = source.residentCounts();
      let residentTotal = 0;
      for (const [state, n] of Object.entries(resident)) {
        this.set({ state }, n);
        residentTotal += n;
      }
      const registered = source.registeredCounts();
      this.set({ state: 'hibernated' }, Math.max(0, registered.ready - residentTotal));
      this.set({ state: 'quarantined' }, registered.quarantined);
      this.set({ state: 'stopped' }, registered.stopped);
    },
  });
  new client.Gauge({
    name: 'tuitbot_activation_queue_length',
    help: 'Tenants waiting for a free thread.',
    registers: [registry],
    collect() {
      this.set(source?.queueLength() ?? 0);
    },
  });
  const perTenant = (name: string, help: string, pick: (m: ReturnType<TenantGaugeSource['activeTenantMetrics']>[number]) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['tenant'] as const,
      registers: [registry],
      collect() {
        // Only active tenants are labelled, so the cardinality is bounded by the thread count.
        this.reset();
        for (const m of source?.activeTenantMetrics() ?? []) this.set({ tenant: m.tenantId }, pick(m));
      },
    });
  perTenant('tuitbot_tenant_heap_used_bytes', 'V8 heap used by each active tenant thread.', (m) => m.heapUsedBytes);
  perTenant('tuitbot_tenant_heap_total_bytes', 'V8 heap reserved by each active tenant thread.', (m) => m.heapTotalBytes);
  perTenant('tuitbot_tenant_event_loop_utilization', 'Event-loop utilisation (0..1) of each active tenant thread.', (m) => m.eventLoopUtilization);

  return {
    registry,
    httpRequests,
    httpDuration,
    activations,
    wakeSeconds,
    crashes,
    quarantines,
    jobLag,
    protocolRejected,
    tenantEvents,
    stripeWebhooks,
    setTenantSource(s: TenantGaugeSource) {
      source = s;
    },
    setLiveConnections(count: () => number) {
      liveConnections = count;
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
