/**
 * The runtime settings of the caller's tenant. The tenant owns the rules (tenant-worker/runtime/
 * settings-api.ts: per-field validation, cross-field rules, plan ceilings, read-only after a
 * subscription ended); these routes authenticate and pass the request on.
 */
import * as v from 'valibot';
import type { ApiDocument } from '../api/openapi.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';

export interface SettingsRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

/** Setting key (its dotted path, e.g. `limits.max_replies_per_day`) → new value; null resets to the default. */
export const SettingsPatch = v.pipe(
  v.record(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_.]{0,99}$/, 'is not a setting key')), v.unknown()),
  v.check((values) => Object.keys(values).length > 0, 'must change at least one setting'),
  v.check((values) => Object.keys(values).length <= 100, 'too many settings at once'),
);

export function addSettingsRoutes(router: Router<Handler>, deps: SettingsRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown = {}) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);

  router.add('GET', '/api/settings', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'settings.all')));

  router.add('GET', '/api/settings/defaults', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'settings.defaults')));

  router.add('PATCH', '/api/settings', async (ctx) => {
    const caller = auth.require(ctx);
    const values = await ctx.json(SettingsPatch);
    return json(200, await ask(caller.user.tenant_id, 'settings.patch', { values }));
  });

  router.add('POST', '/api/settings/validate', async (ctx) => {
    const caller = auth.require(ctx);
    const values = await ctx.json(SettingsPatch);
    return json(200, await ask(caller.user.tenant_id, 'settings.validate', { values }));
  });
}

export function describeSettingsRoutes(doc: ApiDocument): void {
  const tag = 'Settings';
  const view =
    '`{ values, custom, limits: { <key>: { requested, ceiling, effective } }, readOnly, invalid, missing }`: every setting by its dotted key (defaults included), the plan ceiling next to each capped limit and the limit that applies, stored values that no longer validate, and what the runtime still needs.';
  doc.add(
    { method: 'GET', path: '/api/settings', tag, auth: 'session', summary: 'The runtime settings', responses: { 200: { description: view } } },
    { method: 'GET', path: '/api/settings/defaults', tag, auth: 'session', summary: 'The default of every setting', responses: { 200: { description: '`{ values }`.' } } },
    {
      method: 'PATCH',
      path: '/api/settings',
      tag,
      auth: 'session',
      summary: 'Change settings',
      description: 'All or nothing: validated together with the stored settings; errors name each field by its key. A limit above the plan ceiling is kept as asked and reported in `clamped` with the ceiling that applies. `null` resets a setting.',
      body: SettingsPatch,
      responses: { 200: { description: `${view} Plus \`clamped\`.` }, 409: { description: '`read_only`: the subscription ended.' } },
    },
    { method: 'POST', path: '/api/settings/validate', tag, auth: 'session', summary: 'Check settings without saving them', body: SettingsPatch, responses: { 200: { description: '`{ ok, errors }`.' } } },
  );
}
