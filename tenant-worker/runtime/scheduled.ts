/**
 * The user's own tweets and threads: drafts, and scheduled items posted at their time.
 *
 *   draft ──schedule──▶ scheduled ──scheduler──▶ posting ──▶ posted
 *     ▲  ◀──unschedule──┘    │  ▲                  │
 *     │                      │  └── passing error ─┘  (back-off, error shown)
 *     └─ (edit) ─┐           ├──cancel──▶ cancelled ◀── cancel ── draft, failed
 *                            failed ◀─ final error ─┘   failed ──retry──▶ scheduled
 *
 * Scheduling is the user's decision about their own text, so scheduled items are not queued for approval
 * again; they are posted in both modes (the reference posted them only from the autopilot content loop)
 * and a thread is posted as a real reply chain. A "next free slot" request is resolved to a time when
 * scheduling (pacing.ts), so a scheduled item always has one.
 */
import type Database from 'better-sqlite3';
import { fail, ok, transact, type Result, type RuntimeContext } from './context.js';
import { runtimeEvent } from './events.js';
import { checkPostText, editRefusal, storedContent } from './post-text.js';

export type ScheduledStatus = 'draft' | 'scheduled' | 'posting' | 'posted' | 'failed' | 'cancelled';

export interface ScheduledItem {
  id: number;
  kind: 'tweet' | 'thread';
  status: ScheduledStatus;
  content: string | string[];
  media: string[];
  source: 'manual' | 'assist' | 'discovery';
  topic: string | null;
  scheduledFor: number | null;
  attempts: number;
  nextAttemptAt: number | null;
  lastError: string | null;
  postedTweetId: string | null;
  threadId: number | null;
  createdAt: number;
  updatedAt: number;
  postedAt: number | null;
}

interface Row {
  id: number;
  kind: 'tweet' | 'thread';
  status: ScheduledStatus;
  content: string;
  media: string;
  source: ScheduledItem['source'];
  topic: string | null;
  scheduled_for: number | null;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  posted_tweet_id: string | null;
  thread_id: number | null;
  created_at: number;
  updated_at: number;
  posted_at: number | null;
}

export type ScheduledError = 'not_found' | 'invalid_state' | 'invalid_content';

export interface NewContent {
  kind: 'tweet' | 'thread';
  content: string | string[];
  source?: ScheduledItem['source'];
  media?: string[];
  topic?: string | null;
}

/** A draft may be incomplete, but never more than X would take. */
export function createDraft(context: RuntimeContext, draft: NewContent): Result<ScheduledItem, ScheduledError> {
  return insert(context, draft, null);
}

/** A new item scheduled straight away (compose with approval mode off). */
export function createScheduled(context: RuntimeContext, item: NewContent, at: number): Result<ScheduledItem, ScheduledError> {
  return insert(context, item, at);
}

