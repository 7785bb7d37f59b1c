/**
 * The approval poster: posts approved items, one per pacing interval, inside the active hours. Each
 * post claims its limit like every other path; an item with no room (limit, X allowance) is deferred
 * without spending an attempt; a failure backs off (1, 2, 4, 8 min) and the 5th — or one no retry can
 * fix — leaves the item `failed` with its error for the user. Approved threads are posted as reply
 * chains and resume where they stopped. Pending replies expire after a day.
 */
import type { JobDefinition } from '../../jobs.js';
import { attachThread, deferApproval, expireStaleReplies, getApproval, nextApprovedAt, nextApprovedDue, type ApprovalItem } from '../approvals.js';
import type { RuntimeConfig } from '../config.js';
import { lastPostAt, nextPostAt } from '../pacing.js';
import { createThread } from '../threads.js';
import type { LoopDeps } from './deps.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';
import { nextWindowStart, postThreadParts, publish, reconcileOpenIntents, type Published } from './posting.js';

/** Approving an item wakes the poster (approvals.approve); this is only its idle poll. */
const IDLE_MS = 5 * 60_000;

export function approvalPosterJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'approval-poster',
    everyMs: IDLE_MS,
    firstRunSpreadMs: RUNTIME_JOBS['approval-poster'].firstRunSpreadMs,
    run: () =>
      guarded(deps, 'approval-poster', async () => {
        const g = gate(deps, 'approval-poster', 'reply', { activeHours: true });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { config, self } = g;
        const { db } = deps;
        const now = deps.now();
        expireStaleReplies(deps);
        await reconcileOpenIntents(deps, self.id);
        const idle = () => ({ nextRunAt: Math.min(nextApprovedAt(db) ?? Infinity, deps.now() + IDLE_MS) });
        const item = resumableThreadItem(deps) ?? nextApprovedDue(db, now);
        if (!item) return idle();
        const at = nextPostAt(lastPostAt(db), now, config.pacing, deps.random);
        if (at > now) return { nextRunAt: at };
        const posted = await postItem(deps, config, item);
        if (!posted.ok && (posted.code === 'limit_reached' || posted.code === 'x_budget')) {
          const kind = item.kind;
          deferApproval(deps, item.id, posted.code === 'limit_reached' ? nextWindowStart(deps, kind) : deps.now() + 3_600_000, posted.message);
          return { nextRunAt: deps.now() + 60_000 };
        }
        // Whatever happened, the next item waits for the pacing after this one (a post or an attempt).
        return { nextRunAt: nextPostAt(deps.now(), deps.now(), config.pacing, deps.random) };
      }),
  };
}

/** A thread item whose last part went out before a crash stopped the chain: `posting`, nothing open. */
function resumableThreadItem(deps: LoopDeps): ApprovalItem | null {
  const row = deps.db
    .prepare<[], { id: number }>(
      "SELECT id FROM approval_queue q WHERE status = 'posting' AND thread_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM post_intents WHERE approval_id = q.id AND status = 'pending') ORDER BY id LIMIT 1",
    )
    .get();
  return row ? getApproval(deps.db, row.id) : null;
}

async function postItem(deps: LoopDeps, config: RuntimeConfig, item: ApprovalItem): Promise<Published> {
  if (item.kind === 'thread') {
    let threadId = item.threadId;
    if (threadId === null) {
      const created = createThread(deps, {
        parts: item.content as string[],
        topic: item.topic,
        structure: item.format,
        source: item.source === 'thread' ? 'content' : 'manual',
        approvalId: item.id,
        weeklyLimit: config.limits.maxThreadsPerWeek,
      });
      if (!created.ok) return { ok: false, code: 'limit_reached', message: created.message, retryable: true };
      threadId = created.value;
      attachThread(deps.db, item.id, threadId);
    }
    return postThreadParts(deps, threadId, { source: 'approval', approvalId: item.id }, item.media);
  }
  const text = item.content as string;
  if (item.kind === 'reply') {
    return publish(deps, {
      kind: 'reply',
      text,
      inReplyTo: item.target?.tweetId ?? null,
      source: replySource(item),
      approvalId: item.id,
      claim: { kind: 'reply', userSetting: config.limits.maxRepliesPerDay },
      details: {
        targetAuthorId: item.target?.authorId ?? '',
        targetAuthorUsername: item.target?.authorUsername ?? '',
        score: item.score,
        format: item.format,
        mentionsProduct: item.mentionsProduct,
      },
    }, item.media);
  }
  return publish(deps, {
    kind: 'tweet',
    text,
    source: item.source === 'content' ? 'content' : 'manual',
    approvalId: item.id,
    claim: { kind: 'tweet', userSetting: config.limits.maxTweetsPerDay },
    details: { topic: item.topic, format: item.format },
  }, item.media);
}

function replySource(item: ApprovalItem): 'discovery' | 'mention' | 'target' | 'manual' {
  return item.source === 'discovery' || item.source === 'mention' || item.source === 'target' ? item.source : 'manual';
}
