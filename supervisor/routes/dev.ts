/**
 * Development routes for tests and benchmarks (TUITBOT_DEV_HOOKS=1, refused in cloud mode):
 * create tenants and call their handlers directly, without accounts, which arrive later.
 */
import * as v from 'valibot';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';
import type { TenantRegistry } from '../tenants/registry.js';

export function addDevRoutes(router: Router<Handler>, deps: { host: TenantHost; registry: TenantRegistry; requestTimeoutMs: number }): void {
  const { host, registry, requestTimeoutMs } = deps;

  router.add('POST', '/dev/tenants', () => json(201, { id: registry.create().id }));

  router.add('GET', '/dev/tenants/:id/settings/:key', async (ctx) =>
    json(200, await callTenant(host, ctx.params['id']!, 'settings.get', { key: ctx.params['key'] }, requestTimeoutMs)),
  );

  router.add('PUT', '/dev/tenants/:id/settings/:key', async (ctx) => {
    const { value } = await ctx.json(v.object({ value: v.unknown() }));
    return json(200, await callTenant(host, ctx.params['id']!, 'settings.put', { key: ctx.params['key'], value }, requestTimeoutMs));
  });

  router.add('POST', '/dev/tenants/:id/call/:method', async (ctx) => {
    const params = await ctx.json(v.optional(v.unknown()));
    return json(200, { result: await callTenant(host, ctx.params['id']!, ctx.params['method']!, params, requestTimeoutMs) });
  });
}