function insert(context: RuntimeContext, item: NewContent, at: number | null): Result<ScheduledItem, ScheduledError> {
  const problem = checkPostText(item.kind, item.content);
  if (problem) return fail('invalid_content', problem);
  return transact(context, (events) => {
    const now = context.now();
    const status: ScheduledStatus = at === null ? 'draft' : 'scheduled';
    const id = Number(
      context.db
        .prepare('INSERT INTO scheduled_content (kind, status, content, media, source, topic, scheduled_for, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(item.kind, status, storedContent(item.content), JSON.stringify(item.media ?? []), item.source ?? 'manual', item.topic ?? null, at, now, now).lastInsertRowid,
    );
    if (at !== null) events.push(runtimeEvent('ContentScheduled', now, { id, kind: item.kind, status, scheduledFor: at }));
    return ok(getScheduled(context.db, id)!);
  });
}

export function getScheduled(db: Database.Database, id: number): ScheduledItem | null {
  const row = db.prepare<[number], Row>('SELECT * FROM scheduled_content WHERE id = ?').get(id);
  return row ? toItem(row) : null;
}

export function listDrafts(db: Database.Database, limit = 100): ScheduledItem[] {
  return db.prepare<[number], Row>("SELECT * FROM scheduled_content WHERE status = 'draft' ORDER BY updated_at DESC, id DESC LIMIT ?").all(limit).map(toItem);
}

/** Edits are allowed while nothing is on its way to X: draft, scheduled or failed. */
export function editScheduled(context: RuntimeContext, id: number, edit: { content?: string | string[]; media?: string[]; topic?: string | null }): Result<ScheduledItem, ScheduledError> {
  return transact(context, (events) => {
    const item = getScheduled(context.db, id);
    if (!item) return fail('not_found', `No draft or scheduled item ${id}.`);
    const refused = editRefusal(item, ['draft', 'scheduled', 'failed'], edit.content);
    if (refused) return refused;
    const now = context.now();
    context.db
      .prepare('UPDATE scheduled_content SET content = coalesce(?, content), media = coalesce(?, media), topic = CASE WHEN ? THEN ? ELSE topic END, updated_at = ? WHERE id = ?')
      .run(edit.content === undefined ? null : storedContent(edit.content), edit.media === undefined ? null : JSON.stringify(edit.media), edit.topic === undefined ? 0 : 1, edit.topic ?? null, now, id);
    if (item.status === 'scheduled') events.push(runtimeEvent('ContentScheduled', now, { id, kind: item.kind, status: item.status, scheduledFor: item.scheduledFor }));
    return ok(getScheduled(context.db, id)!);
  });
}

/** draft or scheduled → scheduled at `at` (rescheduling moves the time). */
export function schedule(context: RuntimeContext, id: number, at: number): Result<ScheduledItem, ScheduledError> {
  return move(context, id, ['draft', 'scheduled'], 'scheduled', at);
}

/** scheduled → draft: take it off the calendar but keep the text. */
export function unschedule(context: RuntimeContext, id: number): Result<ScheduledItem, ScheduledError> {
  return move(context, id, ['scheduled'], 'draft', null);
}

/** draft, scheduled or failed → cancelled (a deleted draft is a cancelled one; nothing is lost). */
export function cancelScheduled(context: RuntimeContext, id: number): Result<ScheduledItem, ScheduledError> {
  return move(context, id, ['draft', 'scheduled', 'failed'], 'cancelled', undefined);
}

/** failed → scheduled, now or at `at`, with a fresh set of attempts. */
export function retryScheduled(context: RuntimeContext, id: number, at: number = context.now()): Result<ScheduledItem, ScheduledError> {
  return move(context, id, ['failed'], 'scheduled', at);
}

function move(context: RuntimeContext, id: number, from: readonly ScheduledStatus[], to: ScheduledStatus, at: number | null | undefined): Result<ScheduledItem, ScheduledError> {
  return transact(context, (events) => {
    const item = getScheduled(context.db, id);
    if (!item) return fail('not_found', `No draft or scheduled item ${id}.`);
    if (!from.includes(item.status)) return fail('invalid_state', `An item that is ${item.status} cannot become ${to}.`);
    const now = context.now();
    const scheduledFor = at === undefined ? item.scheduledFor : at;
    context.db
      .prepare('UPDATE scheduled_content SET status = ?, scheduled_for = ?, attempts = 0, next_attempt_at = NULL, last_error = NULL, updated_at = ? WHERE id = ?')
      .run(to, scheduledFor, now, id);
    if (to !== 'draft' || item.status === 'scheduled') events.push(runtimeEvent('ContentScheduled', now, { id, kind: item.kind, status: to, scheduledFor }));
    return ok(getScheduled(context.db, id)!);
  });
}

/** The scheduled item to post now: due and not backing off, earliest time first. */
export function nextScheduledDue(db: Database.Database, now: number): ScheduledItem | null {
  const row = db
    .prepare<[number, number], Row>(
      "SELECT * FROM scheduled_content WHERE status = 'scheduled' AND scheduled_for <= ? AND coalesce(next_attempt_at, 0) <= ? ORDER BY scheduled_for, id LIMIT 1",
    )
    .get(now, now);
  return row ? toItem(row) : null;
}

/**
 * A scheduled thread whose chain a crash cut between two parts: `posting`, its last part settled, no
 * intent open. Nothing else would pick it again (only `scheduled` items are due), so the scheduler
 * resumes it first.
 */
export function resumableScheduledThread(db: Database.Database): ScheduledItem | null {
  const row = db
    .prepare<[], Row>(
      "SELECT * FROM scheduled_content s WHERE status = 'posting' AND thread_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM post_intents WHERE scheduled_id = s.id AND status = 'pending') ORDER BY id LIMIT 1",
    )
    .get();
  return row ? toItem(row) : null;
}

/** When the scheduler next has something to do, or null. */
export function nextScheduledAt(db: Database.Database): number | null {
  return db.prepare<[], { at: number | null }>("SELECT min(max(scheduled_for, coalesce(next_attempt_at, 0))) AS at FROM scheduled_content WHERE status = 'scheduled'").get()!.at;
}

/** Holds a due item back without counting an attempt (no room under the limit until `until`). */
export function deferScheduled(context: RuntimeContext, id: number, until: number, reason: string): void {
  context.db.prepare("UPDATE scheduled_content SET next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND status = 'scheduled'").run(until, reason, context.now(), id);
}

export function attachScheduledThread(db: Database.Database, id: number, threadId: number): void {
  db.prepare('UPDATE scheduled_content SET thread_id = ? WHERE id = ?').run(threadId, id);
}

// ---- the calendar -------------------------------------------------------------------------------

export interface CalendarEntry {
  kind: 'tweet' | 'thread' | 'reply';
  /** Where the entry lives: original_tweets, threads, replies, approval_queue or scheduled_content. */
  origin: 'posted' | 'approval' | 'scheduled';
  id: number;
  at: number;
  status: string;
  content: string;
  topic: string | null;
  targetAuthor: string | null;
  tweetId: string | null;
}

/**
 * Everything on the calendar in [from, to), by time: what was posted, what waits for approval (at its
 * planned time, else when it was queued) and what is scheduled.
 */
export function calendar(db: Database.Database, from: number, to: number): CalendarEntry[] {
  const rows = db
    .prepare<[{ from: number; to: number }], Omit<CalendarEntry, 'content'> & { content: string; target_author: string | null; tweet_id: string | null }>(
      `SELECT 'tweet' AS kind, 'posted' AS origin, id, posted_at AS at, 'posted' AS status, content, topic, NULL AS target_author, tweet_id
         FROM original_tweets WHERE posted_at >= @from AND posted_at < @to
       UNION ALL
       SELECT 'thread', 'posted', t.id, coalesce(t.posted_at, t.created_at), t.status, coalesce(p.content, ''), t.topic, NULL, t.root_tweet_id
         FROM threads t LEFT JOIN thread_tweets p ON p.thread_id = t.id AND p.position = 0
         WHERE coalesce(t.posted_at, t.created_at) >= @from AND coalesce(t.posted_at, t.created_at) < @to
       UNION ALL
       SELECT 'reply', 'posted', id, posted_at, 'posted', content, NULL, target_author_username, tweet_id
         FROM replies WHERE posted_at >= @from AND posted_at < @to
       UNION ALL
       SELECT kind, 'approval', id, coalesce(not_before, created_at), status,
              CASE WHEN kind = 'thread' THEN json_extract(content, '$[0]') ELSE content END, topic, target_author_username, NULL
         FROM approval_queue WHERE status IN ('pending', 'approved', 'posting', 'failed')
           AND coalesce(not_before, created_at) >= @from AND coalesce(not_before, created_at) < @to
       UNION ALL
       SELECT kind, 'scheduled', id, scheduled_for, status,
              CASE WHEN kind = 'thread' THEN json_extract(content, '$[0]') ELSE content END, topic, NULL, posted_tweet_id
         FROM scheduled_content WHERE status IN ('scheduled', 'posting', 'failed')
           AND scheduled_for >= @from AND scheduled_for < @to
       ORDER BY at, kind, id`,
    )
    .all({ from, to });
  return rows.map((row) => ({
    kind: row.kind,
    origin: row.origin,
    id: row.id,
    at: row.at,
    status: row.status,
    content: row.content,
    topic: row.topic,
    targetAuthor: row.target_author,
    tweetId: row.tweet_id,
  }));
}

function toItem(row: Row): ScheduledItem {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    content: row.kind === 'thread' ? (JSON.parse(row.content) as string[]) : row.content,
    media: JSON.parse(row.media) as string[],
    source: row.source,
    topic: row.topic,
    scheduledFor: row.scheduled_for,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    postedTweetId: row.posted_tweet_id,
    threadId: row.thread_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    postedAt: row.posted_at,
  };
}
