/**
 * The LLM settings of the caller's tenant: provider, model, base URL and a write-only API key
 * ("set" / "not set"), and a connection test. The tenant validates and stores them (sealed); these
 * routes authenticate, rate-limit the credential writes, and pass the request on.
 */
import * as v from 'valibot';
import type { RateLimits } from '../auth/rate-limits.js';
import type { RequestAuth } from '../auth/request-auth.js';
import type { ApiDocument } from '../api/openapi.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';

export interface LlmSettingsRouteDeps {
  auth: RequestAuth;
  limits: RateLimits;
  host: TenantHost;
  requestTimeoutMs: number;
}

const PROVIDERS = ['openai', 'anthropic', 'openai-compatible'] as const;

/** The shape the API documents and checks first (the tenant checks the values again, e.g. private URLs). */
export const LlmSettingsBody = v.strictObject({
  provider: v.picklist(PROVIDERS, `must be one of ${PROVIDERS.join(', ')}`),
  model: v.optional(v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(200, 'is too long'))),
  baseUrl: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.trim(), v.url('must be a URL'), v.maxLength(500, 'is too long')))),
  apiKey: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(500, 'is too long')))),
});

export function addLlmSettingsRoutes(router: Router<Handler>, deps: LlmSettingsRouteDeps): void {
  const { auth, limits, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown = {}) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);

  router.add('GET', '/api/settings/llm', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'llm.get'));
  });

  router.add('PUT', '/api/settings/llm', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(LlmSettingsBody);
    await limits.consume(['llm_key_account', caller.user.id]);
    return json(200, await ask(caller.user.tenant_id, 'llm.put', body));
  });

  router.add('DELETE', '/api/settings/llm', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'llm.clear'));
  });

  router.add('POST', '/api/settings/llm/test', async (ctx) => {
    const caller = auth.require(ctx);
    // A test spends the user's tokens and our time: a few a minute.
    await limits.consume(['llm_key_account', caller.user.id]);
    return json(200, await ask(caller.user.tenant_id, 'llm.test'));
  });
}

export function describeLlmSettingsRoutes(doc: ApiDocument): void {
  const tag = 'Settings';
  const view = '`{ configured, provider, model, baseUrl, apiKey: "set" | "not set", updatedAt, using: "own" | "sandbox" | null, usingModel }`.';
  doc.add(
    { method: 'GET', path: '/api/settings/llm', tag, auth: 'session', summary: 'The LLM settings', description: 'The API key is never returned.', responses: { 200: { description: view } } },
    { method: 'PUT', path: '/api/settings/llm', tag, auth: 'session', summary: 'Set the LLM', description: 'A new provider or base URL needs the key again (a key is never sent to another endpoint). In the cloud, loopback and private addresses are refused.', body: LlmSettingsBody, responses: { 200: { description: view } } },
    { method: 'DELETE', path: '/api/settings/llm', tag, auth: 'session', summary: 'Forget the LLM settings (key included)', responses: { 200: { description: view } } },
    { method: 'POST', path: '/api/settings/llm/test', tag, auth: 'session', summary: 'Test the LLM', description: 'One tiny completion ("Say OK") with what the runtime would use.', responses: { 200: { description: '`{ ok: true, reply, latencyMs, using }` or `{ ok: false, code: auth | rate_limited | api_error | network | timeout | not_configured, message }`.' } } },
  );
}
