/**
 * Operator endpoints: liveness, readiness and Prometheus metrics.
 * /metrics names active tenants in labels, so it takes a bearer token when one is configured.
 */
import { timingSafeEqual } from 'node:crypto';
import { HttpError } from '../http/errors.js';
import { json, text } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import type { Metrics } from '../metrics.js';

export interface ReadinessChecks {
  managementDb(): boolean;
  pool(): boolean;
  scheduler(): boolean;
}

export function addOpsRoutes(router: Router<Handler>, deps: { metrics: Metrics; checks: ReadinessChecks; metricsToken: string | null }): void {
  router.add('GET', '/healthz', () => json(200, { status: 'ok' }));

  router.add('GET', '/readyz', () => {
    const checks = { managementDb: deps.checks.managementDb(), pool: deps.checks.pool(), scheduler: deps.checks.scheduler() };
    const ready = Object.values(checks).every(Boolean);
    return json(ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks });
  });

  router.add('GET', '/metrics', async (ctx) => {
    if (deps.metricsToken !== null && !bearerMatches(ctx.headers['authorization'], deps.metricsToken)) {
      throw new HttpError(401, 'unauthorized', 'A valid metrics token is required.');
    }
    return text(200, await deps.metrics.registry.metrics(), deps.metrics.registry.contentType);
  });
}

function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return presented.length === expected.length && timingSafeEqual(presented, expected);
}
