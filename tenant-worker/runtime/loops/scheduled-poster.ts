/**
 * Scheduled content: the user's own tweets and threads at the time they chose, posted in both modes
 * (scheduling was the decision; it is not queued again), inside the active hours, one per pacing
 * interval. A tweet claims the daily limit; a thread its weekly one and is posted as a real reply chain.
 */
import type { JobDefinition } from '../../jobs.js';
import { lastPostAt, nextPostAt } from '../pacing.js';
import { attachScheduledThread, deferScheduled, nextScheduledAt, nextScheduledDue, resumableScheduledThread } from '../scheduled.js';
import { createThread } from '../threads.js';
import type { LoopDeps } from './deps.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';
import { nextWindowStart, postThreadParts, publish, reconcileOpenIntents, type Published } from './posting.js';

const IDLE_MS = 5 * 60_000;

export function scheduledPosterJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'scheduled-poster',
    everyMs: IDLE_MS,
    firstRunSpreadMs: RUNTIME_JOBS['scheduled-poster'].firstRunSpreadMs,
    run: () =>
      guarded(deps, 'scheduled-poster', async () => {
        const g = gate(deps, 'scheduled-poster', 'tweet', { activeHours: true });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { config, self } = g;
        const { db } = deps;
        const now = deps.now();
        await reconcileOpenIntents(deps, self.id);
        const item = resumableScheduledThread(db) ?? nextScheduledDue(db, now);
        if (!item) return { nextRunAt: Math.min(nextScheduledAt(db) ?? Infinity, now + IDLE_MS) };
        const at = nextPostAt(lastPostAt(db), now, config.pacing, deps.random);
        if (at > now) return { nextRunAt: at };
        let posted: Published;
        if (item.kind === 'thread') {
          let threadId = item.threadId;
          if (threadId === null) {
            const created = createThread(deps, { parts: item.content as string[], topic: item.topic, source: 'scheduled', scheduledId: item.id, weeklyLimit: config.limits.maxThreadsPerWeek });
            if (!created.ok) {
              deferScheduled(deps, item.id, nextWindowStart(deps, 'thread'), created.message);
              return { nextRunAt: deps.now() + 60_000 };
            }
            threadId = created.value;
            attachScheduledThread(db, item.id, threadId);
          }
          posted = await postThreadParts(deps, threadId, { source: 'scheduled', scheduledId: item.id }, item.media);
        } else {
          posted = await publish(deps, {
            kind: 'tweet',
            text: item.content as string,
            source: 'scheduled',
            scheduledId: item.id,
            claim: { kind: 'tweet', userSetting: config.limits.maxTweetsPerDay },
            details: { topic: item.topic },
          }, item.media);
        }
        if (!posted.ok && (posted.code === 'limit_reached' || posted.code === 'x_budget')) {
          deferScheduled(deps, item.id, posted.code === 'limit_reached' ? nextWindowStart(deps, item.kind) : deps.now() + 3_600_000, posted.message);
          return { nextRunAt: deps.now() + 60_000 };
        }
        return { nextRunAt: nextPostAt(deps.now(), deps.now(), config.pacing, deps.random) };
      }),
  };
}
