/**
 * Which topic the next tweet or thread is about: epsilon-greedy over measured performance.
 *
 * Performance comes from post_metrics, measured a day after posting; each measurement of a tweet or
 * thread updates the running mean of its (topic, format) in content_scores — the step the reference
 * never took, so its "exploit" branch never had data. Recently used topics are excluded (memory of
 * clamp(n/2, 3, n) topics, cleared when every topic was used), so the best topic does not repeat.
 */
import type Database from 'better-sqlite3';

export const EPSILON = 0.2;
const EXPLOIT_TOP = 10;
/** Measured from a day after posting; after a week a post is no longer worth a read. */
export const MEASURE_AFTER_MS = 24 * 3_600_000;
export const MEASURE_UNTIL_MS = 7 * 24 * 3_600_000;

export interface PostMetrics {
  likes: number;
  retweets: number;
  replies: number;
  quotes: number;
  impressions: number;
}

/** Engagement per thousand impressions, replies weighing most (the reference's formula). */
export function performanceScore(m: Pick<PostMetrics, 'likes' | 'retweets' | 'replies' | 'impressions'>): number {
  return ((m.likes * 3 + m.replies * 5 + m.retweets * 4) / Math.max(m.impressions, 1)) * 1000;
}

/** How many recent topics are excluded. */
export function memorySize(topicCount: number): number {
  return Math.min(topicCount, Math.max(3, Math.floor(topicCount / 2)));
}

export interface TopicChoice {
  topic: string;
  how: 'exploit' | 'explore';
}

export function pickTopic(options: {
  topics: readonly string[];
  /** Average performance per topic (topicScores). */
  scores: ReadonlyMap<string, number>;
  /** Topics used lately, newest first (recentTopics). */
  recent: readonly string[];
  epsilon?: number;
  random?: () => number;
}): TopicChoice | null {
  const random = options.random ?? Math.random;
  const topics = [...new Set(options.topics)];
  if (topics.length === 0) return null;
  const remembered = new Set(options.recent.slice(0, memorySize(topics.length)));
  let fresh = topics.filter((topic) => !remembered.has(topic));
  if (fresh.length === 0) fresh = topics;
  const ranked = fresh
    .filter((topic) => options.scores.has(topic))
    .sort((a, b) => options.scores.get(b)! - options.scores.get(a)!)
    .slice(0, EXPLOIT_TOP);
  // Always draw first, so one draw decides explore/exploit whether or not there is data yet.
  const explore = random() < (options.epsilon ?? EPSILON);
  if (ranked.length > 0 && !explore) return { topic: ranked[0]!, how: 'exploit' };
  return { topic: fresh[Math.min(fresh.length - 1, Math.floor(random() * fresh.length))]!, how: 'explore' };
}

/** Average performance per topic over its formats, weighted by posts. */
export function topicScores(db: Database.Database): Map<string, number> {
  const rows = db
    .prepare<[], { topic: string; avg: number }>('SELECT topic, sum(avg_score * posts) / sum(posts) AS avg FROM content_scores GROUP BY topic')
    .all();
  return new Map(rows.map((row) => [row.topic, row.avg]));
}

/** Topics of our latest tweets and threads, posted or queued, newest first. */
export function recentTopics(db: Database.Database, limit = 50): string[] {
  return db
    .prepare<[number], { topic: string }>(
      `SELECT topic FROM (
         SELECT topic, posted_at AS at FROM original_tweets WHERE topic IS NOT NULL
         UNION ALL SELECT topic, created_at FROM threads WHERE topic IS NOT NULL
         UNION ALL SELECT topic, created_at FROM approval_queue WHERE kind IN ('tweet', 'thread') AND topic IS NOT NULL AND status IN ('pending', 'approved', 'posting'))
       ORDER BY at DESC LIMIT ?`,
    )
    .all(limit)
    .map((row) => row.topic);
}

export function recordContentScore(db: Database.Database, topic: string, format: string | null, score: number, now: number): void {
  db.prepare(
    `INSERT INTO content_scores (topic, format, posts, avg_score, updated_at) VALUES (?, ?, 1, ?, ?)
     ON CONFLICT (topic, format) DO UPDATE SET avg_score = avg_score + (excluded.avg_score - avg_score) / (posts + 1), posts = posts + 1, updated_at = excluded.updated_at`,
  ).run(topic, format ?? '', score, now);
}

export interface DueMeasurement {
  tweetId: string;
  kind: 'reply' | 'tweet' | 'thread';
  postedAt: number;
}

/** Our posts a day to a week old that have not been measured, oldest first. */
export function dueForMeasurement(db: Database.Database, now: number, limit = 50): DueMeasurement[] {
  return db
    .prepare<[{ newest: number; oldest: number; limit: number }], DueMeasurement>(
      `SELECT tweetId, kind, postedAt FROM (
         SELECT tweet_id AS tweetId, 'reply' AS kind, posted_at AS postedAt FROM replies
         UNION ALL SELECT tweet_id, 'tweet', posted_at FROM original_tweets
         UNION ALL SELECT root_tweet_id, 'thread', posted_at FROM threads WHERE status = 'posted')
       WHERE postedAt <= @newest AND postedAt >= @oldest AND tweetId NOT IN (SELECT tweet_id FROM post_metrics)
       ORDER BY postedAt LIMIT @limit`,
    )
    .all({ newest: now - MEASURE_AFTER_MS, oldest: now - MEASURE_UNTIL_MS, limit });
}

/**
 * Stores one measurement (null metrics: the post is gone at X) and, for a tweet or thread with a topic,
 * feeds its score into content_scores, in one transaction.
 */
export function recordMeasurement(db: Database.Database, due: DueMeasurement, metrics: PostMetrics | null, now: number): number {
  const m = metrics ?? { likes: 0, retweets: 0, replies: 0, quotes: 0, impressions: 0 };
  const score = metrics ? performanceScore(m) : 0;
  db.transaction(() => {
    const inserted = db
      .prepare('INSERT OR IGNORE INTO post_metrics (tweet_id, kind, likes, retweets, replies, quotes, impressions, score, gone, measured_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(due.tweetId, due.kind, m.likes, m.retweets, m.replies, m.quotes, m.impressions, score, metrics ? 0 : 1, now).changes;
    if (inserted === 0 || !metrics || due.kind === 'reply') return;
    const origin =
      due.kind === 'tweet'
        ? db.prepare<[string], { topic: string | null; format: string | null }>('SELECT topic, format FROM original_tweets WHERE tweet_id = ?').get(due.tweetId)
        : db.prepare<[string], { topic: string | null; format: string | null }>('SELECT topic, structure AS format FROM threads WHERE root_tweet_id = ?').get(due.tweetId);
    if (origin?.topic) recordContentScore(db, origin.topic, origin.format, score, now);
  })();
  return score;
}
