/**
 * What the runtime measured, as the tenant API reports it: follower snapshots (one per tenant day,
 * `follower_snapshots`), post performance (`post_metrics`, measured a day to a week after posting),
 * the running mean per topic and format (`content_scores`), and the replies we sent.
 *
 * The reference's follower history was "the last N rows"; here it is a real date window, in the
 * tenant's own days. Follower changes compare the newest snapshot with the newest one at least 7 (30)
 * tenant days older; with no snapshot that old the change is null, not a guess. "Today" is the tenant's
 * calendar day, as for the action limits.
 */
import { DateTime } from 'luxon';
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import { tenantZone, windowStart } from '../action-limits.js';
import { validate, type Handler, type HandlerContext } from '../handlers.js';

const DAY_MS = 86_400_000;
/** The longest follower window one request may ask for. */
const MAX_WINDOW_DAYS = 400;
const epochMs = v.pipe(v.number(), v.integer(), v.minValue(0));
const Limit = v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200)));
const Before = v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1))));
const WindowParams = v.object({ from: epochMs, to: epochMs });
const LimitParams = v.object({ limit: Limit });
const PageParams = v.object({ before: Before, limit: Limit });

interface Snapshot {
  day: string;
  followers: number;
  following: number;
  tweets: number;
  at: number;
}

function dayKey(at: number, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toISODate()!;
}

/** Followers now minus the newest snapshot at least `days` tenant days before the latest one. */
function followerChange(context: HandlerContext, latest: Snapshot | undefined, days: number): number | null {
  if (!latest) return null;
  const cutoff = DateTime.fromISO(latest.day).minus({ days }).toISODate()!;
  const then = context.db.prepare<[string], { followers: number }>('SELECT followers FROM follower_snapshots WHERE day <= ? ORDER BY day DESC LIMIT 1').get(cutoff);
  return then ? latest.followers - then.followers : null;
}

function countSince(context: HandlerContext, sql: string, since: number): number {
  return context.db.prepare<[number], { n: number }>(sql).get(since)!.n;
}

function performanceOf(context: HandlerContext, kind: 'reply' | 'tweet' | 'thread') {
  const row = context.db
    .prepare<[string], { measured: number; avg_score: number | null; avg_likes: number | null; avg_replies: number | null; avg_retweets: number | null; avg_impressions: number | null }>(
      `SELECT count(*) AS measured, avg(score) AS avg_score, avg(likes) AS avg_likes, avg(replies) AS avg_replies, avg(retweets) AS avg_retweets, avg(impressions) AS avg_impressions
       FROM post_metrics WHERE kind = ? AND gone = 0`,
    )
    .get(kind)!;
  return {
    measured: row.measured,
    avgScore: row.avg_score,
    avgLikes: row.avg_likes,
    avgReplies: row.avg_replies,
    avgRetweets: row.avg_retweets,
    avgImpressions: row.avg_impressions,
  };
}

function topics(context: HandlerContext, limit: number) {
  return context.db
    .prepare<[number], { topic: string; format: string; posts: number; avg_score: number; updated_at: number }>('SELECT * FROM content_scores ORDER BY avg_score DESC, posts DESC, topic LIMIT ?')
    .all(limit)
    .map((row) => ({ topic: row.topic, format: row.format === '' ? null : row.format, posts: row.posts, avgScore: row.avg_score, updatedAt: row.updated_at }));
}

