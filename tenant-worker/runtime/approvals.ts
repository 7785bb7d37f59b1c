/**
 * The approval queue: what the runtime (or the user's compose) wants to post, waiting for a decision.
 *
 *   pending ──approve──▶ approved ──poster──▶ posting ──▶ posted
 *      │                    │  ▲                 │
 *      │                    │  └─ passing error ─┘  (back-off, error shown)
 *      ├──reject──▶ rejected ◀── reject ── failed ◀─ final error or 5th failure
 *      └──(replies, 24 h)──▶ expired           └─ retry ─▶ approved
 *
 * Posting itself (approved → posting → posted | approved | failed) happens through intents.ts, which
 * holds the crash-safety; this module owns the user's side and the poster's choice of what is next.
 * Every change emits ApprovalQueued or ApprovalUpdated after it commits.
 */
import type Database from 'better-sqlite3';
import { fail, ok, transact, type Result, type RuntimeContext } from './context.js';
import { runtimeEvent, type PostKind } from './events.js';
import { checkPostText, editRefusal, storedContent } from './post-text.js';

export type ApprovalStatus = 'pending' | 'approved' | 'posting' | 'posted' | 'failed' | 'rejected' | 'expired';
export type ApprovalSource = 'discovery' | 'mention' | 'target' | 'content' | 'thread' | 'compose' | 'draft';

/** Pending replies older than this expire: the conversation has moved on. Tweets and threads wait. */
export const REPLY_EXPIRY_MS = 24 * 3_600_000;

export interface NewApproval {
  kind: PostKind;
  /** The text, or a thread's parts. */
  content: string | string[];
  source: ApprovalSource;
  media?: string[];
  target?: { tweetId: string; authorId: string; authorUsername: string; text?: string | null };
  topic?: string | null;
  format?: string | null;
  score?: number | null;
  mentionsProduct?: boolean;
  /** Post no earlier than this once approved (compose with a time). */
  notBefore?: number | null;
  /** Compose's "post now": the user's own text needs no second decision. */
  approved?: boolean;
}

export interface ApprovalItem {
  id: number;
  kind: PostKind;
  status: ApprovalStatus;
  content: string | string[];
  media: string[];
  source: ApprovalSource;
  target: { tweetId: string; authorId: string | null; authorUsername: string | null; text: string | null } | null;
  topic: string | null;
  format: string | null;
  score: number | null;
  mentionsProduct: boolean;
  notBefore: number | null;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  postedTweetId: string | null;
  threadId: number | null;
  createdAt: number;
  updatedAt: number;
  reviewedAt: number | null;
  postedAt: number | null;
}

interface Row {
  id: number;
  kind: PostKind;
  status: ApprovalStatus;
  content: string;
  media: string;
  source: ApprovalSource;
  target_tweet_id: string | null;
  target_author_id: string | null;
  target_author_username: string | null;
  target_text: string | null;
  topic: string | null;
  format: string | null;
  score: number | null;
  mentions_product: number;
  not_before: number | null;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  posted_tweet_id: string | null;
  thread_id: number | null;
  created_at: number;
  updated_at: number;
  reviewed_at: number | null;
  posted_at: number | null;
}

export type ApprovalError = 'not_found' | 'invalid_state' | 'invalid_content' | 'already_queued';

