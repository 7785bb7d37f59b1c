/**
 * Posting to X, the one way every job does it: check the X allowance, record the intent (which claims
 * the limit), call X, settle. A crash between the call and the settlement leaves the intent pending;
 * `reconcileOpenIntents` settles such intents against our own recent posts before anything else is
 * posted in the next activation, so a restart never posts twice.
 */
import { XAuthExpiredError, XBudgetRefusedError } from '../../x/errors.js';
import { hasUrl } from '../../x/client.js';
import type { XPost } from '../../x/types.js';
import type { ActionKind } from '../../action-limits.js';
import { windowStart, tenantZone } from '../../action-limits.js';
import {
  beginIntent,
  isPermanentXError,
  mayHavePosted,
  openIntents,
  reconcileIntent,
  recordFailed,
  recordPosted,
  type BeginFailure,
  type NewIntent,
} from '../intents.js';
import { nextThreadPart } from '../threads.js';
import { xMediaIdsFor } from '../attached-media.js';
import { DateTime } from 'luxon';
import type { LoopDeps } from './deps.js';

export type Published =
  | { ok: true; tweetId: string }
  | { ok: false; code: BeginFailure | 'x_budget' | 'x_failed' | 'unknown'; message: string; retryable: boolean; disconnected?: boolean };

/**
 * Posts one item through an intent; never throws for X's answers (only for a bug or an injected crash).
 * `media` are our media ids (the item's attachments): uploaded to X once the intent holds the item, so a
 * missing file fails the item like any post X refused, with the reason shown.
 */
export async function publish(deps: LoopDeps, intent: NewIntent, media: readonly string[] = []): Promise<Published> {
  const client = deps.x().client();
  if (!client) return { ok: false, code: 'x_failed', message: 'No X app is configured.', retryable: true };
  // Posting on top of an unsettled post could push it out of the page reconciliation reads.
  if (!deps.activation.reconciled) return { ok: false, code: 'x_failed', message: 'Waiting to settle a post a restart interrupted.', retryable: true };
  const decision = deps.x().budget.check(hasUrl(intent.text) ? 'create_url' : 'create');
  if (!decision.allowed) return { ok: false, code: 'x_budget', message: decision.message, retryable: true };
  const begun = beginIntent(deps, intent);
  if (!begun.ok) return { ok: false, code: begun.code, message: begun.message, retryable: begun.code === 'limit_reached' };
  let mediaIds = intent.mediaIds ?? [];
  if (media.length > 0) {
    const attached = await xMediaIdsFor(deps, client, media);
    if (!attached.ok) {
      recordFailed(deps, begun.value.id, attached.message, { permanent: attached.permanent });
      return { ok: false, code: 'x_failed', message: attached.message, retryable: !attached.permanent };
    }
    mediaIds = attached.xMediaIds;
    deps.db.prepare('UPDATE post_intents SET media_ids = ? WHERE id = ?').run(JSON.stringify(mediaIds), begun.value.id);
  }
  let created: { id: string };
  try {
    created = await client.createPost({
      text: intent.text,
      ...(intent.inReplyTo != null && { replyTo: intent.inReplyTo }),
      ...(mediaIds.length > 0 && { mediaIds }),
    });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // The POST may have reached X: the intent stays pending and is reconciled, never blindly retried.
    if (mayHavePosted(error)) return { ok: false, code: 'unknown', message, retryable: false };
    recordFailed(deps, begun.value.id, message, { permanent: isPermanentXError(error) });
    return {
      ok: false,
      code: error instanceof XBudgetRefusedError ? 'x_budget' : 'x_failed',
      message,
      retryable: !isPermanentXError(error),
      ...(error instanceof XAuthExpiredError && { disconnected: true }),
    };
  }
  deps.afterPost?.(begun.value, created.id);
  recordPosted(deps, begun.value.id, created.id);
  return { ok: true, tweetId: created.id };
}

/**
 * Posts a thread's remaining parts as a reply chain, 1–3 s apart, each through its own intent.
 * Stops at the first failure (the thread is then partial and its item backs off).
 */
export async function postThreadParts(
  deps: LoopDeps,
  threadId: number,
  origin: { source: 'thread' | 'approval' | 'scheduled'; approvalId?: number; scheduledId?: number },
  /** The item's media, attached to the thread's first post. */
  media: readonly string[] = [],
): Promise<Published> {
  let last: Published = { ok: false, code: 'not_ready', message: 'The thread has no unposted part.', retryable: false };
  for (let part = nextThreadPart(deps.db, threadId), first = true; part; part = nextThreadPart(deps.db, threadId), first = false) {
    if (!first) await deps.sleep(1_000 + Math.floor(deps.random() * 2_001));
    last = await publish(deps, {
      kind: 'thread_tweet',
      text: part.content,
      inReplyTo: part.replyTo,
      source: origin.source,
      approvalId: origin.approvalId ?? null,
      scheduledId: origin.scheduledId ?? null,
      threadId,
      position: part.position,
    }, part.position === 0 ? media : []);
    if (!last.ok) return last;
  }
  return last;
}

/**
 * Settles intents a crash (or an unanswered POST) left pending, against our posts at X since the oldest
 * of them (since_id from its time, paged), so "X has no such post" is only concluded after seeing every
 * post made since. Runs before anything is posted in an activation (publish waits for it), and again for
 * intents older than a minute (X may take a moment to list a post). A failed or unfinished read leaves
 * them pending for the next try.
 */
export async function reconcileOpenIntents(deps: LoopDeps, selfId: string): Promise<void> {
  const now = deps.now();
  const all = !deps.activation.reconciled;
  const open = openIntents(deps.db).filter((intent) => all || intent.createdAt < now - 60_000);
  if (open.length === 0) {
    deps.activation.reconciled = true;
    return;
  }
  const client = deps.x().client();
  if (!client) return;
  const since = Math.min(...open.map((intent) => intent.createdAt)) - 120_000;
  const posts: XPost[] = [];
  let nextToken: string | undefined;
  try {
    for (let page = 0; page < RECONCILE_PAGES; page++) {
      // Small pages: a page of 100 is estimated above a small plan's daily read budget.
      const read = await client.userPosts(selfId, { maxResults: 10, sinceId: snowflakeAt(since), ...(nextToken && { nextToken }) });
      posts.push(...read.posts);
      nextToken = read.nextToken;
      if (!nextToken) break;
    }
  } catch {
    return;
  }
  if (nextToken !== undefined) return;
  for (const intent of open) reconcileIntent(deps, intent, posts);
  deps.activation.reconciled = true;
}

const RECONCILE_PAGES = 5;
/** X's ids start with the milliseconds since its epoch (2010-11-04), so a time is an id to read "since". */
const X_EPOCH = 1_288_834_974_657n;

function snowflakeAt(at: number): string {
  return ((BigInt(Math.max(0, Math.floor(at))) - X_EPOCH) << 22n).toString();
}

/** When an action limit has room again: the start of the next day (week for threads) in the tenant zone. */
export function nextWindowStart(deps: LoopDeps, kind: ActionKind): number {
  const zone = tenantZone(deps.db);
  const unit = kind === 'thread' ? 'week' : 'day';
  return DateTime.fromMillis(windowStart(unit, zone, deps.now()), { zone }).plus(unit === 'week' ? { weeks: 1 } : { days: 1 }).toMillis();
}
