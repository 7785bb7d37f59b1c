/**
 * The weekly strategy report: what one week (Monday 00:00 to the next Monday 00:00 in the tenant's
 * IANA zone, so 167 or 169 hours across a DST change) actually produced, and what to do about it.
 *
 * Sources, each for what only it knows:
 * - posts: `replies`, `original_tweets` and posted `threads` (they carry the X id and outlive the
 *   action log's retention, which may be as short as 7 days);
 * - performance: `post_metrics` of those posts (measured from 24 h after posting), and the all-time
 *   topic means of `content_scores` next to the week's own;
 * - what did not happen: `action_log` failures, skips and queued items, in its one vocabulary;
 * - followers: `follower_snapshots` (one per tenant day; the week starts at the last snapshot before
 *   its Monday).
 *
 * Recommendations are the reference's rules (promote, kill, low volume, follower stall, acceptance
 * low/high, week-over-week drop, low diversity), with two fixes: rules on rates need enough data to
 * mean something (5 measured replies, 3 measured posts a week), and a week still running is judged
 * against the capacity of the part that has passed. Reports are stored in `strategy_reports`, one per
 * week; a report computed after its week ended is `complete`.
 */
import type Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { countActions } from './action-log.js';
import type { RuntimeConfig } from './config.js';
import type { RuntimeContext } from './context.js';
import { topicScores } from './topics.js';

export interface Week {
  /** Monday 00:00 in `timeZone`, epoch ms. */
  weekStart: number;
  /** The next Monday 00:00 there (exclusive). */
  weekEnd: number;
  timeZone: string;
  /** Monday and Sunday as local dates (YYYY-MM-DD). */
  firstDay: string;
  lastDay: string;
}

export interface TopicPerformance {
  topic: string;
  /** Mean score of the week's measured tweets and threads about it. */
  avgScore: number;
  posts: number;
  /** The running mean over every measured post about it (content_scores), for comparison. */
  allTimeAvgScore: number | null;
}

export interface ContentPerformance {
  kind: 'reply' | 'tweet' | 'thread';
  tweetId: string;
  preview: string;
  score: number;
  likes: number;
  retweets: number;
  replies: number;
  impressions: number;
  postedAt: number;
}

export const CATEGORIES = ['promote', 'kill', 'experiment', 'alert', 'celebrate'] as const;
export const PRIORITIES = ['high', 'medium', 'low'] as const;

export interface Recommendation {
  category: (typeof CATEGORIES)[number];
  priority: (typeof PRIORITIES)[number];
  /** Which rule fired (stable, for clients that group or hide them). */
  rule: string;
  title: string;
  description: string;
}

export interface StrategyMetrics {
  output: {
    replies: number;
    tweets: number;
    threads: number;
    total: number;
    repliesBySource: { discovery: number; mention: number; target: number; manual: number };
    /** Threads that stopped between parts this week. */
    partialThreads: number;
    /** Post attempts that failed, items skipped by a guard or limit, items queued for approval (action log). */
    failed: number;
    skipped: number;
    queued: number;
  };
  /** Posts the limits allowed in the week (or in its elapsed part, for a week still running). */
  capacity: number;
  followers: { start: number | null; end: number | null; delta: number | null };
  scores: { avgReply: number | null; avgTweet: number | null; measuredReplies: number; measuredTweets: number };
  /** Share of measured replies that got at least one reply; null without measured replies. */
  replyAcceptanceRate: number | null;
  /** max(follower delta, 0) per post; null without posts or snapshots. */
  estimatedFollowConversion: number | null;
  distinctTopics: number;
  topTopics: TopicPerformance[];
  bottomTopics: TopicPerformance[];
  topContent: ContentPerformance[];
}

export interface StrategyReport extends Week, StrategyMetrics {
  /** Computed after the week ended: the numbers will not move (but for late measurements). */
  complete: boolean;
  computedAt: number;
  recommendations: Recommendation[];
}

const TOP = 5;
const MIN_TOPIC_POSTS = 3;
const MIN_MEASURED_REPLIES = 5;
const MIN_MEASURED_POSTS = 3;

