/**
 * The action log: one row per thing the runtime did or decided not to do, in one vocabulary.
 *
 * `action` is what kind of thing (reply, tweet, thread, search, …) and `status` how it ended; `source`
 * says which loop or path it came from. The reference logged discovery replies as `discovery_reply`,
 * approval posts as `reply_posted`/`error` and counted `reply_sent`, so its feed, status line and
 * strategy report disagreed. Here "a reply was sent" is always action=reply, status=success, whatever
 * the source, and every failure is status=failure.
 *
 * The feed pages newest first by id (the insertion order, immune to clock steps); the cursor is the
 * last id seen.
 */
import type Database from 'better-sqlite3';
import type { TenantEvent } from '../../protocol/index.js';
import type { RuntimeContext } from './context.js';
import { runtimeEvent, type ActionSource, type PostKind } from './events.js';
import type { SkipReason } from './guards.js';

export const ACTIONS = ['reply', 'tweet', 'thread', 'search', 'mentions', 'targets', 'analytics', 'cleanup', 'strategy'] as const;
export const STATUSES = ['success', 'failure', 'skipped', 'queued', 'partial', 'alert'] as const;
export type Action = (typeof ACTIONS)[number];
export type ActionStatus = (typeof STATUSES)[number];

export interface ActionEntry {
  action: Action;
  status: ActionStatus;
  source: ActionSource;
  message: string;
  tweetId?: string | null;
  targetTweetId?: string | null;
  reason?: SkipReason | null;
  data?: Record<string, unknown> | null;
}

export interface ActionRecord extends Required<Omit<ActionEntry, 'data'>> {
  id: number;
  at: number;
  data: Record<string, unknown> | null;
}

interface Row {
  id: number;
  at: number;
  action: Action;
  status: ActionStatus;
  source: ActionSource;
  message: string;
  tweet_id: string | null;
  target_tweet_id: string | null;
  reason: SkipReason | null;
  data: string | null;
}

export function logAction(db: Database.Database, at: number, entry: ActionEntry): number {
  return Number(
    db
      .prepare('INSERT INTO action_log (at, action, status, source, message, tweet_id, target_tweet_id, reason, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(at, entry.action, entry.status, entry.source, entry.message.slice(0, 500), entry.tweetId ?? null, entry.targetTweetId ?? null, entry.reason ?? null, entry.data ? JSON.stringify(entry.data) : null)
      .lastInsertRowid,
  );
}

/** A guard's or a limit's "no": logged as skipped and announced as ActionSkipped. */
export function recordSkip(
  context: Pick<RuntimeContext, 'db' | 'now' | 'emit'>,
  skip: { action: PostKind; source: ActionSource; reason: SkipReason; detail: string; targetTweetId?: string; data?: Record<string, unknown> },
): TenantEvent {
  const at = context.now();
  logAction(context.db, at, {
    action: skip.action,
    status: 'skipped',
    source: skip.source,
    message: skip.detail,
    targetTweetId: skip.targetTweetId ?? null,
    reason: skip.reason,
    data: skip.data ?? null,
  });
  const event = runtimeEvent('ActionSkipped', at, {
    action: skip.action,
    source: skip.source,
    reason: skip.reason,
    detail: skip.detail,
    ...(skip.targetTweetId !== undefined && { targetTweetId: skip.targetTweetId }),
  });
  context.emit(event);
  return event;
}

export interface ActionQuery {
  actions?: readonly Action[];
  statuses?: readonly ActionStatus[];
  sources?: readonly ActionSource[];
  /** Only rows older than this id (the previous page's `nextCursor`). */
  before?: number | null;
  limit?: number;
}

export function listActions(db: Database.Database, query: ActionQuery = {}): { items: ActionRecord[]; nextCursor: number | null } {
  const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
  const where: string[] = [];
  const params: (string | number)[] = [];
  const within = (column: string, values: readonly string[] | undefined) => {
    if (!values?.length) return;
    where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  within('action', query.actions);
  within('status', query.statuses);
  within('source', query.sources);
  if (query.before != null) {
    where.push('id < ?');
    params.push(query.before);
  }
  const sql = `SELECT * FROM action_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
  const rows = db.prepare<(string | number)[], Row>(sql).all(...params, limit + 1);
  const items = rows.slice(0, limit).map(toRecord);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}

/** Counts by action and status in [from, to): the status line and the strategy report read these. */
export function countActions(db: Database.Database, from: number, to: number): Partial<Record<Action, Partial<Record<ActionStatus, number>>>> {
  const counts: Partial<Record<Action, Partial<Record<ActionStatus, number>>>> = {};
  const rows = db
    .prepare<[number, number], { action: Action; status: ActionStatus; n: number }>('SELECT action, status, count(*) AS n FROM action_log WHERE at >= ? AND at < ? GROUP BY action, status')
    .all(from, to);
  for (const { action, status, n } of rows) (counts[action] ??= {})[status] = n;
  return counts;
}

function toRecord(row: Row): ActionRecord {
  return {
    id: row.id,
    at: row.at,
    action: row.action,
    status: row.status,
    source: row.source,
    message: row.message,
    tweetId: row.tweet_id,
    targetTweetId: row.target_tweet_id,
    reason: row.reason,
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
  };
}
