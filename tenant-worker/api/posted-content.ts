/**
 * What was posted: our standalone tweets and our threads, newest first, with their X ids and the
 * measured performance once the analytics job has measured them (a day to a week after posting,
 * post_metrics). Pages by id (`before` = the previous page's `nextCursor`).
 *
 * A tweet row exists only once X gave it an id ("posted means has an X id"), so a tweet is `posted`,
 * or `deleted` when X no longer had it at measurement; an attempt that failed stays on the item that
 * asked for it (scheduled item, approval item) with its error, and in the activity feed. A thread is
 * written before its first part is posted, so it carries its own status (posting, posted, partial,
 * failed), the error that stopped it, and each part's X id.
 */
import type Database from 'better-sqlite3';

export interface Performance {
  /** The runtime's engagement score (topics.ts), the same number topic selection learns from. */
  score: number;
  likes: number;
  retweets: number;
  replies: number;
  quotes: number;
  impressions: number;
  measuredAt: number;
}

export interface MetricsColumns {
  m_score: number | null;
  m_likes: number | null;
  m_retweets: number | null;
  m_replies: number | null;
  m_quotes: number | null;
  m_impressions: number | null;
  m_gone: number | null;
  m_measured_at: number | null;
}

/** The post_metrics columns under the names `performanceOf` reads, for a LEFT JOIN aliased `m`. */
export const METRICS_COLUMNS =
  'm.score AS m_score, m.likes AS m_likes, m.retweets AS m_retweets, m.replies AS m_replies, m.quotes AS m_quotes, m.impressions AS m_impressions, m.gone AS m_gone, m.measured_at AS m_measured_at';

/** Null until measured, and for a post that was gone at X when it was due (it has no real score). */
export function performanceOf(row: MetricsColumns): Performance | null {
  if (row.m_measured_at === null || row.m_gone === 1) return null;
  return {
    score: row.m_score!,
    likes: row.m_likes!,
    retweets: row.m_retweets!,
    replies: row.m_replies!,
    quotes: row.m_quotes!,
    impressions: row.m_impressions!,
    measuredAt: row.m_measured_at,
  };
}

export interface Page {
  before?: number | null;
  limit?: number;
}

const DEFAULT_LIMIT = 50;

/** A page of `table`'s rows with the metrics of their post (`tweetColumn`), newest first. */
function pageWithMetrics<T extends MetricsColumns & { id: number }>(db: Database.Database, table: 'original_tweets' | 'threads', tweetColumn: 'tweet_id' | 'root_tweet_id', page: Page) {
  const limit = page.limit ?? DEFAULT_LIMIT;
  const rows = db
    .prepare<[{ before: number | null; limit: number }], T>(
      `SELECT x.*, ${METRICS_COLUMNS} FROM ${table} x LEFT JOIN post_metrics m ON m.tweet_id = x.${tweetColumn}
       WHERE @before IS NULL OR x.id < @before ORDER BY x.id DESC LIMIT @limit`,
    )
    .all({ before: page.before ?? null, limit: limit + 1 });
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.id : null };
}

interface TweetRow extends MetricsColumns {
  id: number;
  tweet_id: string;
  content: string;
  topic: string | null;
  format: string | null;
  source: string;
  approval_id: number | null;
  scheduled_id: number | null;
  posted_at: number;
}

export function listPostedTweets(db: Database.Database, page: Page) {
  const { items, nextCursor } = pageWithMetrics<TweetRow>(db, 'original_tweets', 'tweet_id', page);
  return {
    items: items.map((row) => ({
      id: row.id,
      status: row.m_gone === 1 ? ('deleted' as const) : ('posted' as const),
      tweetId: row.tweet_id,
      content: row.content,
      topic: row.topic,
      format: row.format,
      source: row.source,
      approvalId: row.approval_id,
      scheduledId: row.scheduled_id,
      postedAt: row.posted_at,
      performance: performanceOf(row),
    })),
    nextCursor,
  };
}

interface ThreadRow extends MetricsColumns {
  id: number;
  topic: string | null;
  structure: string | null;
  source: string;
  status: 'posting' | 'posted' | 'partial' | 'failed';
  tweet_count: number;
  posted_count: number;
  root_tweet_id: string | null;
  approval_id: number | null;
  scheduled_id: number | null;
  last_error: string | null;
  created_at: number;
  posted_at: number | null;
}

export function listThreads(db: Database.Database, page: Page) {
  const { items, nextCursor } = pageWithMetrics<ThreadRow>(db, 'threads', 'root_tweet_id', page);
  const parts = db.prepare<[number], { position: number; content: string; tweet_id: string | null; posted_at: number | null }>(
    'SELECT position, content, tweet_id, posted_at FROM thread_tweets WHERE thread_id = ? ORDER BY position',
  );
  return {
    items: items.map((row) => ({
      id: row.id,
      status: row.status,
      topic: row.topic,
      structure: row.structure,
      source: row.source,
      tweetCount: row.tweet_count,
      postedCount: row.posted_count,
      rootTweetId: row.root_tweet_id,
      parts: parts.all(row.id).map((part) => ({ position: part.position, content: part.content, tweetId: part.tweet_id, postedAt: part.posted_at })),
      error: row.last_error,
      approvalId: row.approval_id,
      scheduledId: row.scheduled_id,
      createdAt: row.created_at,
      /** When the last part went out (null until the thread is complete). */
      postedAt: row.posted_at,
      performance: performanceOf(row),
    })),
    nextCursor,
  };
}
