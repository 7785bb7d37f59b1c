/**
 * The discovery feed (posts the runtime found and stored in `discovered_tweets`, with the six-signal
 * score breakdown it computed) and the user's own replies to them: an LLM-written suggestion, and
 * queueing a reply.
 *
 * A queued reply is the user's own decision, so it enters the approval queue already approved (the
 * store's "post now" for compose) and the approval poster posts it, with its pacing, limits and crash
 * safety — never directly from here. It passes the guards first: never ourselves, never twice (posted,
 * queued or being posted), the per-author and target caps of the day, the text rules (length, banned
 * phrases, phrasing too close to a recent reply). A reply the user rejected earlier does not block
 * their own text: the rejection was of that text.
 */
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import { ActionLimits } from '../action-limits.js';
import { validate, type Handler, type HandlerContext } from '../handlers.js';
import { enqueueApproval } from '../runtime/approvals.js';
import { loadRuntimeConfig } from '../runtime/config.js';
import { checkCandidate, checkText, mentionsProduct } from '../runtime/guards.js';
import { generate } from './assist.js';
import { refuseWhenReadOnly } from './read-only.js';

const SOURCES = ['search', 'mention', 'target'] as const;
const TweetId = v.pipe(v.string(), v.regex(/^\d{1,19}$/, 'must be an X post id'));

const FeedParams = v.object({
  minScore: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(100))),
  sources: v.optional(v.array(v.picklist(SOURCES, `must be one of ${SOURCES.join(', ')}`))),
  before: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1)))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))),
});
const ComposeParams = v.object({ tweetId: TweetId, mentionProduct: v.optional(v.boolean(), false) });
const QueueParams = v.object({ tweetId: TweetId, content: v.pipe(v.string(), v.trim(), v.minLength(1, 'must not be empty'), v.maxLength(2000)) });

interface PostRow {
  cursor: number;
  tweet_id: string;
  source: (typeof SOURCES)[number];
  keyword: string | null;
  author_id: string;
  author_username: string;
  author_followers: number | null;
  text: string;
  created_at: number | null;
  likes: number;
  retweets: number;
  replies: number;
  quotes: number;
  impressions: number;
  score: number | null;
  score_breakdown: string | null;
  matched_keywords: string;
  status: string;
  skip_reason: string | null;
  discovered_at: number;
  reply_tweet_id: string | null;
  reply_content: string | null;
  reply_posted_at: number | null;
  queued_id: number | null;
}

const POST_SELECT = `SELECT d.rowid AS cursor, d.*, r.tweet_id AS reply_tweet_id, r.content AS reply_content, r.posted_at AS reply_posted_at,
    (SELECT q.id FROM approval_queue q WHERE q.kind = 'reply' AND q.target_tweet_id = d.tweet_id AND q.status IN ('pending', 'approved', 'posting')) AS queued_id
  FROM discovered_tweets d LEFT JOIN replies r ON r.target_tweet_id = d.tweet_id`;

function postView(row: PostRow) {
  return {
    tweetId: row.tweet_id,
    source: row.source,
    keyword: row.keyword,
    author: { id: row.author_id, username: row.author_username, followers: row.author_followers },
    text: row.text,
    postedAt: row.created_at,
    metrics: { likes: row.likes, retweets: row.retweets, replies: row.replies, quotes: row.quotes, impressions: row.impressions },
    score: row.score,
    // The six signals as stored when it was scored; null for mentions and target posts (not scored).
    scoreBreakdown: row.score_breakdown === null ? null : (JSON.parse(row.score_breakdown) as Record<string, number>),
    matchedKeywords: JSON.parse(row.matched_keywords) as string[],
    status: row.status,
    skipReason: row.skip_reason,
    discoveredAt: row.discovered_at,
    reply: row.reply_tweet_id === null ? null : { tweetId: row.reply_tweet_id, content: row.reply_content, postedAt: row.reply_posted_at },
    queuedApprovalId: row.queued_id,
  };
}

