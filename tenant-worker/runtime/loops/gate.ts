/**
 * Whether a job may act now, checked at the start of every run: the user started the runtime, the plan
 * allows automation, X is connected, it is inside the active hours, the mode runs this job, an LLM is
 * there when the job writes. A closed gate reschedules the job to when it may open.
 *
 * Why the runtime is idle is told once per episode, not once per tick: the first job that meets a
 * closed gate logs it (action log, status `skipped`) and emits RuntimeStatus; a job that passes that
 * check forgets the notice, so the next time it closes is told again. (notices_given holds the keys.)
 */
import type Database from 'better-sqlite3';
import { logAction, type Action } from '../action-log.js';
import { loadRuntimeConfig, type RuntimeConfig } from '../config.js';
import type { SkipReason } from '../guards.js';
import { nextActiveAt } from '../pacing.js';
import { runtimeState } from '../state.js';
import type { LoopDeps } from './deps.js';
import { runtimeStatusEvent } from './status.js';

export type GateReason = 'stopped' | 'paused' | 'automation_off' | 'x_not_configured' | 'x_not_connected' | 'outside_active_hours' | 'composer_mode' | 'no_llm';

export interface GateRules {
  /** Posting and reading jobs wait for the active hours; analytics and cleanup do not. */
  activeHours: boolean;
  /** Skipped in composer mode (the reference's autopilot-only loops). */
  autopilotOnly?: boolean;
  needsLlm?: boolean;
  /** Cleanup touches only the DB. */
  needsX?: boolean;
}

export type Gate =
  | { open: true; config: RuntimeConfig; self: { id: string; username: string } }
  | { open: false; reason: GateReason; retryAt: number; config: RuntimeConfig };

const HOUR = 3_600_000;

const MESSAGES: Record<GateReason, string> = {
  stopped: 'The automation is stopped.',
  paused: 'The automation is paused.',
  automation_off: 'Automation is off for this account (no active plan).',
  x_not_configured: 'No X app is configured on this server.',
  x_not_connected: 'X is not connected: connect X to let TuitBot work.',
  outside_active_hours: 'Outside the active hours: TuitBot waits until they start.',
  composer_mode: 'Composer mode: TuitBot only discovers and posts what you approve.',
  no_llm: 'No LLM is configured: add an API key so TuitBot can write.',
};

export function gate(deps: LoopDeps, job: string, action: Action, rules: GateRules): Gate {
  const now = deps.now();
  const { config } = loadRuntimeConfig(deps.db);
  const closed = (reason: GateReason, retryAt: number): Gate => {
    tellOnce(deps, config, job, action, reason);
    waitFor(deps, job, reason, now);
    return { open: false, reason, retryAt, config };
  };
  const state = runtimeState(deps.db, now);
  if (state.state === 'stopped') return closed('stopped', now + 24 * HOUR);
  if (state.state === 'paused') return closed('paused', state.pausedUntil ?? now + 24 * HOUR);
  passed(deps, 'stopped', 'paused');
  const ceilings = deps.ceilings();
  if (ceilings !== null && !ceilings.automation) return closed('automation_off', now + HOUR);
  passed(deps, 'automation_off');
  let self = { id: '', username: '' };
  if (rules.needsX ?? true) {
    const x = deps.x();
    if (x.client() === null) return closed('x_not_configured', now + HOUR);
    const status = x.connection.status();
    if (!status.connected || !status.account) return closed('x_not_connected', now + HOUR);
    self = { id: status.account.id, username: status.account.username };
    passed(deps, 'x_not_configured', 'x_not_connected');
  }
  if (rules.activeHours) {
    const opens = nextActiveAt(config.schedule, now);
    if (opens !== now) return closed('outside_active_hours', opens ?? now + HOUR);
    passed(deps, 'outside_active_hours');
  }
  if (rules.autopilotOnly && config.mode === 'composer') return closed('composer_mode', now + HOUR);
  if (rules.needsLlm) {
    if (deps.llm() === null) return closed('no_llm', now + HOUR);
    passed(deps, 'no_llm');
  }
  deps.db.prepare('DELETE FROM notices_given WHERE key GLOB ?').run(`${WAITING}*:${job}`);
  return { open: true, config, self };
}

/*
 * A closed gate retries in up to an hour; the user who just connected X, chose a plan, added an LLM key
 * or widened the active hours should not wait that long. Each job waiting on a gate is noted
 * (`runtime.waiting:<reason>:<job>`), and whatever reopens that reason wakes those jobs now.
 */
const WAITING = 'runtime.waiting:';
const WAKE_SPREAD_MS = 20_000;

function waitFor(deps: LoopDeps, job: string, reason: GateReason, now: number): void {
  deps.db.prepare('DELETE FROM notices_given WHERE key GLOB ?').run(`${WAITING}*:${job}`);
  deps.db.prepare('INSERT INTO notices_given (key, at) VALUES (?, ?)').run(`${WAITING}${reason}:${job}`, now);
}

/**
 * Makes the jobs waiting on any of `reasons` due within the next seconds (spread, never all at one
 * instant) and returns how many it woke; the gate checks again when they run.
 */
export function wakeGateWaiters(db: Database.Database, reasons: readonly GateReason[], now: number = Date.now(), random: () => number = Math.random): number {
  let woken = 0;
  const wake = db.prepare('UPDATE jobs SET next_run_at = min(next_run_at, ?) WHERE name = ?');
  const forget = db.prepare('DELETE FROM notices_given WHERE key = ?');
  db.transaction(() => {
    for (const reason of reasons) {
      const waiting = db.prepare<[string], { key: string }>('SELECT key FROM notices_given WHERE key GLOB ?').all(`${WAITING}${reason}:*`);
      for (const { key } of waiting) {
        woken += wake.run(now + Math.floor(random() * WAKE_SPREAD_MS), key.slice(WAITING.length + reason.length + 1)).changes;
        forget.run(key);
      }
    }
  })();
  return woken;
}

function noticeKey(reason: GateReason): string {
  return `runtime.gate:${reason}`;
}

function tellOnce(deps: LoopDeps, config: RuntimeConfig, job: string, action: Action, reason: GateReason): void {
  const now = deps.now();
  const fresh = deps.db.prepare('INSERT OR IGNORE INTO notices_given (key, at) VALUES (?, ?)').run(noticeKey(reason), now).changes > 0;
  if (!fresh) return;
  // A stopped runtime is the user's choice and says so in its status; it needs no feed entry.
  if (reason !== 'stopped') {
    const skip: SkipReason | null = reason === 'outside_active_hours' || reason === 'composer_mode' ? reason : null;
    logAction(deps.db, now, { action, status: 'skipped', source: 'system', message: MESSAGES[reason], reason: skip, data: { gate: reason, job } });
  }
  deps.emit(runtimeStatusEvent(deps.db, config, now));
}

function passed(deps: LoopDeps, ...reasons: GateReason[]): void {
  const forget = deps.db.prepare('DELETE FROM notices_given WHERE key = ?');
  for (const reason of reasons) forget.run(noticeKey(reason));
}

/** The message a gate reason stands for (the status handler shows it). */
export function gateMessage(reason: GateReason): string {
  return MESSAGES[reason];
}
