/**
 * The runtime's job set, registered by the actor while the user has the runtime started or paused
 * (a stopped tenant defines none: no alarms, no X calls).
 */
import type Database from 'better-sqlite3';
import type { JobDefinition } from '../../jobs.js';
import { runtimeState } from '../state.js';
import { analyticsJob } from './analytics.js';
import { approvalPosterJob } from './approval-poster.js';
import { approvalReminderJob } from './approval-reminder.js';
import { cleanupJob } from './cleanup.js';
import { contentJob } from './content.js';
import type { LoopDeps } from './deps.js';
import { discoveryJob } from './discovery.js';
import { mentionsJob } from './mentions.js';
import { scheduledPosterJob } from './scheduled-poster.js';
import { strategyJob } from './strategy.js';
import { targetsJob } from './targets.js';
import { threadsJob } from './threads.js';

export { actorLoopDeps, type LoopDeps, type XSide } from './deps.js';
export { RUNTIME_JOBS, RUNTIME_JOB_NAMES, type RuntimeJobName } from './names.js';

export function runtimeJobs(deps: LoopDeps): JobDefinition[] {
  return [
    discoveryJob(deps),
    mentionsJob(deps),
    targetsJob(deps),
    contentJob(deps),
    threadsJob(deps),
    approvalPosterJob(deps),
    scheduledPosterJob(deps),
    analyticsJob(deps),
    cleanupJob(deps),
    strategyJob(deps),
    approvalReminderJob(deps),
  ];
}

/** Whether this activation should define the runtime's jobs. */
export function runtimeEnabled(db: Database.Database, now: number = Date.now()): boolean {
  return runtimeState(db, now).state !== 'stopped';
}