/** The week holding `at`, in `zone` (ISO weeks: luxon starts them on Monday). */
export function weekOf(at: number, zone: string): Week {
  const start = DateTime.fromMillis(at, { zone }).startOf('week');
  const end = start.plus({ weeks: 1 });
  return { weekStart: start.toMillis(), weekEnd: end.toMillis(), timeZone: zone, firstDay: start.toISODate()!, lastDay: end.minus({ days: 1 }).toISODate()! };
}

export function previousWeek(week: Week): Week {
  return weekOf(week.weekStart - 1, week.timeZone);
}

/** What the report needs of the runtime: its DB, clock and limits (for the week's capacity). */
export type StrategyContext = Pick<RuntimeContext, 'db' | 'now' | 'limits'>;

interface PostRow {
  kind: 'reply' | 'tweet' | 'thread';
  tweetId: string;
  content: string;
  topic: string | null;
  source: string;
  postedAt: number;
  score: number | null;
  likes: number | null;
  retweets: number | null;
  replies: number | null;
  impressions: number | null;
}

const measured = (post: PostRow): post is PostRow & { score: number } => post.score !== null;

function postsOf(db: Database.Database, week: Week): PostRow[] {
  // post_metrics rows of posts gone at X are left out of the join: a deleted post has no score.
  return db
    .prepare<[{ from: number; to: number }], PostRow>(
      `SELECT p.*, m.score, m.likes, m.retweets, m.replies, m.impressions FROM (
         SELECT 'reply' AS kind, tweet_id AS tweetId, content, NULL AS topic, source, posted_at AS postedAt FROM replies WHERE posted_at >= @from AND posted_at < @to
         UNION ALL SELECT 'tweet', tweet_id, content, topic, source, posted_at FROM original_tweets WHERE posted_at >= @from AND posted_at < @to
         UNION ALL SELECT 'thread', t.root_tweet_id, coalesce(first.content, ''), t.topic, t.source, t.posted_at FROM threads t
           LEFT JOIN thread_tweets first ON first.thread_id = t.id AND first.position = 0
           WHERE t.status = 'posted' AND t.posted_at >= @from AND t.posted_at < @to AND t.root_tweet_id IS NOT NULL
       ) p LEFT JOIN post_metrics m ON m.tweet_id = p.tweetId AND m.gone = 0
       ORDER BY p.postedAt`,
    )
    .all({ from: week.weekStart, to: week.weekEnd });
}

const mean = (values: number[]): number | null => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
const round = (value: number | null, digits = 2): number | null => (value === null ? null : Math.round(value * 10 ** digits) / 10 ** digits);

function averageScores(posts: PostRow[]): StrategyMetrics['scores'] {
  const replies = posts.filter((p) => p.kind === 'reply').filter(measured).map((p) => p.score);
  const tweets = posts.filter((p) => p.kind !== 'reply').filter(measured).map((p) => p.score);
  return { avgReply: round(mean(replies)), avgTweet: round(mean(tweets)), measuredReplies: replies.length, measuredTweets: tweets.length };
}

function followersOf(db: Database.Database, week: Week): StrategyMetrics['followers'] {
  const before = db.prepare<[string], { followers: number }>('SELECT followers FROM follower_snapshots WHERE day < ? ORDER BY day DESC LIMIT 1').get(week.firstDay);
  const within = db
    .prepare<[string, string], { followers: number }>('SELECT followers FROM follower_snapshots WHERE day >= ? AND day <= ? ORDER BY day')
    .all(week.firstDay, week.lastDay);
  const start = before?.followers ?? within[0]?.followers ?? null;
  const end = within.at(-1)?.followers ?? null;
  return { start, end, delta: start !== null && end !== null ? end - start : null };
}

