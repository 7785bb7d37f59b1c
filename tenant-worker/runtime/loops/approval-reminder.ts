/**
 * The approval-queue reminder (rule in runtime/notifications.ts): looks every 2 hours inside the active
 * hours, and after a reminder went sleeps until the next day's active hours. It touches only the DB: no X,
 * no LLM, no plan needed (a queue waits for review whatever the plan). A paused runtime posts nothing that
 * is approved, so it is not reminded until it resumes. Every wake-up is jittered by up to an hour, so tenants
 * of one zone whose active hours open together do not all wake at that instant.
 */
import { DateTime } from 'luxon';
import type { JobDefinition } from '../../jobs.js';
import { loadRuntimeConfig } from '../config.js';
import { remindedToday, takeApprovalReminder } from '../notifications.js';
import { nextActiveAt } from '../pacing.js';
import { runtimeState } from '../state.js';
import type { LoopDeps } from './deps.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';

const HOUR = 3_600_000;
const LOOK_EVERY_MS = 2 * HOUR;
const JITTER_MS = HOUR;

export function approvalReminderJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'approval-reminder',
    everyMs: LOOK_EVERY_MS,
    firstRunSpreadMs: RUNTIME_JOBS['approval-reminder'].firstRunSpreadMs,
    run: () =>
      guarded(deps, 'approval-reminder', async () => {
        const { db } = deps;
        const now = deps.now();
        const jitter = () => Math.floor(deps.random() * JITTER_MS);
        const state = runtimeState(db, now);
        if (state.state === 'paused') return { nextRunAt: (state.pausedUntil ?? now + 24 * HOUR) + jitter() };
        const { config } = loadRuntimeConfig(db);
        const zone = config.schedule.timezone;
        const opens = nextActiveAt(config.schedule, now);
        if (opens !== now) return { nextRunAt: (opens ?? now + 24 * HOUR) + jitter() };
        const reminder = takeApprovalReminder(db, config, now);
        if (reminder) deps.emit(reminder);
        if (reminder || remindedToday(db, zone, now)) {
          const tomorrow = DateTime.fromMillis(now, { zone }).plus({ days: 1 }).startOf('day').toMillis();
          return { nextRunAt: (nextActiveAt(config.schedule, tomorrow) ?? tomorrow) + jitter() };
        }
        return { nextRunAt: now + LOOK_EVERY_MS + jitter() };
      }),
  };
}
