/**
 * Crash-safe posting: an intent is committed before X is called and settled after, so a restart
 * never posts twice.
 *
 *   beginIntent   claims the action limit, moves the approved/scheduled item to `posting` and records
 *                 the intent, in one transaction — then the caller calls X;
 *   recordPosted  X gave an id: the intent, the posted row (replies / original_tweets / thread part),
 *                 the item's `posted`, the action log and the events, in one transaction;
 *   recordFailed  X said no (or could not be reached before sending): the claim is given back and the
 *                 item goes back to `approved` with back-off, or to `failed`.
 *
 * An intent still `pending` when the tenant starts means it died between the two: X may or may not
 * have the post. `reconcileIntent` looks for it in our own recent posts (the caller fetches them) and
 * settles it either way; until then its item stays `posting` and is not picked again. A network
 * failure during the POST itself is the same situation and is left pending for reconciliation too.
 */
import type Database from 'better-sqlite3';
import twitter from 'twitter-text';
import type { TenantEvent } from '../../protocol/index.js';
import type { ActionKind } from '../action-limits.js';
import { XApiError, XForbiddenError, XNetworkError } from '../x/errors.js';
import type { XPost } from '../x/types.js';
import { logAction } from './action-log.js';
import { fail, ok, transact, type Result, type RuntimeContext } from './context.js';
import { runtimeEvent, type ActionSource, type PostKind } from './events.js';
import { afterFailure } from './retry.js';

export type IntentKind = 'reply' | 'tweet' | 'thread_tweet';

/** What the posted row needs besides the text. */
export interface IntentDetails {
  targetAuthorId?: string;
  targetAuthorUsername?: string;
  topic?: string | null;
  format?: string | null;
  score?: number | null;
  mentionsProduct?: boolean;
}

export interface NewIntent {
  kind: IntentKind;
  text: string;
  inReplyTo?: string | null;
  mediaIds?: string[];
  /** discovery | mention | target | manual for replies; content | scheduled | manual for tweets and threads. */
  source: ActionSource;
  approvalId?: number | null;
  scheduledId?: number | null;
  threadId?: number | null;
  position?: number | null;
  /** Claim one action of this kind against min(userSetting, ceiling) with the intent; thread parts do not (their thread did). */
  claim?: { kind: Exclude<ActionKind, 'thread'>; userSetting: number | null };
  details?: IntentDetails;
}

export interface Intent {
  id: number;
  kind: IntentKind;
  status: 'pending' | 'posted' | 'failed';
  text: string;
  inReplyTo: string | null;
  mediaIds: string[];
  source: ActionSource;
  approvalId: number | null;
  scheduledId: number | null;
  threadId: number | null;
  position: number | null;
  claimId: number | null;
  details: IntentDetails;
  xTweetId: string | null;
  error: string | null;
  createdAt: number;
  settledAt: number | null;
}

interface Row {
  id: number;
  kind: IntentKind;
  status: Intent['status'];
  text: string;
  in_reply_to: string | null;
  media_ids: string;
  source: ActionSource;
  approval_id: number | null;
  scheduled_id: number | null;
  thread_id: number | null;
  position: number | null;
  claim_id: number | null;
  context: string;
  x_tweet_id: string | null;
  error: string | null;
  created_at: number;
  settled_at: number | null;
}

export type BeginFailure = 'limit_reached' | 'already_replied' | 'not_ready';

/** Claims, moves the item to `posting` and records the intent, or changes nothing and says why. */
export function beginIntent(context: RuntimeContext, intent: NewIntent): Result<Intent, BeginFailure> {
  try {
    return announceIntent(context, intent);
  } catch (error) {
    if (error instanceof Refused) return fail(error.code, error.message);
    throw error;
  }
}

// Thrown inside the transaction so that the item's move to `posting` rolls back with it.
class Refused extends Error {
  constructor(
    readonly code: BeginFailure,
    message: string,
  ) {
    super(message);
  }
}