export function enqueueApproval(context: RuntimeContext, item: NewApproval): Result<ApprovalItem, ApprovalError> {
  const problem = checkPostText(item.kind, item.content);
  if (problem) return fail('invalid_content', problem);
  if (item.kind === 'reply' && !item.target) return fail('invalid_content', 'A reply needs the post it answers.');
  try {
    return transact(context, (events) => {
      const now = context.now();
      const status: ApprovalStatus = item.approved ? 'approved' : 'pending';
      const id = Number(
        context.db
          .prepare(
            `INSERT INTO approval_queue (kind, status, content, media, source, target_tweet_id, target_author_id, target_author_username, target_text,
               topic, format, score, mentions_product, not_before, created_at, updated_at, reviewed_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(
            item.kind,
            status,
            storedContent(item.content),
            JSON.stringify(item.media ?? []),
            item.source,
            item.target?.tweetId ?? null,
            item.target?.authorId ?? null,
            item.target?.authorUsername ?? null,
            item.target?.text ?? null,
            item.topic ?? null,
            item.format ?? null,
            item.score ?? null,
            item.mentionsProduct ? 1 : 0,
            item.notBefore ?? null,
            now,
            now,
            item.approved ? now : null,
          ).lastInsertRowid,
      );
      if (item.target) context.db.prepare("UPDATE discovered_tweets SET status = 'queued', evaluated_at = ? WHERE tweet_id = ?").run(now, item.target.tweetId);
      const queued = getApproval(context.db, id)!;
      events.push(
        runtimeEvent('ApprovalQueued', now, {
          id,
          kind: queued.kind,
          content: queued.content,
          source: queued.source,
          targetAuthor: queued.target?.authorUsername ?? null,
          score: queued.score,
          topic: queued.topic,
        }),
      );
      return ok(queued);
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') return fail('already_queued', 'A reply to this post is already in the queue.');
    throw error;
  }
}

export function getApproval(db: Database.Database, id: number): ApprovalItem | null {
  const row = db.prepare<[number], Row>('SELECT * FROM approval_queue WHERE id = ?').get(id);
  return row ? toItem(row) : null;
}

export interface ApprovalQuery {
  statuses?: readonly ApprovalStatus[];
  kinds?: readonly PostKind[];
  /** Only items after this id (the previous page's `nextCursor`); the list runs oldest first (queue order). */
  after?: number | null;
  /** Only items before this id (the previous page's `nextCursor`); the list runs newest first, like every API list. */
  before?: number | null;
  limit?: number;
}

export function listApprovals(db: Database.Database, query: ApprovalQuery = {}): { items: ApprovalItem[]; nextCursor: number | null } {
  const statuses = query.statuses?.length ? query.statuses : (['pending'] as const);
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  const params: (string | number)[] = [...statuses];
  let sql = `SELECT * FROM approval_queue WHERE status IN (${statuses.map(() => '?').join(', ')})`;
  if (query.kinds?.length) {
    sql += ` AND kind IN (${query.kinds.map(() => '?').join(', ')})`;
    params.push(...query.kinds);
  }
  if (query.after != null) {
    sql += ' AND id > ?';
    params.push(query.after);
  }
  const newestFirst = query.before !== undefined;
  if (query.before != null) {
    sql += ' AND id < ?';
    params.push(query.before);
  }
  const rows = db.prepare<(string | number)[], Row>(`${sql} ORDER BY id ${newestFirst ? 'DESC' : 'ASC'} LIMIT ?`).all(...params, limit + 1);
  const items = rows.slice(0, limit).map(toItem);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}

export function approvalStats(db: Database.Database): Record<ApprovalStatus, number> {
  const stats: Record<ApprovalStatus, number> = { pending: 0, approved: 0, posting: 0, posted: 0, failed: 0, rejected: 0, expired: 0 };
  for (const row of db.prepare<[], { status: ApprovalStatus; n: number }>('SELECT status, count(*) AS n FROM approval_queue GROUP BY status').all()) stats[row.status] = row.n;
  return stats;
}

/** Changes the text or media of an item not yet on its way to X (pending, approved or failed). */
export function editApproval(context: RuntimeContext, id: number, edit: { content?: string | string[]; media?: string[] }): Result<ApprovalItem, ApprovalError> {
  return transact(context, (events) => {
    const item = getApproval(context.db, id);
    if (!item) return fail('not_found', `No approval item ${id}.`);
    const refused = editRefusal(item, ['pending', 'approved', 'failed'], edit.content);
    if (refused) return refused;
    const now = context.now();
    context.db
      .prepare('UPDATE approval_queue SET content = coalesce(?, content), media = coalesce(?, media), updated_at = ? WHERE id = ?')
      .run(edit.content === undefined ? null : storedContent(edit.content), edit.media === undefined ? null : JSON.stringify(edit.media), now, id);
    events.push(runtimeEvent('ApprovalUpdated', now, { ids: [id], status: item.status, kind: item.kind }));
    return ok(getApproval(context.db, id)!);
  });
}

/** pending → approved, optionally with the user's edit in the same step. */
export function approve(context: RuntimeContext, id: number, edit?: { content?: string | string[]; media?: string[] }): Result<ApprovalItem, ApprovalError> {
  return transact(context, (events) => {
    const item = getApproval(context.db, id);
    if (!item) return fail('not_found', `No approval item ${id}.`);
    if (item.status !== 'pending') return fail('invalid_state', `Only a pending item can be approved (this one is ${item.status}).`);
    if (edit?.content !== undefined || edit?.media !== undefined) {
      const edited = editApproval({ ...context, emit: () => {} }, id, edit);
      if (!edited.ok) return edited;
    }
    const now = context.now();
    context.db.prepare("UPDATE approval_queue SET status = 'approved', reviewed_at = ?, updated_at = ? WHERE id = ?").run(now, now, id);
    events.push(runtimeEvent('ApprovalUpdated', now, { ids: [id], status: 'approved', kind: item.kind }));
    return ok(getApproval(context.db, id)!);
  });
}

/** Every pending item → approved; returns their ids. */
export function approveAll(context: RuntimeContext): number[] {
  return transact(context, (events) => {
    const now = context.now();
    const ids = context.db
      .prepare<[number, number], { id: number }>("UPDATE approval_queue SET status = 'approved', reviewed_at = ?, updated_at = ? WHERE status = 'pending' RETURNING id")
      .all(now, now)
      .map((row) => row.id)
      .sort((a, b) => a - b);
    if (ids.length > 0) events.push(runtimeEvent('ApprovalUpdated', now, { ids, status: 'approved' }));
    return ids;
  });
}

/** pending, approved or failed → rejected. An item being posted can no longer be stopped. */
export function reject(context: RuntimeContext, id: number): Result<ApprovalItem, ApprovalError> {
  return moveTo(context, id, ['pending', 'approved', 'failed'], 'rejected', { reviewed: true });
}

/** failed → approved, with a fresh set of attempts (the user decided to try again). */
export function retryApproval(context: RuntimeContext, id: number): Result<ApprovalItem, ApprovalError> {
  return moveTo(context, id, ['failed'], 'approved', { resetAttempts: true });
}

function moveTo(
  context: RuntimeContext,
  id: number,
  from: readonly ApprovalStatus[],
  to: ApprovalStatus,
  options: { reviewed?: boolean; resetAttempts?: boolean },
): Result<ApprovalItem, ApprovalError> {
  return transact(context, (events) => {
    const item = getApproval(context.db, id);
    if (!item) return fail('not_found', `No approval item ${id}.`);
    if (!from.includes(item.status)) return fail('invalid_state', `An item that is ${item.status} cannot become ${to}.`);
    const now = context.now();
    context.db
      .prepare(
        `UPDATE approval_queue SET status = ?, updated_at = ?, reviewed_at = CASE WHEN ? THEN ? ELSE reviewed_at END,
           attempts = CASE WHEN ? THEN 0 ELSE attempts END, next_attempt_at = CASE WHEN ? THEN NULL ELSE next_attempt_at END
         WHERE id = ?`,
      )
      .run(to, now, options.reviewed ? 1 : 0, now, options.resetAttempts ? 1 : 0, options.resetAttempts ? 1 : 0, id);
    events.push(runtimeEvent('ApprovalUpdated', now, { ids: [id], status: to, kind: item.kind }));
    return ok(getApproval(context.db, id)!);
  });
}

/** Pending replies older than `maxAgeMs` → expired; returns their ids. */
export function expireStaleReplies(context: RuntimeContext, maxAgeMs = REPLY_EXPIRY_MS): number[] {
  return transact(context, (events) => {
    const now = context.now();
    const ids = context.db
      .prepare<[number, number], { id: number }>("UPDATE approval_queue SET status = 'expired', updated_at = ? WHERE status = 'pending' AND kind = 'reply' AND created_at < ? RETURNING id")
      .all(now, now - maxAgeMs)
      .map((row) => row.id);
    if (ids.length > 0) events.push(runtimeEvent('ApprovalUpdated', now, { ids, status: 'expired', kind: 'reply' }));
    return ids;
  });
}

/** The approved item the poster should post now: due, oldest decision first. */
export function nextApprovedDue(db: Database.Database, now: number): ApprovalItem | null {
  const row = db
    .prepare<[number, number], Row>(
      `SELECT * FROM approval_queue WHERE status = 'approved' AND coalesce(next_attempt_at, 0) <= ? AND coalesce(not_before, 0) <= ?
       ORDER BY coalesce(reviewed_at, created_at), id LIMIT 1`,
    )
    .get(now, now);
  return row ? toItem(row) : null;
}

/** When the poster next has something to do (for the job's next run), or null. */
export function nextApprovedAt(db: Database.Database): number | null {
  return db
    .prepare<[], { at: number | null }>("SELECT min(max(coalesce(next_attempt_at, 0), coalesce(not_before, 0))) AS at FROM approval_queue WHERE status = 'approved'")
    .get()!.at;
}

/**
 * Holds an approved item back without counting an attempt: the action limit or the X allowance has no
 * room until `until`. The reason is shown on the item.
 */
export function deferApproval(context: RuntimeContext, id: number, until: number, reason: string): void {
  transact(context, (events) => {
    const now = context.now();
    const changed = context.db.prepare("UPDATE approval_queue SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND status = 'approved'").run(until, reason, now, id).changes;
    if (changed > 0) events.push(runtimeEvent('ApprovalUpdated', now, { ids: [id], status: 'approved', error: reason }));
  });
}

/** Remembers the thread a thread item is being posted as, so a retry resumes it. */
export function attachThread(db: Database.Database, id: number, threadId: number): void {
  db.prepare('UPDATE approval_queue SET thread_id = ? WHERE id = ?').run(threadId, id);
}

function toItem(row: Row): ApprovalItem {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    content: row.kind === 'thread' ? (JSON.parse(row.content) as string[]) : row.content,
    media: JSON.parse(row.media) as string[],
    source: row.source,
    target:
      row.target_tweet_id === null
        ? null
        : { tweetId: row.target_tweet_id, authorId: row.target_author_id, authorUsername: row.target_author_username, text: row.target_text },
    topic: row.topic,
    format: row.format,
    score: row.score,
    mentionsProduct: row.mentions_product === 1,
    notBefore: row.not_before,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    postedTweetId: row.posted_tweet_id,
    threadId: row.thread_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    reviewedAt: row.reviewed_at,
    postedAt: row.posted_at,
  };
}
