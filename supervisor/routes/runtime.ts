/**
 * The caller's automation: its status (each job's last and next run and last error, why it is idle,
 * X and the LLM), start, stop and pause; and the onboarding checklist that ends with starting it.
 * The tenant owns the runtime's state; the plan (billing) is the supervisor's, so the onboarding's
 * plan step is added here.
 */
import * as v from 'valibot';
import type { ApiDocument } from '../api/openapi.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { hasAccess, type BillingState } from '../billing/state.js';
import { HttpError } from '../http/errors.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';

export interface RuntimeRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
  /** The caller's subscription; null where billing is off (self-host: no plan is needed). */
  subscription: (userId: string) => { status: BillingState; plan: string | null } | null;
}

export const RuntimePause = v.strictObject({
  until: v.optional(v.nullable(v.pipe(v.number('must be a time in epoch milliseconds'), v.integer('must be a whole number of milliseconds'), v.minValue(0, 'must be a time in epoch milliseconds')))),
});

interface TenantRuntimeStatus {
  state: 'started' | 'paused' | 'stopped';
  missingSetup: Record<string, string>;
}

type Step = { done: boolean } & Record<string, unknown>;

/** The wizard's order: each step is what the next one needs. */
const STEP_ORDER = ['business', 'x', 'llm', 'approval', 'plan', 'runtime'] as const;

export function addRuntimeRoutes(router: Router<Handler>, deps: RuntimeRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown = {}) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);

  router.add('GET', '/api/runtime', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'runtime.status')));

  router.add('POST', '/api/runtime/start', async (ctx) => {
    const caller = auth.require(ctx);
    // A runtime without a business profile would search nothing and write about nothing: say what is missing.
    const status = (await ask(caller.user.tenant_id, 'runtime.status')) as TenantRuntimeStatus;
    const missing = Object.keys(status.missingSetup);
    if (missing.length > 0) {
      throw new HttpError(409, 'setup_incomplete', `Set ${missing.join(', ')} in your settings before starting the automation.`, status.missingSetup);
    }
    return json(200, await ask(caller.user.tenant_id, 'runtime.start'));
  });

  router.add('POST', '/api/runtime/stop', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'runtime.stop')));

  router.add('POST', '/api/runtime/pause', async (ctx) => {
    const caller = auth.require(ctx);
    // No body pauses until the user resumes.
    const body = (await ctx.body()).length === 0 ? {} : await ctx.json(RuntimePause);
    return json(200, await ask(caller.user.tenant_id, 'runtime.pause', body));
  });

  router.add('GET', '/api/onboarding', async (ctx) => {
    const caller = auth.require(ctx);
    const tenant = (await ask(caller.user.tenant_id, 'onboarding.status')) as Record<Exclude<(typeof STEP_ORDER)[number], 'plan'>, Step>;
    const subscription = deps.subscription(caller.user.id);
    const plan: Step = subscription === null ? { done: true, needed: false, status: 'disabled', plan: null } : { done: hasAccess(subscription.status), needed: true, ...subscription };
    const steps = STEP_ORDER.map((id) => ({ id, ...(id === 'plan' ? plan : tenant[id]) }));
    const next = steps.find((step) => !step.done)?.id ?? null;
    return json(200, { steps, next, complete: next === null });
  });
}

export function describeRuntimeRoutes(doc: ApiDocument): void {
  const tag = 'Runtime';
  const status =
    'The runtime\'s status: `{ state (started | paused | stopped), pausedUntil, running, mode, approvalMode, activeNow, nextActiveAt, jobs: [{ name, lastRunAt, nextRunAt, lastError, pausedUntil }], gateReasons: [{ reason, message }] (why the jobs are idle: automation_off, x_not_connected, outside_active_hours, no_llm, …), x: { configured, connected, username }, llm (own | sandbox | none), automation, missingSetup, settingsErrors, approvals (counts by status) }`.';
  doc.add(
    { method: 'GET', path: '/api/runtime', tag, auth: 'session', summary: 'The automation\'s status', responses: { 200: { description: status } } },
    {
      method: 'POST',
      path: '/api/runtime/start',
      tag,
      auth: 'session',
      summary: 'Start the automation',
      description: 'The jobs\' first runs are spread over the next minutes (never all at once). Starting again re-spreads them.',
      responses: { 200: { description: status }, 409: { description: '`setup_incomplete`: the business profile is missing; `fields` names each setting.' } },
    },
    { method: 'POST', path: '/api/runtime/stop', tag, auth: 'session', summary: 'Stop the automation', responses: { 200: { description: status } } },
    {
      method: 'POST',
      path: '/api/runtime/pause',
      tag,
      auth: 'session',
      summary: 'Pause the automation',
      description: 'Until `until` (epoch ms, in the future), or until started again when omitted; the body may be omitted.',
      body: RuntimePause,
      responses: { 200: { description: status }, 422: { description: '`until` is not in the future.' } },
    },
    {
      method: 'GET',
      path: '/api/onboarding',
      tag: 'Onboarding',
      auth: 'session',
      summary: 'The onboarding checklist',
      description:
        'Steps in the wizard\'s order, each `{ id, done, … }`: `business` (`missing`: setting → what is needed), `x` (`configured`, `username`), `llm` (`kind`: own, sandbox or none), `approval` (`approvalMode`, `mode`, `chosen`), `plan` (`needed`: false where billing is off; `status`, `plan`), `runtime` (`state`). `next` is the first step not done, null when all are.',
      responses: { 200: { description: '`{ steps, next, complete }`.' } },
    },
  );
}