function announceIntent(context: RuntimeContext, intent: NewIntent): Result<Intent, BeginFailure> {
  const { db } = context;
  return db
    .transaction((): Result<Intent, BeginFailure> => {
      const now = context.now();
      if (intent.approvalId != null) {
        const moved = db.prepare("UPDATE approval_queue SET status = 'posting', updated_at = ? WHERE id = ? AND status IN ('approved', 'posting')").run(now, intent.approvalId);
        if (moved.changes === 0) throw new Refused('not_ready', `Approval item ${intent.approvalId} is not approved.`);
      }
      if (intent.scheduledId != null) {
        const moved = db.prepare("UPDATE scheduled_content SET status = 'posting', updated_at = ? WHERE id = ? AND status IN ('scheduled', 'posting')").run(now, intent.scheduledId);
        if (moved.changes === 0) throw new Refused('not_ready', `Scheduled item ${intent.scheduledId} is not scheduled.`);
      }
      if (intent.kind === 'reply' && intent.inReplyTo != null && db.prepare('SELECT 1 FROM replies WHERE target_tweet_id = ?').get(intent.inReplyTo)) {
        throw new Refused('already_replied', `We already replied to ${intent.inReplyTo}.`);
      }
      let claimId: number | null = null;
      if (intent.claim) {
        const claim = context.limits.claim(intent.claim.kind, intent.claim.userSetting, intent.inReplyTo ?? null);
        // The item stays where it was: the caller defers it to when the limit has room.
        if (!claim.claimed) throw new Refused('limit_reached', `The ${intent.claim.kind} limit is reached (${claim.used} of ${claim.limit}).`);
        claimId = claim.id;
      }
      try {
        const id = Number(
          db
            .prepare(
              `INSERT INTO post_intents (kind, text, in_reply_to, media_ids, source, approval_id, scheduled_id, thread_id, position, claim_id, context, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              intent.kind,
              intent.text,
              intent.inReplyTo ?? null,
              JSON.stringify(intent.mediaIds ?? []),
              intent.source,
              intent.approvalId ?? null,
              intent.scheduledId ?? null,
              intent.threadId ?? null,
              intent.position ?? null,
              claimId,
              JSON.stringify(intent.details ?? {}),
              now,
            ).lastInsertRowid,
        );
        return ok(getIntent(db, id)!);
      } catch (error) {
        if ((error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Refused('already_replied', `A reply to ${intent.inReplyTo} is already being posted.`);
        throw error;
      }
    })
    .immediate();
}

export function getIntent(db: Database.Database, id: number): Intent | null {
  const row = db.prepare<[number], Row>('SELECT * FROM post_intents WHERE id = ?').get(id);
  return row ? toIntent(row) : null;
}

/** Intents a crash (or an unanswered POST) left open, oldest first. */
export function openIntents(db: Database.Database): Intent[] {
  return db.prepare<[], Row>("SELECT * FROM post_intents WHERE status = 'pending' ORDER BY id").all().map(toIntent);
}

/** X created the post: records everything that follows from it, atomically. */
export function recordPosted(context: RuntimeContext, intentId: number, xTweetId: string): void {
  transact(context, (events) => {
    const { db } = context;
    const now = context.now();
    const intent = getIntent(db, intentId);
    if (!intent || intent.status !== 'pending') return;
    db.prepare("UPDATE post_intents SET status = 'posted', x_tweet_id = ?, settled_at = ? WHERE id = ?").run(xTweetId, now, intentId);
    if (intent.claimId !== null) db.prepare('UPDATE action_claims SET ref = ? WHERE id = ?').run(xTweetId, intent.claimId);
    const d = intent.details;
    if (intent.kind === 'reply') {
      db.prepare(
        `INSERT INTO replies (tweet_id, target_tweet_id, target_author_id, target_author_username, source, content, mentions_product, archetype, score, approval_id, posted_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(xTweetId, intent.inReplyTo, d.targetAuthorId ?? '', d.targetAuthorUsername ?? '', replySource(intent.source), intent.text, d.mentionsProduct ? 1 : 0, d.format ?? null, d.score ?? null, intent.approvalId, now);
      db.prepare("UPDATE discovered_tweets SET status = 'replied', evaluated_at = ? WHERE tweet_id = ?").run(now, intent.inReplyTo);
      if (intent.source === 'target' && d.targetAuthorId) {
        db.prepare('UPDATE target_accounts SET replies_sent = replies_sent + 1, last_reply_at = ?, first_engagement_at = coalesce(first_engagement_at, ?) WHERE x_user_id = ?').run(now, now, d.targetAuthorId);
      }
      settleItemPosted(db, intent, xTweetId, now, events);
      announce(db, events, now, { action: 'reply', intent, tweetId: xTweetId, content: intent.text });
      return;
    }
    if (intent.kind === 'tweet') {
      db.prepare('INSERT INTO original_tweets (tweet_id, content, topic, format, source, approval_id, scheduled_id, posted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        xTweetId,
        intent.text,
        d.topic ?? null,
        d.format ?? null,
        tweetSource(intent.source),
        intent.approvalId,
        intent.scheduledId,
        now,
      );
      settleItemPosted(db, intent, xTweetId, now, events);
      announce(db, events, now, { action: 'tweet', intent, tweetId: xTweetId, content: intent.text });
      return;
    }
    db.prepare('UPDATE thread_tweets SET tweet_id = ?, posted_at = ? WHERE thread_id = ? AND position = ?').run(xTweetId, now, intent.threadId, intent.position);
    db.prepare(
      `UPDATE threads SET posted_count = posted_count + 1, root_tweet_id = CASE WHEN ? = 0 THEN ? ELSE root_tweet_id END,
         status = 'posting', last_error = NULL, updated_at = ? WHERE id = ?`,
    ).run(intent.position, xTweetId, now, intent.threadId);
    const thread = db.prepare<[number], { posted_count: number; tweet_count: number; root_tweet_id: string; topic: string | null }>('SELECT posted_count, tweet_count, root_tweet_id, topic FROM threads WHERE id = ?').get(intent.threadId!)!;
    if (thread.posted_count < thread.tweet_count) return;
    db.prepare("UPDATE threads SET status = 'posted', posted_at = ? WHERE id = ?").run(now, intent.threadId);
    settleItemPosted(db, intent, thread.root_tweet_id, now, events);
    const first = db.prepare<[number], { content: string }>('SELECT content FROM thread_tweets WHERE thread_id = ? AND position = 0').get(intent.threadId!)!;
    announce(db, events, now, { action: 'thread', intent, tweetId: thread.root_tweet_id, content: first.content, parts: thread.tweet_count, topic: thread.topic });
  });
}

export interface FailureOptions {
  /** No retry can fix it (X refused this post): the item fails at once. */
  permanent: boolean;
}

/** X did not create the post: gives the claim back and moves the item on (back-off or failed). */
export function recordFailed(context: RuntimeContext, intentId: number, error: string, options: FailureOptions): void {
  transact(context, (events) => {
    const { db } = context;
    const now = context.now();
    const intent = getIntent(db, intentId);
    if (!intent || intent.status !== 'pending') return;
    db.prepare("UPDATE post_intents SET status = 'failed', error = ?, settled_at = ? WHERE id = ?").run(error.slice(0, 500), now, intentId);
    if (intent.claimId !== null) context.limits.release(intent.claimId);
    const action = postKind(intent);
    let status: 'failure' | 'partial' = 'failure';
    let final = true;
    if (intent.kind === 'thread_tweet') {
      const thread = db.prepare<[number], { posted_count: number; claim_id: number | null }>('SELECT posted_count, claim_id FROM threads WHERE id = ?').get(intent.threadId!)!;
      if (thread.posted_count > 0) status = 'partial';
      db.prepare('UPDATE threads SET status = ?, last_error = ?, updated_at = ? WHERE id = ?').run(status === 'partial' ? 'partial' : 'failed', error.slice(0, 500), now, intent.threadId);
      final = settleItemFailed(db, intent, error, options.permanent, now, events);
      // Nothing of the thread went out and nothing will: its week's place is free again.
      if (final && thread.posted_count === 0 && thread.claim_id !== null) context.limits.release(thread.claim_id);
    } else {
      final = settleItemFailed(db, intent, error, options.permanent, now, events);
    }
    logAction(db, now, {
      action,
      status,
      source: intent.source,
      message: `${capitalize(action)} not posted${final ? '' : ' (will retry)'}: ${error}`,
      targetTweetId: intent.kind === 'reply' ? intent.inReplyTo : null,
      data: { intentId: intent.id, ...(intent.approvalId !== null && { approvalId: intent.approvalId }), ...(intent.scheduledId !== null && { scheduledId: intent.scheduledId }) },
    });
  });
}

/**
 * Finds the intent's post among our own recent posts (newest first, as X returns them): same text once
 * X's rewriting is undone (t.co links, HTML entities, whitespace), replying to the same post, not older
 * than the intent. Returns its X id, or null when X has no such post.
 */
export function matchIntent(intent: Pick<Intent, 'text' | 'inReplyTo' | 'createdAt'>, ownPosts: readonly XPost[]): string | null {
  const wanted = comparable(intent.text);
  for (const post of ownPosts) {
    if (comparable(post.text) !== wanted) continue;
    const repliedTo = post.referenced?.find((ref) => ref.type === 'replied_to')?.id;
    if (intent.inReplyTo !== null && repliedTo !== undefined && repliedTo !== intent.inReplyTo) continue;
    if (intent.inReplyTo === null && repliedTo !== undefined) continue;
    // X's clock and ours may differ by a little; a post from well before the intent is an older twin.
    if (post.createdAt !== undefined && Date.parse(post.createdAt) < intent.createdAt - 120_000) continue;
    return post.id;
  }
  return null;
}

/** Settles an intent left open by a crash, given our recent posts as X has them now. */
export function reconcileIntent(context: RuntimeContext, intent: Intent, ownPosts: readonly XPost[]): 'posted' | 'not_posted' {
  const found = matchIntent(intent, ownPosts);
  if (found !== null) {
    recordPosted(context, intent.id, found);
    return 'posted';
  }
  recordFailed(context, intent.id, 'The tenant stopped before X answered, and X has no such post.', { permanent: false });
  return 'not_posted';
}

/** Which X failures no retry will fix. A network failure is neither: the post may exist (reconcile). */
export function isPermanentXError(error: unknown): boolean {
  if (error instanceof XForbiddenError) return true;
  return error instanceof XApiError && error.status >= 400 && error.status < 500 && error.status !== 429 && error.status !== 408;
}

/** Whether the POST may have reached X (leave the intent pending and reconcile it). */
export function mayHavePosted(error: unknown): boolean {
  return error instanceof XNetworkError || (error instanceof XApiError && error.status >= 500);
}

function settleItemPosted(db: Database.Database, intent: Intent, tweetId: string, now: number, events: TenantEvent[]): void {
  if (intent.approvalId !== null) {
    db.prepare("UPDATE approval_queue SET status = 'posted', posted_tweet_id = ?, posted_at = ?, last_error = NULL, next_attempt_at = NULL, updated_at = ? WHERE id = ?").run(tweetId, now, now, intent.approvalId);
    events.push(runtimeEvent('ApprovalUpdated', now, { ids: [intent.approvalId], status: 'posted', kind: postKind(intent), tweetId }));
  }
  if (intent.scheduledId !== null) {
    db.prepare("UPDATE scheduled_content SET status = 'posted', posted_tweet_id = ?, posted_at = ?, last_error = NULL, next_attempt_at = NULL, updated_at = ? WHERE id = ?").run(tweetId, now, now, intent.scheduledId);
    const row = db.prepare<[number], { kind: 'tweet' | 'thread'; scheduled_for: number | null }>('SELECT kind, scheduled_for FROM scheduled_content WHERE id = ?').get(intent.scheduledId)!;
    events.push(runtimeEvent('ContentScheduled', now, { id: intent.scheduledId, kind: row.kind, status: 'posted', scheduledFor: row.scheduled_for }));
  }
}

/** Returns whether the failure was final for its item (or there is no item to retry). */
function settleItemFailed(db: Database.Database, intent: Intent, error: string, permanent: boolean, now: number, events: TenantEvent[]): boolean {
  let final = true;
  for (const [table, id, back] of [
    ['approval_queue', intent.approvalId, 'approved'],
    ['scheduled_content', intent.scheduledId, 'scheduled'],
  ] as const) {
    if (id === null) continue;
    const { attempts } = db.prepare<[number], { attempts: number }>(`SELECT attempts FROM ${table} WHERE id = ?`).get(id)!;
    const next = afterFailure(attempts + 1, permanent, now);
    final = next.final;
    db.prepare(`UPDATE ${table} SET status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ? WHERE id = ?`).run(
      next.final ? 'failed' : back,
      next.final ? null : next.nextAttemptAt,
      error.slice(0, 500),
      now,
      id,
    );
    if (table === 'approval_queue') {
      events.push(runtimeEvent('ApprovalUpdated', now, { ids: [id], status: next.final ? 'failed' : 'approved', kind: postKind(intent), error }));
    } else {
      const row = db.prepare<[number], { kind: 'tweet' | 'thread'; scheduled_for: number | null }>('SELECT kind, scheduled_for FROM scheduled_content WHERE id = ?').get(id)!;
      events.push(runtimeEvent('ContentScheduled', now, { id, kind: row.kind, status: next.final ? 'failed' : 'scheduled', scheduledFor: row.scheduled_for }));
    }
  }
  return final;
}

function announce(
  db: Database.Database,
  events: TenantEvent[],
  now: number,
  done: { action: PostKind; intent: Intent; tweetId: string; content: string; parts?: number; topic?: string | null },
): void {
  const { intent } = done;
  const target = intent.details.targetAuthorUsername;
  const preview = done.content.length > 80 ? `${done.content.slice(0, 80)}…` : done.content;
  const message =
    done.action === 'reply'
      ? `Replied to @${target ?? '?'}: ${preview}`
      : done.action === 'thread'
        ? `Posted a thread of ${done.parts} tweets${done.topic ? ` on ${done.topic}` : ''}: ${preview}`
        : `Posted a tweet${intent.details.topic ? ` on ${intent.details.topic}` : ''}: ${preview}`;
  logAction(db, now, {
    action: done.action,
    status: 'success',
    source: intent.source,
    message,
    tweetId: done.tweetId,
    targetTweetId: done.action === 'reply' ? intent.inReplyTo : null,
    data: {
      ...(intent.details.score != null && { score: intent.details.score }),
      ...(intent.details.topic != null && { topic: intent.details.topic }),
      ...(intent.approvalId !== null && { approvalId: intent.approvalId }),
      ...(intent.scheduledId !== null && { scheduledId: intent.scheduledId }),
    },
  });
  events.push(
    runtimeEvent('ActionPerformed', now, {
      action: done.action,
      source: intent.source,
      tweetId: done.tweetId,
      content: done.content,
      ...(done.action === 'reply' && intent.inReplyTo !== null && { targetTweetId: intent.inReplyTo }),
      ...(target !== undefined && { targetAuthor: target }),
      ...(intent.approvalId !== null && { approvalId: intent.approvalId }),
    }),
  );
}

function comparable(text: string): string {
  let out = text.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
  for (const url of twitter.extractUrls(out)) out = out.split(url).join('<url>');
  return out.replace(/\s+/g, ' ').trim();
}

function postKind(intent: Intent): PostKind {
  return intent.kind === 'thread_tweet' ? 'thread' : intent.kind;
}

function replySource(source: ActionSource): 'discovery' | 'mention' | 'target' | 'manual' {
  return source === 'discovery' || source === 'mention' || source === 'target' ? source : 'manual';
}

function tweetSource(source: ActionSource): 'content' | 'scheduled' | 'manual' {
  return source === 'content' || source === 'scheduled' ? source : 'manual';
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function toIntent(row: Row): Intent {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    text: row.text,
    inReplyTo: row.in_reply_to,
    mediaIds: JSON.parse(row.media_ids) as string[],
    source: row.source,
    approvalId: row.approval_id,
    scheduledId: row.scheduled_id,
    threadId: row.thread_id,
    position: row.position,
    claimId: row.claim_id,
    details: JSON.parse(row.context) as IntentDetails,
    xTweetId: row.x_tweet_id,
    error: row.error,
    createdAt: row.created_at,
    settledAt: row.settled_at,
  };
}
