/**
 * Starting, stopping and pausing the automation, and its status. Starting (re)defines the runtime's
 * jobs in the running activation and spreads their first runs over the next minutes; stopping keeps
 * the jobs until the activation ends (each then sees the stopped state and idles) — the next
 * activation defines none. (The approval queue's handlers are in api/approvals.ts.)
 */
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import { validate, type Handler, type HandlerContext } from '../handlers.js';
import { LlmConfig } from '../llm/config.js';
import { approvalStats } from './approvals.js';
import { loadRuntimeConfig, missingSetup } from './config.js';
import { ownLlm } from './loops/deps.js';
import { gateMessage, type GateReason } from './loops/gate.js';
import { RUNTIME_JOBS, RUNTIME_JOB_NAMES } from './loops/names.js';
import { runtimeStatusData, runtimeStatusEvent } from './loops/status.js';
import { runtimeState, setRuntimeState } from './state.js';

const epochMs = v.pipe(v.number(), v.integer(), v.minValue(0));
const PauseParams = v.optional(v.object({ until: v.optional(v.nullable(epochMs)) }), {});

/** Why the jobs are idle, as the gate last told it (its notices are forgotten when a run passes). */
function gateReasons(context: HandlerContext): { reason: GateReason; message: string }[] {
  return context.db
    .prepare<[], { key: string }>("SELECT key FROM notices_given WHERE key GLOB 'runtime.gate:*' ORDER BY at, key")
    .all()
    .map((row) => row.key.slice('runtime.gate:'.length) as GateReason)
    .map((reason) => ({ reason, message: gateMessage(reason) }));
}

/** What `runtime.status` answers (also read by onboarding). */
export function runtimeStatus(context: HandlerContext) {
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
    gateReasons: gateReasons(context),
    missingSetup: missingSetup(config),
    settingsErrors: errors,
    approvals: approvalStats(context.db),
  };
}

/** Makes a job due at `at` (a job runner row; the job itself decides whether there is work). */
export function wakeJob(context: HandlerContext, name: string, at: number): void {
  context.db.prepare('UPDATE jobs SET next_run_at = ?, paused_until = NULL WHERE name = ?').run(at, name);
}

function announce(context: HandlerContext): void {
  context.emit(runtimeStatusEvent(context.db, loadRuntimeConfig(context.db).config, Date.now()));
}

export const runtimeHandlers: Record<string, Handler> = {
  'runtime.status': (context) => runtimeStatus(context),

  'runtime.start': async (context) => {
    const now = Date.now();
    setRuntimeState(context.db, 'started', now);
    // Spread, never "all at boot": a fleet started by one deploy must not hit X at one instant.
    for (const name of RUNTIME_JOB_NAMES) wakeJob(context, name, now + Math.floor(Math.random() * RUNTIME_JOBS[name].firstRunSpreadMs));
    await context.reloadJobs();
    announce(context);
    return runtimeStatus(context);
  },

  'runtime.stop': (context) => {
    setRuntimeState(context.db, 'stopped', Date.now());
    announce(context);
    return runtimeStatus(context);
  },

  'runtime.pause': async (context, params) => {
    const { until } = validate(PauseParams, params ?? {});
    const now = Date.now();
    if (until != null && until <= now) throw new RemoteError('invalid_params', 'A pause must end in the future.', { until: 'must be in the future' });
    setRuntimeState(context.db, 'paused', now, until ?? null);
    // The jobs idle until the pause ends; an activation that had none (stopped before) gets them.
    await context.reloadJobs();
    announce(context);
    return runtimeStatus(context);
  },
};

/**
 * Dev hooks only (TUITBOT_DEV_HOOKS, refused in cloud mode): the first runs of a started runtime are
 * spread over up to an hour; this makes every runtime job due now, so a test or a sandbox demo sees
 * the real runs at once. Later runs keep their cadence. Answers at once; the runs follow.
 */
export const runtimeDevHandlers: Record<string, Handler> = {
  'dev.runtime-run-now': (context) => {
    const now = Date.now();
    for (const name of RUNTIME_JOB_NAMES) wakeJob(context, name, now);
    void context.tick();
    return { due: RUNTIME_JOB_NAMES.length };
  },
};