export const analyticsHandlers: Record<string, Handler> = {
  'analytics.summary': (context) => {
    const zone = tenantZone(context.db);
    const dayStart = windowStart('day', zone, Date.now());
    const latest = context.db.prepare<[], Snapshot>('SELECT * FROM follower_snapshots ORDER BY day DESC LIMIT 1').get();
    const totals = context.db
      .prepare<[], { replies: number; tweets: number; threads: number; avg_relevance: number | null }>(
        `SELECT (SELECT count(*) FROM replies) AS replies, (SELECT count(*) FROM original_tweets) AS tweets,
                (SELECT count(*) FROM threads WHERE status = 'posted') AS threads, (SELECT avg(score) FROM replies) AS avg_relevance`,
      )
      .get()!;
    return {
      timeZone: zone,
      followers: {
        current: latest?.followers ?? null,
        asOf: latest?.at ?? null,
        change7d: followerChange(context, latest, 7),
        change30d: followerChange(context, latest, 30),
      },
      actionsToday: {
        since: dayStart,
        replies: countSince(context, 'SELECT count(*) AS n FROM replies WHERE posted_at >= ?', dayStart),
        tweets: countSince(context, 'SELECT count(*) AS n FROM original_tweets WHERE posted_at >= ?', dayStart),
        threads: countSince(context, "SELECT count(*) AS n FROM threads WHERE status = 'posted' AND posted_at >= ?", dayStart),
      },
      engagement: {
        avgReplyRelevance: totals.avg_relevance,
        avgReplyPerformance: performanceOf(context, 'reply').avgScore,
        avgTweetPerformance: performanceOf(context, 'tweet').avgScore,
        totalRepliesSent: totals.replies,
        totalTweetsPosted: totals.tweets,
        totalThreadsPosted: totals.threads,
      },
      topTopics: topics(context, 5),
    };
  },

  /** The snapshots of the tenant days from the day of `from` through the day of `to`, oldest first. */
  'analytics.followers': (context, params) => {
    const { from, to } = validate(WindowParams, params);
    if (to < from) throw new RemoteError('invalid_params', 'The window ends before it starts.', { to: 'must not be before from' });
    if (to - from > MAX_WINDOW_DAYS * DAY_MS) throw new RemoteError('invalid_params', `At most ${MAX_WINDOW_DAYS} days at once.`, { from: `at most ${MAX_WINDOW_DAYS} days before to` });
    const zone = tenantZone(context.db);
    const first = dayKey(from, zone);
    const last = dayKey(to, zone);
    const days = context.db.prepare<[string, string], Snapshot>('SELECT day, followers, following, tweets, at FROM follower_snapshots WHERE day >= ? AND day <= ? ORDER BY day').all(first, last);
    return { timeZone: zone, from: first, to: last, days };
  },

  'analytics.performance': (context) => ({
    replies: performanceOf(context, 'reply'),
    tweets: performanceOf(context, 'tweet'),
    threads: performanceOf(context, 'thread'),
  }),

  'analytics.topics': (context, params) => {
    const { limit = 20 } = validate(LimitParams, params ?? {});
    return { items: topics(context, limit) };
  },

  /** Our measured posts, the latest measured first, each with what it was and how it did. */
  'analytics.recent-performance': (context, params) => {
    const { before, limit = 20 } = validate(PageParams, params ?? {});
    const rows = context.db
      .prepare<
        { before: number | null; limit: number },
        { cursor: number; tweet_id: string; kind: 'reply' | 'tweet' | 'thread'; likes: number; replies: number; retweets: number; quotes: number; impressions: number; score: number; gone: number; measured_at: number; content: string | null; topic: string | null; posted_at: number | null }
      >(
        `SELECT m.rowid AS cursor, m.*,
                coalesce(r.content, o.content, (SELECT tt.content FROM thread_tweets tt WHERE tt.thread_id = th.id AND tt.position = 0)) AS content,
                coalesce(o.topic, th.topic) AS topic, coalesce(r.posted_at, o.posted_at, th.posted_at) AS posted_at
         FROM post_metrics m
         LEFT JOIN replies r ON m.kind = 'reply' AND r.tweet_id = m.tweet_id
         LEFT JOIN original_tweets o ON m.kind = 'tweet' AND o.tweet_id = m.tweet_id
         LEFT JOIN threads th ON m.kind = 'thread' AND th.root_tweet_id = m.tweet_id
         WHERE (@before IS NULL OR m.rowid < @before) ORDER BY m.rowid DESC LIMIT @limit`,
      )
      .all({ before: before ?? null, limit: limit + 1 });
    const items = rows.slice(0, limit).map((row) => ({
      tweetId: row.tweet_id,
      kind: row.kind,
      preview: row.content === null ? null : row.content.slice(0, 120),
      topic: row.topic,
      postedAt: row.posted_at,
      measuredAt: row.measured_at,
      gone: row.gone === 1,
      metrics: { likes: row.likes, replies: row.replies, retweets: row.retweets, quotes: row.quotes, impressions: row.impressions },
      performanceScore: row.score,
    }));
    return { items, nextCursor: rows.length > limit ? rows[limit - 1]!.cursor : null };
  },

  /** The replies we sent (all of them exist at X), newest first, with their measurement once there is one. */
  'replies.list': (context, params) => {
    const { before, limit = 50 } = validate(PageParams, params ?? {});
    const rows = context.db
      .prepare<
        { before: number | null; limit: number },
        {
          id: number;
          tweet_id: string;
          target_tweet_id: string;
          target_author_id: string;
          target_author_username: string;
          source: string;
          content: string;
          mentions_product: number;
          archetype: string | null;
          score: number | null;
          approval_id: number | null;
          posted_at: number;
          measured_score: number | null;
          likes: number | null;
          impressions: number | null;
        }
      >(
        `SELECT r.*, m.score AS measured_score, m.likes, m.impressions FROM replies r LEFT JOIN post_metrics m ON m.tweet_id = r.tweet_id AND m.gone = 0
         WHERE (@before IS NULL OR r.id < @before) ORDER BY r.id DESC LIMIT @limit`,
      )
      .all({ before: before ?? null, limit: limit + 1 });
    const items = rows.slice(0, limit).map((row) => ({
      id: row.id,
      tweetId: row.tweet_id,
      targetTweetId: row.target_tweet_id,
      targetAuthor: { id: row.target_author_id, username: row.target_author_username },
      source: row.source,
      content: row.content,
      mentionsProduct: row.mentions_product === 1,
      archetype: row.archetype,
      relevanceScore: row.score,
      approvalId: row.approval_id,
      postedAt: row.posted_at,
      performance: row.measured_score === null ? null : { score: row.measured_score, likes: row.likes, impressions: row.impressions },
    }));
    return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
  },
};
