/**
 * The weekly strategy report, stored once per closed week. It runs on Tuesday 06:00 in the tenant's
 * zone rather than at the stroke of Monday: posts are measured from 24 h after posting, so only by then
 * has Sunday evening's work a score, and the report would otherwise judge the week without its end.
 * A report the user refreshed while the week ran is replaced by the complete one; a complete one is
 * never recomputed, so a second run (a restart, a woken tenant) changes nothing. Weeks in which nothing
 * happened at all (before the tenant started) get no report. Needs no X and no active hours.
 */
import { DateTime } from 'luxon';
import type { JobDefinition } from '../../jobs.js';
import { logAction } from '../action-log.js';
import { weeklySummaryEvent } from '../notifications.js';
import { computeReport, previousWeek, storedReport, storeReport, weekHadActivity, weekOf, type Week } from '../strategy.js';
import type { LoopDeps } from './deps.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';

const HOUR = 3_600_000;
/** A fleet in one zone does not wake at one instant. */
const JITTER_MS = HOUR;

/** When the report of `week` is written: the Tuesday after it, 06:00 local. */
export function reportDueAt(week: Week): number {
  return DateTime.fromMillis(week.weekEnd, { zone: week.timeZone }).plus({ days: 1 }).set({ hour: 6, minute: 0, second: 0, millisecond: 0 }).toMillis();
}

/** The latest week whose report is due at `now`. */
export function weekToReport(now: number, zone: string): Week {
  const last = previousWeek(weekOf(now, zone));
  return reportDueAt(last) <= now ? last : previousWeek(last);
}

export function strategyJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'strategy',
    everyMs: 7 * 24 * HOUR,
    firstRunSpreadMs: RUNTIME_JOBS.strategy.firstRunSpreadMs,
    run: () =>
      guarded(deps, 'strategy', async () => {
        const g = gate(deps, 'strategy', 'strategy', { activeHours: false, needsX: false });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { db } = deps;
        const now = deps.now();
        const week = weekToReport(now, g.config.schedule.timezone);
        const stored = storedReport(db, week.weekStart);
        if (!stored?.complete && weekHadActivity(db, week)) {
          const report = computeReport(deps, g.config, week);
          db.transaction(() => {
            storeReport(db, report);
            logAction(db, now, {
              action: 'strategy',
              status: 'success',
              source: 'system',
              message: `Weekly report ${week.firstDay} – ${week.lastDay}: ${report.output.total} posts, followers ${report.followers.delta === null ? 'unknown' : report.followers.delta >= 0 ? `+${report.followers.delta}` : report.followers.delta}, ${report.recommendations.length} recommendation${report.recommendations.length === 1 ? '' : 's'}.`,
              data: { weekStart: week.weekStart, recommendations: report.recommendations.length },
            });
          })();
          // A complete report is written once, so its summary is mailed once (supervisor/notifications/).
          if (report.complete && g.config.notifications.weeklySummary) deps.emit(weeklySummaryEvent(db, report, now));
        }
        const following = weekOf(week.weekEnd, week.timeZone);
        return { nextRunAt: reportDueAt(following) + Math.floor(deps.random() * JITTER_MS) };
      }),
  };
}
