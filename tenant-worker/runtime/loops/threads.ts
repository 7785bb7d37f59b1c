/**
 * Threads: 5–8 tweets on an epsilon-greedy topic, every `intervals.thread` (or at the preferred weekday
 * and time), through the approval queue when approval mode is on — the reference posted them directly,
 * which bypassed the user's decision. Posted as a reply chain, part by part, each through its own
 * intent; a thread a crash interrupted resumes at its first unposted part.
 */
import type Database from 'better-sqlite3';
import type { JobDefinition } from '../../jobs.js';
import { enqueueApproval } from '../approvals.js';
import { recordSkip } from '../action-log.js';
import { bannedPhraseIn, limitVerdict, queuedCount } from '../guards.js';
import { lastPostAt, nextPostAt, nextThreadSlotAt } from '../pacing.js';
import { intervalDue, keptSlot } from './cadence.js';
import { createThread } from '../threads.js';
import { pickTopic, recentTopics, topicScores } from '../topics.js';
import type { LoopDeps } from './deps.js';
import { clearCursor } from './discovered.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';
import { nextWindowStart, postThreadParts, reconcileOpenIntents } from './posting.js';
import { contentGenerator } from './replying.js';

const SLOT_CURSOR = 'thread:slot';

export function threadsJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'threads',
    everyMs: 86_400_000,
    jitterMs: 180_000,
    firstRunSpreadMs: RUNTIME_JOBS.threads.firstRunSpreadMs,
    run: () =>
      guarded(deps, 'threads', async () => {
        const g = gate(deps, 'threads', 'thread', { activeHours: true, autopilotOnly: true, needsLlm: true });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { config, self } = g;
        const { db } = deps;
        const now = deps.now();
        await reconcileOpenIntents(deps, self.id);
        // A direct thread that a crash interrupted goes on first (its week's claim is already taken).
        const interrupted = db
          .prepare<[], { id: number }>(
            "SELECT id FROM threads t WHERE status = 'posting' AND approval_id IS NULL AND scheduled_id IS NULL AND NOT EXISTS (SELECT 1 FROM post_intents WHERE thread_id = t.id AND status = 'pending') ORDER BY id LIMIT 1",
          )
          .get();
        if (interrupted) {
          await postThreadParts(deps, interrupted.id, { source: 'thread' });
          return { nextRunAt: nextPostAt(deps.now(), deps.now(), config.pacing, deps.random) };
        }
        if (config.business.industryTopics.length === 0 || config.limits.maxThreadsPerWeek === 0) return { nextRunAt: now + 86_400_000 };
        const due =
          config.schedule.threadPreferredDay !== null
            ? keptSlot(db, SLOT_CURSOR, now, () => nextThreadSlotAt(config.schedule, now, deps.random))
            : intervalDue(lastThreadAt(db), now, config.intervals.threadMs, config.pacing, deps.random);
        if (due === null) return { nextRunAt: now + 86_400_000 };
        if (due > now) return { nextRunAt: due };
        const room = limitVerdict('thread', deps.limits.usage('thread', config.limits.maxThreadsPerWeek), queuedCount(db, 'thread'));
        if (!room.ok) {
          recordSkip(deps, { action: 'thread', source: 'thread', reason: room.reason, detail: room.detail });
          clearCursor(db, SLOT_CURSOR);
          return { nextRunAt: nextWindowStart(deps, 'thread') };
        }
        const direct = !config.effectiveApprovalMode;
        if (direct) {
          const at = nextPostAt(lastPostAt(db), now, config.pacing, deps.random);
          if (at > now) return { nextRunAt: at };
        }
        const generator = contentGenerator(deps, config)!;
        const choice = pickTopic({ topics: config.business.industryTopics, scores: topicScores(db), recent: recentTopics(db), random: deps.random })!;
        const recentStructures = db.prepare<[], { structure: string }>('SELECT structure FROM threads WHERE structure IS NOT NULL ORDER BY id DESC LIMIT 3').all().map((row) => row.structure);
        const thread = await generator.thread(choice.topic, { recentStructures });
        const banned = thread.tweets.map((part) => bannedPhraseIn(part, config.limits.bannedPhrases)).find((phrase) => phrase !== null);
        clearCursor(db, SLOT_CURSOR);
        if (banned) {
          recordSkip(deps, { action: 'thread', source: 'thread', reason: 'banned_phrase', detail: `The thread contains the banned phrase "${banned}".` });
          return { nextRunAt: now + 3_600_000 };
        }
        if (!direct) {
          enqueueApproval(deps, { kind: 'thread', content: thread.tweets, source: 'thread', topic: choice.topic, format: thread.structure });
          return {};
        }
        const created = createThread(deps, { parts: thread.tweets, topic: choice.topic, structure: thread.structure, source: 'content', weeklyLimit: config.limits.maxThreadsPerWeek });
        if (!created.ok) {
          recordSkip(deps, { action: 'thread', source: 'thread', reason: 'limit_reached', detail: created.message });
          return { nextRunAt: nextWindowStart(deps, 'thread') };
        }
        await postThreadParts(deps, created.value, { source: 'thread' });
        return {};
      }),
  };
}

function lastThreadAt(db: Database.Database): number | null {
  return db
    .prepare<[], { at: number | null }>(
      `SELECT max(at) AS at FROM (
         SELECT max(created_at) AS at FROM threads WHERE source = 'content'
         UNION ALL SELECT max(created_at) FROM approval_queue WHERE kind = 'thread' AND source = 'thread' AND status NOT IN ('rejected', 'expired'))`,
    )
    .get()!.at;
}
