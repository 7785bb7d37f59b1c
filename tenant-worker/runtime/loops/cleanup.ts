/**
 * Retention, daily: what the runtime only needed for a while goes; what the reports and the "never
 * twice" rules read stays. Posts we never answered go after 7 days (they are stale as candidates);
 * answered ones, settled intents, finished approval items and the action log after `retention.days`;
 * yesterday's paid-for read ids at once. Our own replies, tweets and threads are kept: they are the
 * record the reports and the dedup read.
 */
import type { JobDefinition } from '../../jobs.js';
import { logAction } from '../action-log.js';
import type { LoopDeps } from './deps.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';

const DAY = 86_400_000;
const UNANSWERED_DAYS = 7;

export function cleanupJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'cleanup',
    everyMs: DAY,
    jitterMs: 3_600_000,
    firstRunSpreadMs: RUNTIME_JOBS.cleanup.firstRunSpreadMs,
    run: () =>
      guarded(deps, 'cleanup', async () => {
        const g = gate(deps, 'cleanup', 'cleanup', { activeHours: false, needsX: false });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { db } = deps;
        const now = deps.now();
        const keep = now - g.config.retentionDays * DAY;
        const removed = db.transaction(() => {
          let n = 0;
          n += db.prepare("DELETE FROM discovered_tweets WHERE status NOT IN ('queued', 'replied') AND discovered_at < ?").run(now - UNANSWERED_DAYS * DAY).changes;
          n += db.prepare('DELETE FROM discovered_tweets WHERE discovered_at < ?').run(keep).changes;
          n += db.prepare("DELETE FROM post_intents WHERE status <> 'pending' AND settled_at < ?").run(keep).changes;
          n += db.prepare("DELETE FROM approval_queue WHERE status IN ('posted', 'rejected', 'expired') AND updated_at < ?").run(keep).changes;
          n += db.prepare('DELETE FROM action_log WHERE at < ?').run(keep).changes;
          return n;
        })();
        deps.x().budget.forgetOldReads();
        logAction(db, now, { action: 'cleanup', status: 'success', source: 'system', message: `Removed ${removed} old rows.`, data: { removed } });
        return { nextRunAt: now + DAY };
      }),
  };
}
