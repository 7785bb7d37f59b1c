/**
 * Original tweets. Interval mode: one tweet `intervals.content` after the previous one (posted or
 * queued), jittered. Slot mode (preferred times): at the next free slot, ±15 min, chosen once and kept
 * in a cursor so the jitter is not re-drawn every run. The topic is epsilon-greedy over measured
 * performance; the text passes the text guards (one regeneration, then dropped).
 */
import type Database from 'better-sqlite3';
import type { JobDefinition } from '../../jobs.js';
import { enqueueApproval } from '../approvals.js';
import { recordSkip } from '../action-log.js';
import { checkText, limitVerdict, queuedCount } from '../guards.js';
import { lastPostAt, nextPostAt, nextSlotAt } from '../pacing.js';
import { intervalDue, keptSlot } from './cadence.js';
import { pickTopic, recentTopics, topicScores } from '../topics.js';
import type { LoopDeps } from './deps.js';
import { clearCursor } from './discovered.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';
import { nextWindowStart, publish, reconcileOpenIntents } from './posting.js';
import { contentGenerator } from './replying.js';

const SLOT_CURSOR = 'content:slot';

export function contentJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'content',
    everyMs: 10_800_000,
    jitterMs: 180_000,
    firstRunSpreadMs: RUNTIME_JOBS.content.firstRunSpreadMs,
    run: () =>
      guarded(deps, 'content', async () => {
        const g = gate(deps, 'content', 'tweet', { activeHours: true, autopilotOnly: true, needsLlm: true });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { config, self } = g;
        const { db } = deps;
        const now = deps.now();
        if (config.business.industryTopics.length === 0 || config.limits.maxTweetsPerDay === 0) return { nextRunAt: now + config.intervals.contentMs };
        const slotMode = config.schedule.preferredTimes.length > 0 || Object.keys(config.schedule.preferredTimesOverride).length > 0;
        const due = slotMode
          ? keptSlot(db, SLOT_CURSOR, now, () => nextSlotAt(config.schedule, now, tweetTimes(db, now), deps.random))
          : intervalDue(lastTweetAt(db), now, config.intervals.contentMs, config.pacing, deps.random);
        if (due === null) return { nextRunAt: now + 3_600_000 };
        if (due > now) return { nextRunAt: due };
        const room = limitVerdict('tweet', deps.limits.usage('tweet', config.limits.maxTweetsPerDay), queuedCount(db, 'tweet'));
        if (!room.ok) {
          recordSkip(deps, { action: 'tweet', source: 'content', reason: room.reason, detail: room.detail });
          clearCursor(db, SLOT_CURSOR);
          return { nextRunAt: nextWindowStart(deps, 'tweet') };
        }
        const direct = !config.effectiveApprovalMode;
        if (direct) {
          await reconcileOpenIntents(deps, self.id);
          const at = nextPostAt(lastPostAt(db), now, config.pacing, deps.random);
          if (at > now) return { nextRunAt: at };
        }
        const generator = contentGenerator(deps, config)!;
        const choice = pickTopic({ topics: config.business.industryTopics, scores: topicScores(db), recent: recentTopics(db), random: deps.random })!;
        const recentFormats = db.prepare<[], { format: string }>("SELECT format FROM original_tweets WHERE format IS NOT NULL ORDER BY posted_at DESC LIMIT 5").all().map((row) => row.format);
        let text = '';
        let format = '';
        for (let attempt = 0; ; attempt++) {
          const tweet = await generator.tweet(choice.topic, { recentFormats });
          text = tweet.text;
          format = tweet.format;
          const verdict = checkText(db, text, { kind: 'tweet', bannedPhrases: config.limits.bannedPhrases, attempt });
          if (verdict.ok) break;
          if (!verdict.regenerate) {
            recordSkip(deps, { action: 'tweet', source: 'content', reason: verdict.reason, detail: verdict.detail });
            return { nextRunAt: now + 15 * 60_000 };
          }
        }
        clearCursor(db, SLOT_CURSOR);
        if (!direct) {
          enqueueApproval(deps, { kind: 'tweet', content: text, source: 'content', topic: choice.topic, format });
          return {};
        }
        const posted = await publish(deps, { kind: 'tweet', text, source: 'content', claim: { kind: 'tweet', userSetting: config.limits.maxTweetsPerDay }, details: { topic: choice.topic, format } });
        if (!posted.ok && posted.code === 'x_budget') recordSkip(deps, { action: 'tweet', source: 'content', reason: 'x_budget', detail: posted.message });
        return {};
      }),
  };
}

/** Our latest tweet from this job, posted or waiting for approval. */
function lastTweetAt(db: Database.Database): number | null {
  return db
    .prepare<[], { at: number | null }>(
      `SELECT max(at) AS at FROM (
         SELECT max(posted_at) AS at FROM original_tweets
         UNION ALL SELECT max(created_at) FROM approval_queue WHERE kind = 'tweet' AND source = 'content' AND status NOT IN ('rejected', 'expired'))`,
    )
    .get()!.at;
}

/** When our tweets of the last two days went out or were queued (the slots they used). */
function tweetTimes(db: Database.Database, now: number): number[] {
  return db
    .prepare<[number, number], { at: number }>(
      `SELECT posted_at AS at FROM original_tweets WHERE posted_at >= ?
       UNION ALL SELECT created_at FROM approval_queue WHERE kind = 'tweet' AND source = 'content' AND created_at >= ? AND status NOT IN ('rejected', 'expired')`,
    )
    .all(now - 2 * 86_400_000, now - 2 * 86_400_000)
    .map((row) => row.at);
}
