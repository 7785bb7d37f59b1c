/**
 * The runtime as the dashboard sees it: the user's state, whether it may act right now, and each job's
 * last and next run, read from the `jobs` rows (also for a stopped tenant, whose jobs are not defined).
 */
import type Database from 'better-sqlite3';
import type { TenantEvent } from '../../../protocol/index.js';
import type { RuntimeConfig } from '../config.js';
import { runtimeEvent, type RuntimeEventData } from '../events.js';
import { isActiveAt, nextActiveAt } from '../pacing.js';
import { runtimeState } from '../state.js';
import { RUNTIME_JOB_NAMES } from './names.js';

export interface RuntimeJobStatus {
  name: string;
  lastRunAt: number | null;
  nextRunAt: number;
  lastError: string | null;
  pausedUntil: number | null;
}

export function runtimeJobStatus(db: Database.Database): RuntimeJobStatus[] {
  const rows = db
    .prepare<[], { name: string; last_run_at: number | null; next_run_at: number; last_error: string | null; last_error_at: number | null; last_ok_at: number | null; paused_until: number | null }>(
      'SELECT name, last_run_at, next_run_at, last_error, last_error_at, last_ok_at, paused_until FROM jobs ORDER BY name',
    )
    .all();
  const names = new Set<string>(RUNTIME_JOB_NAMES);
  return rows
    .filter((row) => names.has(row.name))
    .map((row) => ({
      name: row.name,
      lastRunAt: row.last_run_at,
      nextRunAt: row.next_run_at,
      // An error a later success cleared is history, not the job's state.
      lastError: row.last_error !== null && (row.last_ok_at === null || (row.last_error_at ?? 0) > row.last_ok_at) ? row.last_error : null,
      pausedUntil: row.paused_until,
    }));
}

export function runtimeStatusData(db: Database.Database, config: RuntimeConfig, now: number): RuntimeEventData['RuntimeStatus'] {
  const state = runtimeState(db, now);
  return {
    running: state.state === 'started',
    mode: config.mode,
    approvalMode: config.effectiveApprovalMode,
    activeNow: isActiveAt(config.schedule, now),
    nextActiveAt: nextActiveAt(config.schedule, now),
    jobs: runtimeJobStatus(db),
  };
}

export function runtimeStatusEvent(db: Database.Database, config: RuntimeConfig, now: number): TenantEvent {
  return runtimeEvent('RuntimeStatus', now, runtimeStatusData(db, config, now));
}