function topicsOf(posts: PostRow[], allTime: Map<string, number>): { top: TopicPerformance[]; bottom: TopicPerformance[]; distinct: number } {
  const byTopic = new Map<string, number[]>();
  const distinct = new Set<string>();
  for (const post of posts) {
    if (post.kind === 'reply' || post.topic === null) continue;
    distinct.add(post.topic);
    if (measured(post)) byTopic.set(post.topic, [...(byTopic.get(post.topic) ?? []), post.score]);
  }
  const topics = [...byTopic].map(([topic, scores]) => ({ topic, avgScore: round(mean(scores))!, posts: scores.length, allTimeAvgScore: round(allTime.get(topic) ?? null) }));
  return {
    top: [...topics].sort((a, b) => b.avgScore - a.avgScore || b.posts - a.posts).slice(0, TOP),
    bottom: topics.filter((t) => t.posts >= MIN_TOPIC_POSTS).sort((a, b) => a.avgScore - b.avgScore || b.posts - a.posts).slice(0, TOP),
    distinct: distinct.size,
  };
}

function partialThreads(db: Database.Database, week: Week): number {
  return db.prepare<[number, number], { n: number }>("SELECT count(*) AS n FROM threads WHERE status = 'partial' AND updated_at >= ? AND updated_at < ?").get(week.weekStart, week.weekEnd)!.n;
}

/** Posts the limits that apply now (min of setting and plan ceiling) allow in `share` of a week. */
function capacityOf(context: StrategyContext, config: RuntimeConfig, share: number): number {
  const limit = (kind: 'reply' | 'tweet' | 'thread', setting: number) => context.limits.usage(kind, setting).limit ?? setting;
  const perWeek = limit('reply', config.limits.maxRepliesPerDay) * 7 + limit('tweet', config.limits.maxTweetsPerDay) * 7 + limit('thread', config.limits.maxThreadsPerWeek);
  return Math.round(perWeek * share);
}

/** The metrics of one week as of now (a week still running counts what has happened so far). */
export function weekMetrics(context: StrategyContext, config: RuntimeConfig, week: Week): StrategyMetrics {
  const { db } = context;
  const now = context.now();
  const posts = postsOf(db, week);
  const count = (kind: PostRow['kind']) => posts.filter((p) => p.kind === kind).length;
  const replies = posts.filter((p) => p.kind === 'reply');
  const bySource = (source: string) => replies.filter((p) => p.source === source).length;
  const actions = countActions(db, week.weekStart, week.weekEnd);
  const posting = ['reply', 'tweet', 'thread'] as const;
  const sum = (status: 'failure' | 'skipped' | 'queued') => posting.reduce((n, action) => n + (actions[action]?.[status] ?? 0), 0);
  const output = {
    replies: replies.length,
    tweets: count('tweet'),
    threads: count('thread'),
    total: posts.length,
    repliesBySource: { discovery: bySource('discovery'), mention: bySource('mention'), target: bySource('target'), manual: bySource('manual') },
    partialThreads: partialThreads(db, week),
    failed: sum('failure'),
    skipped: sum('skipped'),
    queued: sum('queued'),
  };
  const measuredReplies = replies.filter(measured);
  const followers = followersOf(db, week);
  const topics = topicsOf(posts, topicScores(db));
  const elapsed = Math.min(1, Math.max(0, (now - week.weekStart) / (week.weekEnd - week.weekStart)));
  return {
    output,
    capacity: capacityOf(context, config, elapsed),
    followers,
    scores: averageScores(posts),
    replyAcceptanceRate: measuredReplies.length === 0 ? null : round(measuredReplies.filter((p) => (p.replies ?? 0) > 0).length / measuredReplies.length, 4),
    estimatedFollowConversion: followers.delta === null || output.total === 0 ? null : round(Math.max(followers.delta, 0) / output.total, 4),
    distinctTopics: topics.distinct,
    topTopics: topics.top,
    bottomTopics: topics.bottom,
    topContent: posts
      .filter(measured)
      .sort((a, b) => b.score - a.score)
      .slice(0, TOP)
      .map((p) => ({
        kind: p.kind,
        tweetId: p.tweetId,
        preview: p.content.length > 140 ? `${p.content.slice(0, 139)}…` : p.content,
        score: round(p.score)!,
        likes: p.likes ?? 0,
        retweets: p.retweets ?? 0,
        replies: p.replies ?? 0,
        impressions: p.impressions ?? 0,
        postedAt: p.postedAt,
      })),
  };
}

