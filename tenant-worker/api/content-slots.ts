/**
 * "The next free slot" for the user's own tweets and threads, resolved to a time when they are
 * scheduled (a scheduled item always has one).
 *
 * A slot is taken by anything of ours that is posted, scheduled, or waiting for approval with a time,
 * so two composes in a row get two different slots. With preferred times (slot mode) the next free
 * preferred slot is used, jittered ±15 min like the runtime's own (pacing.ts); without them (interval
 * mode) it is the earliest active moment at least one pacing pause away from every taken time. Both
 * kinds share the content slots: a composed thread is content like a tweet (the thread day and time
 * are the autopilot thread loop's weekly rhythm, not a constraint on the user's own threads).
 */
import type Database from 'better-sqlite3';
import type { RuntimeConfig } from '../runtime/config.js';
import { lastPostAt, nextActiveAt, nextSlotAt } from '../runtime/pacing.js';

const DAY_MS = 86_400_000;

/** Times of our content posted in the last day, scheduled, or approved/pending with a planned time. */
export function takenContentTimes(db: Database.Database, now: number): number[] {
  return db
    .prepare<[{ since: number }], { at: number }>(
      `SELECT posted_at AS at FROM original_tweets WHERE posted_at >= @since
       UNION ALL SELECT p.posted_at FROM thread_tweets p WHERE p.position = 0 AND p.posted_at >= @since
       UNION ALL SELECT scheduled_for FROM scheduled_content WHERE status IN ('scheduled', 'posting') AND scheduled_for >= @since
       UNION ALL SELECT not_before FROM approval_queue
         WHERE kind IN ('tweet', 'thread') AND status IN ('pending', 'approved', 'posting') AND not_before >= @since`,
    )
    .all({ since: now - DAY_MS })
    .map((row) => row.at);
}

/**
 * The next `count` free slots from `now`, earliest first (fewer when none are left within 8 days).
 * `random` draws the slot jitter; the schedule view passes a constant to show slots at their nominal time.
 */
export function nextFreeSlots(db: Database.Database, config: RuntimeConfig, now: number, count: number, random: () => number = Math.random): number[] {
  const { schedule, pacing } = config;
  const taken = takenContentTimes(db, now);
  const slotMode = schedule.preferredTimes.length > 0 || Object.keys(schedule.preferredTimesOverride).length > 0;
  const slots: number[] = [];
  const last = lastPostAt(db);
  while (slots.length < count) {
    const slot = slotMode ? nextSlotAt(schedule, now, taken, random) : nextIntervalSlot(config, Math.max(now, last === null ? now : last + pacing.maxDelayMs), taken);
    if (slot === null) break;
    slots.push(slot);
    taken.push(slot);
  }
  return slots;
}

/** The earliest active time ≥ `from` with no taken time within one (longest) pacing pause. */
function nextIntervalSlot(config: RuntimeConfig, from: number, taken: readonly number[]): number | null {
  const gap = config.pacing.maxDelayMs;
  let candidate = nextActiveAt(config.schedule, from);
  for (const at of [...taken].sort((a, b) => a - b)) {
    if (candidate === null) return null;
    if (at <= candidate - gap) continue;
    if (at >= candidate + gap) break;
    candidate = nextActiveAt(config.schedule, at + gap);
  }
  return candidate;
}
