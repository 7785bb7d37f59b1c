/**
 * When the runtime may act: the 45–180 s spacing between posts, the active hours and days in the
 * tenant's IANA zone, and the preferred posting slots. Pure functions of the schedule and a clock,
 * computed with luxon in the tenant's zone, so DST days have 23 or 25 hours as they should.
 *
 * Decisions where the reference was silent or odd:
 *   - start == end means active all day (the reference made it "never active", which nobody sets on
 *     purpose; turning automation off is what the mode and the limits are for);
 *   - in a window that wraps midnight (22–06) the hours after midnight belong to the day the window
 *     opened: with active days Mon–Fri, Friday 22:00 to Saturday 06:00 is active, Sunday night is not;
 *   - "next active" is exact to the minute, not rounded to whole hours;
 *   - a preferred slot outside the active hours is skipped, so nothing is posted outside them.
 */
import type Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { WEEKDAYS, type Schedule, type Weekday } from './config.js';

const SLOT_JITTER_MS = 15 * 60_000;
/** A slot counts as used when something was posted this close to it. */
const SLOT_USED_WITHIN_MS = 30 * 60_000;
const LOOKAHEAD_DAYS = 8;

/** A uniform pause in [min, max] (the pacing between posts and the jitter of every loop tick). */
export function actionDelayMs(pacing: { minDelayMs: number; maxDelayMs: number }, random: () => number = Math.random): number {
  const low = Math.min(pacing.minDelayMs, pacing.maxDelayMs);
  const high = Math.max(pacing.minDelayMs, pacing.maxDelayMs);
  return low + Math.floor(random() * (high - low + 1));
}

/** The earliest time the next post may go out: a jittered pause after the previous one. */
export function nextPostAt(lastPostAt: number | null, now: number, pacing: { minDelayMs: number; maxDelayMs: number }, random: () => number = Math.random): number {
  if (lastPostAt === null) return now;
  return Math.max(now, lastPostAt + actionDelayMs(pacing, random));
}

/** When we last posted anything (reply, tweet, thread part), or null. */
export function lastPostAt(db: Database.Database): number | null {
  return db
    .prepare<[], { at: number | null }>(
      `SELECT max(at) AS at FROM (
         SELECT max(posted_at) AS at FROM replies
         UNION ALL SELECT max(posted_at) FROM original_tweets
         UNION ALL SELECT max(posted_at) FROM thread_tweets)`,
    )
    .get()!.at;
}

function weekdayOf(local: DateTime): Weekday {
  return WEEKDAYS[local.weekday - 1]!;
}

export function isActiveAt(schedule: Schedule, at: number): boolean {
  const local = DateTime.fromMillis(at, { zone: schedule.timezone });
  const { activeHoursStart: start, activeHoursEnd: end } = schedule;
  const days = new Set(schedule.activeDays);
  if (start === end) return days.has(weekdayOf(local));
  if (start < end) return days.has(weekdayOf(local)) && local.hour >= start && local.hour < end;
  if (local.hour >= start) return days.has(weekdayOf(local));
  if (local.hour < end) return days.has(weekdayOf(local.minus({ days: 1 })));
  return false;
}

/** `at` itself when active, else the start of the next active window; null if none within 8 days. */
export function nextActiveAt(schedule: Schedule, at: number): number | null {
  if (isActiveAt(schedule, at)) return at;
  const today = DateTime.fromMillis(at, { zone: schedule.timezone }).startOf('day');
  const openingHour = schedule.activeHoursStart === schedule.activeHoursEnd ? 0 : schedule.activeHoursStart;
  for (let d = 0; d <= LOOKAHEAD_DAYS; d++) {
    // On a spring-forward day an hour that does not exist moves forward, as the clock does.
    const opening = today.plus({ days: d }).set({ hour: openingHour, minute: 0, second: 0, millisecond: 0 }).toMillis();
    if (opening > at && isActiveAt(schedule, opening)) return opening;
  }
  return null;
}

/** The preferred slots of a local day: the weekday's override if it has one (empty = no posts that day). */
export function slotsOn(schedule: Schedule, day: DateTime): number[] {
  const local = day.setZone(schedule.timezone).startOf('day');
  const times = schedule.preferredTimesOverride[weekdayOf(local)] ?? schedule.preferredTimes;
  return times.map((time) => {
    const [hour, minute] = time.split(':').map(Number) as [number, number];
    return local.set({ hour, minute }).toMillis();
  });
}

/**
 * The next preferred slot that is free (nothing posted within ±30 min of it), active, and not past,
 * jittered ±15 min and never before `now`; null in interval mode or when none is found within 8 days.
 */
export function nextSlotAt(schedule: Schedule, now: number, postedAts: readonly number[], random: () => number = Math.random): number | null {
  if (schedule.preferredTimes.length === 0 && Object.keys(schedule.preferredTimesOverride).length === 0) return null;
  const today = DateTime.fromMillis(now, { zone: schedule.timezone }).startOf('day');
  for (let d = 0; d <= LOOKAHEAD_DAYS; d++) {
    for (const slot of slotsOn(schedule, today.plus({ days: d })).sort((a, b) => a - b)) {
      if (slot + SLOT_JITTER_MS < now) continue;
      if (postedAts.some((at) => Math.abs(at - slot) <= SLOT_USED_WITHIN_MS)) continue;
      if (!isActiveAt(schedule, slot)) continue;
      return Math.max(now, slot + Math.round((random() * 2 - 1) * SLOT_JITTER_MS));
    }
  }
  return null;
}

/** Thread slot mode: the next preferred weekday and time after `now`, jittered ±15 min; null in interval mode. */
export function nextThreadSlotAt(schedule: Schedule, now: number, random: () => number = Math.random): number | null {
  if (schedule.threadPreferredDay === null) return null;
  const [hour, minute] = schedule.threadPreferredTime.split(':').map(Number) as [number, number];
  const today = DateTime.fromMillis(now, { zone: schedule.timezone }).startOf('day');
  for (let d = 0; d <= 7; d++) {
    const day = today.plus({ days: d });
    if (weekdayOf(day) !== schedule.threadPreferredDay) continue;
    const slot = day.set({ hour, minute }).toMillis();
    if (slot + SLOT_JITTER_MS < now) continue;
    return Math.max(now, slot + Math.round((random() * 2 - 1) * SLOT_JITTER_MS));
  }
  return null;
}

/** Interval mode: the previous post plus the interval plus a tick's jitter; soon (one pause) when there was none. */
export function nextIntervalRun(lastAt: number | null, now: number, intervalMs: number, pacing: { minDelayMs: number; maxDelayMs: number }, random: () => number = Math.random): number {
  const jitter = actionDelayMs(pacing, random);
  return lastAt === null ? now + jitter : Math.max(now, lastAt + intervalMs + jitter);
}