const PRIORITY_ORDER = { high: 0, medium: 1, low: 2 } as const;
const pct = (share: number) => `${Math.round(share * 100)} %`;
const num = (value: number) => (Math.round(value * 10) / 10).toString();

/** The rules, on this week's metrics and the previous week's average scores. */
export function recommend(metrics: StrategyMetrics, previous: StrategyMetrics['scores'] | null, complete: boolean): Recommendation[] {
  const out: Recommendation[] = [];
  const { output, scores } = metrics;
  const overall = scores.avgTweet;
  if (overall !== null && overall > 0) {
    for (const topic of metrics.topTopics) {
      if (topic.posts >= MIN_TOPIC_POSTS && topic.avgScore > 1.5 * overall) {
        out.push({ category: 'promote', priority: 'high', rule: 'promote_topic', title: `Double down on "${topic.topic}"`, description: `Its ${topic.posts} posts scored ${num(topic.avgScore)} on average against ${num(overall)} for all posts: write more about it.` });
      }
    }
    for (const topic of metrics.bottomTopics) {
      if (topic.avgScore < 0.5 * overall) {
        out.push({ category: 'kill', priority: 'medium', rule: 'kill_topic', title: `Reconsider "${topic.topic}"`, description: `Its ${topic.posts} posts scored ${num(topic.avgScore)} on average against ${num(overall)} for all posts: drop it or change the angle.` });
      }
    }
  }
  if (output.total === 0 && complete) {
    out.push({ category: 'alert', priority: 'high', rule: 'no_output', title: 'Nothing was posted', description: 'No reply, tweet or thread went out this week: check that the automation is started, X is connected and the approval queue is reviewed.' });
  }
  if (output.total > 0 && output.total < 0.5 * metrics.capacity) {
    out.push({ category: 'alert', priority: 'low', rule: 'low_volume', title: 'Low output', description: `${output.total} posts of the ${metrics.capacity} your limits allowed${complete ? '' : ' so far'}: review the approval queue more often or widen the keywords.` });
  }
  if (metrics.followers.delta !== null && metrics.followers.delta <= 0 && output.total > 0) {
    out.push({ category: 'alert', priority: 'high', rule: 'follower_stall', title: 'Follower growth stalled', description: `${metrics.followers.delta === 0 ? 'No change' : `${metrics.followers.delta}`} in followers despite ${output.total} posts: try other topics, reply to larger accounts, or post at other times.` });
  }
  if (metrics.replyAcceptanceRate !== null && scores.measuredReplies >= MIN_MEASURED_REPLIES) {
    if (metrics.replyAcceptanceRate < 0.1) {
      out.push({ category: 'experiment', priority: 'medium', rule: 'low_acceptance', title: 'Few replies start a conversation', description: `Only ${pct(metrics.replyAcceptanceRate)} of ${scores.measuredReplies} measured replies got an answer: try questions and other reply styles.` });
    } else if (metrics.replyAcceptanceRate > 0.3) {
      out.push({ category: 'celebrate', priority: 'low', rule: 'high_acceptance', title: 'Your replies start conversations', description: `${pct(metrics.replyAcceptanceRate)} of ${scores.measuredReplies} measured replies got an answer.` });
    }
  }
  if (previous) {
    const drops: Array<[string, number | null, number | null, number, number]> = [
      ['reply', scores.avgReply, previous.avgReply, scores.measuredReplies, previous.measuredReplies],
      ['tweet', scores.avgTweet, previous.avgTweet, scores.measuredTweets, previous.measuredTweets],
    ];
    for (const [kind, now, before, n, m] of drops) {
      if (now === null || before === null || before <= 0 || n < MIN_MEASURED_POSTS || m < MIN_MEASURED_POSTS) continue;
      const change = (now - before) / before;
      if (change < -0.2) {
        out.push({ category: 'alert', priority: 'high', rule: `score_drop_${kind}`, title: `${kind === 'reply' ? 'Replies' : 'Tweets'} performed worse than last week`, description: `Average score ${num(now)} against ${num(before)} the week before (${pct(change)}).` });
      }
    }
  }
  if (output.tweets + output.threads >= MIN_MEASURED_POSTS && metrics.distinctTopics <= 2) {
    out.push({ category: 'experiment', priority: 'low', rule: 'low_diversity', title: 'Few topics', description: `${output.tweets + output.threads} tweets and threads covered ${metrics.distinctTopics} topic${metrics.distinctTopics === 1 ? '' : 's'}: add industry topics or content pillars to learn what works.` });
  }
  // Stable sort: within a priority, the order of the rules above.
  return out.sort((a, b) => PRIORITY_ORDER[a.priority] - PRIORITY_ORDER[b.priority]);
}