function storedPost(context: HandlerContext, tweetId: string): PostRow {
  const row = context.db.prepare<[string], PostRow>(`${POST_SELECT} WHERE d.tweet_id = ?`).get(tweetId);
  if (!row) throw new RemoteError('not_found', `No stored post ${tweetId}.`);
  return row;
}

/** The X account replies go out as: the guards need it (never ourselves). */
function self(context: HandlerContext) {
  const account = context.xAccount().connection.status().account;
  // Not connected: nothing is ours yet (a stored post may lack its author id, so not '').
  return account ? { id: account.id, username: account.username } : { id: '\u0000', username: '\u0000' };
}

export const discoveryHandlers: Record<string, Handler> = {
  'discovery.feed': (context, params) => {
    const { minScore, sources, before, limit = 50 } = validate(FeedParams, params ?? {});
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (minScore !== undefined) {
      where.push('d.score >= ?');
      args.push(minScore);
    }
    if (sources?.length) {
      where.push(`d.source IN (${sources.map(() => '?').join(', ')})`);
      args.push(...sources);
    }
    if (before != null) {
      where.push('d.rowid < ?');
      args.push(before);
    }
    const rows = context.db.prepare<(string | number)[], PostRow>(`${POST_SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.rowid DESC LIMIT ?`).all(...args, limit + 1);
    return { items: rows.slice(0, limit).map(postView), nextCursor: rows.length > limit ? rows[limit - 1]!.cursor : null };
  },

  'discovery.compose-reply': async (context, params) => {
    refuseWhenReadOnly(context);
    const { tweetId, mentionProduct } = validate(ComposeParams, params);
    const post = storedPost(context, tweetId);
    // AI assist's way to the LLM (someone waits: fail fast), metered as assist.reply.
    const reply = await generate(context, 'reply', (writer) => writer.reply({ authorUsername: post.author_username, text: post.text }, { mentionProduct }));
    return { tweetId, content: reply.text, archetype: reply.archetype, mentionProduct: reply.mentionProduct, truncated: reply.truncated };
  },

  'discovery.queue-reply': (context, params) => {
    refuseWhenReadOnly(context);
    const { tweetId, content } = validate(QueueParams, params);
    const post = storedPost(context, tweetId);
    const { config } = loadRuntimeConfig(context.db);
    const source = post.source === 'search' ? 'discovery' : post.source;
    const now = Date.now();
    const candidate = checkCandidate(
      context.db,
      { tweetId, authorId: post.author_id, authorUsername: post.author_username, source },
      { self: self(context), maxRepliesPerAuthorPerDay: config.limits.maxRepliesPerAuthorPerDay, maxTargetRepliesPerDay: config.limits.maxTargetRepliesPerDay, timezone: config.schedule.timezone },
      now,
    );
    if (!candidate.ok && candidate.reason !== 'rejected_before') throw new RemoteError('guard_refused', candidate.detail, { tweetId: candidate.reason });
    const text = checkText(context.db, content, { kind: 'reply', bannedPhrases: config.limits.bannedPhrases, attempt: 1 });
    if (!text.ok) throw new RemoteError('invalid_params', text.detail, { content: text.reason });
    const store = { db: context.db, now: Date.now, emit: context.emit, limits: new ActionLimits(context.db, () => context.ceilings) };
    const queued = enqueueApproval(store, {
      kind: 'reply',
      content,
      source,
      target: { tweetId, authorId: post.author_id, authorUsername: post.author_username, text: post.text },
      score: post.score,
      mentionsProduct: mentionsProduct(content, config.business),
      approved: true,
    });
    if (!queued.ok) throw queued.code === 'already_queued' ? new RemoteError('guard_refused', queued.message, { tweetId: 'already_replied' }) : new RemoteError('invalid_params', queued.message, { content: queued.code });
    // The poster idles between polls; the user's reply is worth posting now (pacing still applies).
    context.db.prepare("UPDATE jobs SET next_run_at = ?, paused_until = NULL WHERE name = 'approval-poster'").run(now);
    void context.tick();
    return { approval: queued.value, status: queued.value.status };
  },
};
