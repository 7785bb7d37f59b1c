/**
 * Starting, stopping and pausing the automation, its status, and the approval queue's minimal
 * decisions. Starting (re)defines the runtime's jobs in the running activation and spreads their first
 * runs over the next minutes; stopping keeps the jobs until the activation ends (each then sees the
 * stopped state and idles) — the next activation defines none.
 */
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import { ActionLimits } from '../action-limits.js';
import { validate, type Handler, type HandlerContext } from '../handlers.js';
import { LlmConfig } from '../llm/config.js';
import { approvalStats, approve, listApprovals, reject, type ApprovalStatus } from './approvals.js';
import { loadRuntimeConfig, missingSetup } from './config.js';
import type { RuntimeContext } from './context.js';
import { ownLlm } from './loops/deps.js';
import { RUNTIME_JOBS, RUNTIME_JOB_NAMES } from './loops/names.js';
import { runtimeStatusData, runtimeStatusEvent } from './loops/status.js';
import { runtimeState, setRuntimeState } from './state.js';

const epochMs = v.pipe(v.number(), v.integer(), v.minValue(0));
const PauseParams = v.optional(v.object({ until: v.optional(v.nullable(epochMs)) }), {});
const Id = v.object({ id: v.pipe(v.number(), v.integer(), v.minValue(1)) });
const ApproveParams = v.object({ ...Id.entries, content: v.optional(v.union([v.string(), v.array(v.string())])) });
const STATUSES = ['pending', 'approved', 'posting', 'posted', 'failed', 'rejected', 'expired'] as const;
const ListParams = v.optional(
  v.object({
    statuses: v.optional(v.array(v.picklist(STATUSES))),
    after: v.optional(v.nullable(v.pipe(v.number(), v.integer()))),
    limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))),
  }),
  {},
);

function storeContext(context: HandlerContext): RuntimeContext {
  return { db: context.db, now: Date.now, emit: context.emit, limits: new ActionLimits(context.db, () => context.ceilings) };
}

function status(context: HandlerContext) {
  const now = Date.now();
  const { config, errors } = loadRuntimeConfig(context.db);
  const state = runtimeState(context.db, now);
  const own = ownLlm(new LlmConfig(context.db, context.secrets));
  const x = context.xAccount().connection.status();
  return {
    ...runtimeStatusData(context.db, config, now),
    state: state.state,
    pausedUntil: state.pausedUntil,
    x: { configured: context.x !== null, connected: x.connected, username: x.account?.username ?? null },
    llm: own ? 'own' : context.llmFallback ? 'sandbox' : 'none',
    automation: context.ceilings === null || context.ceilings.automation,
    missingSetup: missingSetup(config),
    settingsErrors: errors,
    approvals: approvalStats(context.db),
  };
}

/** Makes a job due at `at` (a job runner row; the job itself decides whether there is work). */
function wake(context: HandlerContext, name: string, at: number): void {
  context.db.prepare('UPDATE jobs SET next_run_at = ?, paused_until = NULL WHERE name = ?').run(at, name);
}

function announce(context: HandlerContext): void {
  context.emit(runtimeStatusEvent(context.db, loadRuntimeConfig(context.db).config, Date.now()));
}

export const runtimeHandlers: Record<string, Handler> = {
  'runtime.status': (context) => status(context),

  'runtime.start': async (context) => {
    const now = Date.now();
    setRuntimeState(context.db, 'started', now);
    // Spread, never "all at boot": a fleet started by one deploy must not hit X at one instant.
    for (const name of RUNTIME_JOB_NAMES) wake(context, name, now + Math.floor(Math.random() * RUNTIME_JOBS[name].firstRunSpreadMs));
    await context.reloadJobs();
    announce(context);
    return status(context);
  },

  'runtime.stop': (context) => {
    setRuntimeState(context.db, 'stopped', Date.now());
    announce(context);
    return status(context);
  },

  'runtime.pause': async (context, params) => {
    const { until } = validate(PauseParams, params ?? {});
    const now = Date.now();
    if (until != null && until <= now) throw new RemoteError('invalid_params', 'A pause must end in the future.', { until: 'must be in the future' });
    setRuntimeState(context.db, 'paused', now, until ?? null);
    // The jobs idle until the pause ends; an activation that had none (stopped before) gets them.
    await context.reloadJobs();
    announce(context);
    return status(context);
  },

  'approvals.list': (context, params) => {
    const query = validate(ListParams, params ?? {});
    return listApprovals(context.db, { ...(query.statuses && { statuses: query.statuses as ApprovalStatus[] }), after: query.after ?? null, ...(query.limit && { limit: query.limit }) });
  },

  'approvals.approve': (context, params) => {
    const { id, content } = validate(ApproveParams, params);
    const result = approve(storeContext(context), id, content === undefined ? undefined : { content });
    if (!result.ok) throw new RemoteError(result.code, result.message);
    // The poster idles between polls; an approval is worth posting now (pacing still applies).
    wake(context, 'approval-poster', Date.now());
    void context.tick();
    return result.value;
  },

  'approvals.reject': (context, params) => {
    const { id } = validate(Id, params);
    const result = reject(storeContext(context), id);
    if (!result.ok) throw new RemoteError(result.code, result.message);
    return result.value;
  },
};