/** The report of `week` as of now, with the previous week's scores for the week-over-week rule. */
export function computeReport(context: StrategyContext, config: RuntimeConfig, week: Week): StrategyReport {
  const now = context.now();
  const metrics = weekMetrics(context, config, week);
  const before = previousWeek(week);
  const previous = averageScores(postsOf(context.db, before));
  const complete = now >= week.weekEnd;
  return { ...week, ...metrics, complete, computedAt: now, recommendations: recommend(metrics, previous, complete) };
}

interface ReportRow {
  week_start: number;
  week_end: number;
  metrics: string;
  recommendations: string;
  computed_at: number;
}

/** Stores (or replaces) the report of its week. */
export function storeReport(db: Database.Database, report: StrategyReport): void {
  const { weekStart, weekEnd, computedAt, recommendations, complete: _complete, ...metrics } = report;
  db.prepare(
    `INSERT INTO strategy_reports (week_start, week_end, metrics, recommendations, computed_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (week_start) DO UPDATE SET week_end = excluded.week_end, metrics = excluded.metrics, recommendations = excluded.recommendations, computed_at = excluded.computed_at`,
  ).run(weekStart, weekEnd, JSON.stringify(metrics), JSON.stringify(recommendations), computedAt);
}

function fromRow(row: ReportRow): StrategyReport {
  const metrics = JSON.parse(row.metrics) as Omit<StrategyReport, 'weekStart' | 'weekEnd' | 'computedAt' | 'recommendations' | 'complete'>;
  return {
    ...metrics,
    weekStart: row.week_start,
    weekEnd: row.week_end,
    complete: row.computed_at >= row.week_end,
    computedAt: row.computed_at,
    recommendations: JSON.parse(row.recommendations) as Recommendation[],
  };
}

export function storedReport(db: Database.Database, weekStart: number): StrategyReport | null {
  const row = db.prepare<[number], ReportRow>('SELECT * FROM strategy_reports WHERE week_start = ?').get(weekStart);
  return row ? fromRow(row) : null;
}

/** Stored reports, newest week first; `before` is the previous page's `nextCursor` (a week start). */
export function listReports(db: Database.Database, query: { before?: number | null; limit?: number } = {}): { items: StrategyReport[]; nextCursor: number | null } {
  const limit = Math.min(Math.max(query.limit ?? 12, 1), 52);
  const rows = db
    .prepare<[number, number], ReportRow>('SELECT * FROM strategy_reports WHERE week_start < ? ORDER BY week_start DESC LIMIT ?')
    .all(query.before ?? Number.MAX_SAFE_INTEGER, limit + 1);
  const items = rows.slice(0, limit).map(fromRow);
  return { items, nextCursor: rows.length > limit ? items[items.length - 1]!.weekStart : null };
}

/** Whether anything happened in the week (a week before the tenant did anything gets no report). */
export function weekHadActivity(db: Database.Database, week: Week): boolean {
  const row = db
    .prepare<[{ from: number; to: number; first: string; last: string }], { n: number }>(
      `SELECT (SELECT count(*) FROM action_log WHERE at >= @from AND at < @to)
            + (SELECT count(*) FROM replies WHERE posted_at >= @from AND posted_at < @to)
            + (SELECT count(*) FROM original_tweets WHERE posted_at >= @from AND posted_at < @to)
            + (SELECT count(*) FROM threads WHERE created_at >= @from AND created_at < @to)
            + (SELECT count(*) FROM follower_snapshots WHERE day >= @first AND day <= @last) AS n`,
    )
    .get({ from: week.weekStart, to: week.weekEnd, first: week.firstDay, last: week.lastDay })!;
  return row.n > 0;
}
