/**
 * Analytics, hourly and at any hour: a follower snapshot per tenant day (a drop of more than 2 % since
 * the previous day is an alert), then our posts a day to a week old measured once each — which feeds
 * content_scores and so the topic choice.
 */
import { DateTime } from 'luxon';
import type { JobDefinition } from '../../jobs.js';
import { logAction } from '../action-log.js';
import { runtimeEvent } from '../events.js';
import { dueForMeasurement, recordMeasurement } from '../topics.js';
import type { LoopDeps } from './deps.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';

const HOUR = 3_600_000;
const DROP_ALERT = 0.02;

export function analyticsJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'analytics',
    everyMs: HOUR,
    breaker: { threshold: 5, pauseMs: 600_000 },
    firstRunSpreadMs: RUNTIME_JOBS.analytics.firstRunSpreadMs,
    run: () =>
      guarded(deps, 'analytics', async () => {
        const g = gate(deps, 'analytics', 'analytics', { activeHours: false });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { config } = g;
        const { db } = deps;
        const now = deps.now();
        const client = deps.x().client()!;
        const me = await client.me();
        const day = DateTime.fromMillis(now, { zone: config.schedule.timezone }).toISODate()!;
        const followers = me.followers ?? 0;
        const previous = db.prepare<[string], { followers: number }>('SELECT followers FROM follower_snapshots WHERE day < ? ORDER BY day DESC LIMIT 1').get(day);
        const known = db.prepare<[string], { followers: number }>('SELECT followers FROM follower_snapshots WHERE day = ?').get(day);
        db.prepare(
          'INSERT INTO follower_snapshots (day, followers, following, tweets, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (day) DO UPDATE SET followers = excluded.followers, following = excluded.following, tweets = excluded.tweets, at = excluded.at',
        ).run(day, followers, me.following ?? 0, me.tweetCount ?? 0, now);
        const change = previous ? followers - previous.followers : null;
        const dropPercent = previous && previous.followers > 0 && change !== null && change < 0 ? (-change / previous.followers) * 100 : undefined;
        if (!known || known.followers !== followers) {
          deps.emit(runtimeEvent('FollowerUpdate', now, { followers, change, following: me.following ?? 0, ...(dropPercent !== undefined && { dropPercent }) }));
        }
        // Once a day: the first snapshot of the day that shows it.
        if (dropPercent !== undefined && dropPercent > DROP_ALERT * 100 && (!known || known.followers >= previous!.followers * (1 - DROP_ALERT))) {
          logAction(db, now, { action: 'analytics', status: 'alert', source: 'system', message: `Follower drop: ${previous!.followers} → ${followers} (−${dropPercent.toFixed(1)} %).`, data: { from: previous!.followers, to: followers } });
        }
        let measured = 0;
        for (const due of dueForMeasurement(db, now, 20)) {
          const post = await client.post(due.tweetId);
          recordMeasurement(db, due, post?.metrics ?? null, deps.now());
          measured++;
        }
        logAction(db, now, { action: 'analytics', status: 'success', source: 'system', message: `${followers} followers; ${measured} post${measured === 1 ? '' : 's'} measured.`, data: { followers, measured } });
        return { nextRunAt: now + HOUR };
      }),
  };
}
