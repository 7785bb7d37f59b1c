/**
 * Target accounts: the accounts the user listed in the dashboard (table `target_accounts`, by
 * username), resolved to X ids and validated against X here. One account per run, the one checked
 * longest ago; its new posts (since its own since_id, no retweets or replies) are stored and at most one
 * is answered, under the target-reply cap.
 */
import type { JobDefinition } from '../../jobs.js';
import { logAction } from '../action-log.js';
import { actionDelayMs } from '../pacing.js';
import { answerAll } from './answer-all.js';
import type { LoopDeps } from './deps.js';
import { freshCandidates, storeDiscovered } from './discovered.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';
import { reconcileOpenIntents } from './posting.js';

interface TargetRow {
  id: number;
  username: string;
  x_user_id: string | null;
  status: 'unresolved' | 'active' | 'not_found';
  since_id: string | null;
}

export function targetsJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'targets',
    everyMs: 900_000,
    jitterMs: 180_000,
    firstRunSpreadMs: RUNTIME_JOBS.targets.firstRunSpreadMs,
    run: () =>
      guarded(deps, 'targets', async () => {
        const g = gate(deps, 'targets', 'targets', { activeHours: true, autopilotOnly: true, needsLlm: true });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { config, self } = g;
        const { db } = deps;
        const now = deps.now();
        const regular = now + config.intervals.targetsMs + actionDelayMs(config.pacing, deps.random);
        if (config.limits.maxTargetRepliesPerDay === 0) return { nextRunAt: regular };
        const target = db
          .prepare<[], TargetRow>("SELECT id, username, x_user_id, status, since_id FROM target_accounts WHERE status <> 'not_found' ORDER BY coalesce(last_checked_at, 0), id LIMIT 1")
          .get();
        if (!target) return { nextRunAt: regular };
        await reconcileOpenIntents(deps, self.id);
        const client = deps.x().client()!;
        db.prepare('UPDATE target_accounts SET last_checked_at = ? WHERE id = ?').run(now, target.id);
        let userId = target.x_user_id;
        if (userId === null) {
          const user = await client.userByUsername(target.username);
          if (!user) {
            db.prepare("UPDATE target_accounts SET status = 'not_found', resolved_at = ? WHERE id = ?").run(now, target.id);
            logAction(db, now, { action: 'targets', status: 'failure', source: 'target', message: `@${target.username} does not exist on X.` });
            return { nextRunAt: regular };
          }
          userId = user.id;
          db.prepare("UPDATE target_accounts SET x_user_id = ?, username = ?, status = 'active', resolved_at = ? WHERE id = ?").run(user.id, user.username, now, target.id);
        }
        const page = await client.userPosts(userId, { maxResults: 5, exclude: ['retweets', 'replies'], ...(target.since_id && { sinceId: target.since_id }) });
        if (page.newestId) db.prepare('UPDATE target_accounts SET since_id = ? WHERE id = ?').run(page.newestId, target.id);
        for (const post of page.posts) storeDiscovered(deps, post, { source: 'target', targetAccountId: target.id });
        const candidates = freshCandidates(db, 'target', now).filter((candidate) => candidate.authorId === userId);
        const until = await answerAll(deps, config, self, candidates, 'target', { maxAnswers: 1 });
        return { nextRunAt: until === null ? regular : Math.min(regular, until) };
      }),
  };
}
