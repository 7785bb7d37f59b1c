/**
 * Threads as reply chains, posted part by part.
 *
 * A thread row and all its parts are written before the first part is posted, with the weekly thread
 * claim in the same transaction. Each part is then posted through its own intent (intents.ts), which
 * stores its X id the moment X answers; the next part replies to the previous part's id. A thread that
 * stopped (a failure or a crash) resumes at its first unposted part, so no part is ever sent twice.
 */
import type Database from 'better-sqlite3';
import type { RuntimeContext, Result } from './context.js';
import { fail, ok } from './context.js';

export interface NewThread {
  parts: string[];
  topic?: string | null;
  structure?: string | null;
  source: 'content' | 'scheduled' | 'manual';
  approvalId?: number | null;
  scheduledId?: number | null;
  /** The user's weekly thread setting; the plan ceiling is applied by ActionLimits. */
  weeklyLimit: number | null;
}

export interface ThreadPart {
  threadId: number;
  position: number;
  content: string;
  /** The previous part's X id; null for the first part. */
  replyTo: string | null;
}

/** Claims the weekly thread limit and writes the thread with its parts, in one transaction. */
export function createThread(context: RuntimeContext, thread: NewThread): Result<number, 'limit_reached' | 'empty'> {
  if (thread.parts.length === 0) return fail('empty', 'A thread needs at least one part.');
  return context.db
    .transaction((): Result<number, 'limit_reached'> => {
      const claim = context.limits.claim('thread', thread.weeklyLimit, null);
      if (!claim.claimed) return fail('limit_reached', `The weekly thread limit is reached (${claim.used} of ${claim.limit}).`);
      const now = context.now();
      const id = Number(
        context.db
          .prepare(
            `INSERT INTO threads (topic, structure, source, status, tweet_count, approval_id, scheduled_id, claim_id, created_at, updated_at)
             VALUES (?, ?, ?, 'posting', ?, ?, ?, ?, ?, ?)`,
          )
          .run(thread.topic ?? null, thread.structure ?? null, thread.source, thread.parts.length, thread.approvalId ?? null, thread.scheduledId ?? null, claim.id, now, now).lastInsertRowid,
      );
      const part = context.db.prepare('INSERT INTO thread_tweets (thread_id, position, content) VALUES (?, ?, ?)');
      thread.parts.forEach((content, position) => part.run(id, position, content));
      context.db.prepare('UPDATE action_claims SET ref = ? WHERE id = ?').run(`thread:${id}`, claim.id);
      return ok(id);
    })
    .immediate();
}

/** The next part to post, or null when every part is live. */
export function nextThreadPart(db: Database.Database, threadId: number): ThreadPart | null {
  const next = db
    .prepare<[number], { position: number; content: string }>('SELECT position, content FROM thread_tweets WHERE thread_id = ? AND tweet_id IS NULL ORDER BY position LIMIT 1')
    .get(threadId);
  if (!next) return null;
  const previous = db
    .prepare<[number, number], { tweet_id: string | null }>('SELECT tweet_id FROM thread_tweets WHERE thread_id = ? AND position = ?')
    .get(threadId, next.position - 1);
  return { threadId, position: next.position, content: next.content, replyTo: previous?.tweet_id ?? null };
}

export interface ThreadState {
  id: number;
  status: 'posting' | 'posted' | 'partial' | 'failed';
  tweetCount: number;
  postedCount: number;
  rootTweetId: string | null;
  lastError: string | null;
  parts: { position: number; content: string; tweetId: string | null }[];
}

export function getThread(db: Database.Database, id: number): ThreadState | null {
  const row = db
    .prepare<[number], { id: number; status: ThreadState['status']; tweet_count: number; posted_count: number; root_tweet_id: string | null; last_error: string | null }>(
      'SELECT id, status, tweet_count, posted_count, root_tweet_id, last_error FROM threads WHERE id = ?',
    )
    .get(id);
  if (!row) return null;
  const parts = db
    .prepare<[number], { position: number; content: string; tweet_id: string | null }>('SELECT position, content, tweet_id FROM thread_tweets WHERE thread_id = ? ORDER BY position')
    .all(id)
    .map((part) => ({ position: part.position, content: part.content, tweetId: part.tweet_id }));
  return { id: row.id, status: row.status, tweetCount: row.tweet_count, postedCount: row.posted_count, rootTweetId: row.root_tweet_id, lastError: row.last_error, parts };
}
