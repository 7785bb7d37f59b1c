/**
 * The content calendar over [from, to): what was posted (tweets, threads, replies), what waits for
 * approval, and what is scheduled, by time, with the tenant's IANA zone and its local days (a DST day
 * has 23 or 25 hours) and preferred slots, so a dashboard renders the week as the tenant lives it
 * rather than in the browser's zone.
 *
 * The reference's calendar quirks, fixed: a reply names the author it answers (the reference put the
 * target post's id there); a thread's content is its parts and its topic is separate (the reference
 * showed the topic as content); the performance score is the measured one (it was always null);
 * times are numbers compared as numbers (the reference compared mixed text formats).
 *
 * Every row appears once: an approval or scheduled thread whose chain has started is shown as its
 * thread (with `approvalId` / `scheduledId` pointing back), and posted items are shown as posts.
 */
import type Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import type { Schedule } from '../runtime/config.js';
import { slotsOn } from '../runtime/pacing.js';
import { METRICS_COLUMNS, performanceOf, type MetricsColumns } from './posted-content.js';

export interface CalendarEntry {
  /** Which list the id belongs to: posts (tweets, threads, replies), the approval queue, or scheduled content. */
  origin: 'posted' | 'approval' | 'scheduled';
  id: number;
  kind: 'tweet' | 'thread' | 'reply';
  /** What made it: content, thread, discovery, mention, target, compose, draft, manual, scheduled, assist. */
  source: string;
  status: string;
  at: number;
  /** `at` in the tenant's zone, `YYYY-MM-DDTHH:mm`. */
  local: string;
  /** The text; a thread's parts. */
  content: string | string[];
  topic: string | null;
  targetAuthor: string | null;
  targetTweetId: string | null;
  /** Ours at X (a thread's first part). */
  tweetId: string | null;
  error: string | null;
  approvalId: number | null;
  scheduledId: number | null;
  performanceScore: number | null;
}

interface Row extends MetricsColumns {
  origin: CalendarEntry['origin'];
  id: number;
  kind: CalendarEntry['kind'];
  source: string;
  status: string;
  at: number;
  content: string;
  topic: string | null;
  target_author: string | null;
  target_tweet_id: string | null;
  tweet_id: string | null;
  error: string | null;
  approval_id: number | null;
  scheduled_id: number | null;
}

const ENTRIES_SQL = `
  SELECT 'posted' AS origin, o.id, 'tweet' AS kind, o.source, 'posted' AS status, o.posted_at AS at, o.content, o.topic,
         NULL AS target_author, NULL AS target_tweet_id, o.tweet_id, NULL AS error, o.approval_id, o.scheduled_id, ${METRICS_COLUMNS}
    FROM original_tweets o LEFT JOIN post_metrics m ON m.tweet_id = o.tweet_id
   WHERE o.posted_at >= @from AND o.posted_at < @to
  UNION ALL
  SELECT 'posted', t.id, 'thread', t.source, t.status, coalesce(first.posted_at, t.created_at),
         (SELECT json_group_array(content) FROM (SELECT content FROM thread_tweets WHERE thread_id = t.id ORDER BY position)),
         t.topic, NULL, NULL, t.root_tweet_id, t.last_error, t.approval_id, t.scheduled_id, ${METRICS_COLUMNS}
    FROM threads t JOIN thread_tweets first ON first.thread_id = t.id AND first.position = 0
    LEFT JOIN post_metrics m ON m.tweet_id = t.root_tweet_id
   WHERE coalesce(first.posted_at, t.created_at) >= @from AND coalesce(first.posted_at, t.created_at) < @to
  UNION ALL
  SELECT 'posted', r.id, 'reply', r.source, 'posted', r.posted_at, r.content, NULL,
         r.target_author_username, r.target_tweet_id, r.tweet_id, NULL, r.approval_id, NULL, ${METRICS_COLUMNS}
    FROM replies r LEFT JOIN post_metrics m ON m.tweet_id = r.tweet_id
   WHERE r.posted_at >= @from AND r.posted_at < @to
  UNION ALL
  SELECT 'approval', a.id, a.kind, a.source, a.status, coalesce(a.not_before, a.created_at), a.content, a.topic,
         a.target_author_username, a.target_tweet_id, NULL, a.last_error, a.id, NULL,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM approval_queue a
   WHERE a.status IN ('pending', 'approved', 'posting', 'failed') AND a.thread_id IS NULL
     AND coalesce(a.not_before, a.created_at) >= @from AND coalesce(a.not_before, a.created_at) < @to
  UNION ALL
  SELECT 'scheduled', s.id, s.kind, s.source, s.status, s.scheduled_for, s.content, s.topic,
         NULL, NULL, NULL, s.last_error, NULL, s.id,
         NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
    FROM scheduled_content s
   WHERE s.status IN ('scheduled', 'posting', 'failed') AND s.thread_id IS NULL
     AND s.scheduled_for >= @from AND s.scheduled_for < @to
  ORDER BY at, origin, id`;

export interface CalendarDay {
  /** YYYY-MM-DD in the tenant's zone. */
  date: string;
  start: number;
  /** The next local midnight: 23 or 25 hours after `start` on a DST change. */
  end: number;
  /** The preferred posting slots of that day (active or not), at their nominal times. */
  slots: number[];
}

export function contentCalendar(db: Database.Database, schedule: Schedule, from: number, to: number) {
  const zone = schedule.timezone;
  const localOf = (at: number) => DateTime.fromMillis(at, { zone }).toFormat("yyyy-MM-dd'T'HH:mm");
  const rows = db.prepare<[{ from: number; to: number }], Row>(ENTRIES_SQL).all({ from, to });
  const entries: CalendarEntry[] = rows.map((row) => {
    const list = row.kind === 'thread';
    return {
      origin: row.origin,
      id: row.id,
      kind: row.kind,
      source: row.source,
      status: row.status,
      at: row.at,
      local: localOf(row.at),
      content: list ? (JSON.parse(row.content) as string[]) : row.content,
      topic: row.topic,
      targetAuthor: row.target_author,
      targetTweetId: row.target_tweet_id,
      tweetId: row.tweet_id,
      error: row.error,
      approvalId: row.approval_id,
      scheduledId: row.scheduled_id,
      performanceScore: performanceOf(row)?.score ?? null,
    };
  });
  return { from, to, timeZone: zone, days: localDays(schedule, from, to), entries };
}

/** Every local day that [from, to) touches. */
function localDays(schedule: Schedule, from: number, to: number): CalendarDay[] {
  const days: CalendarDay[] = [];
  for (let day = DateTime.fromMillis(from, { zone: schedule.timezone }).startOf('day'); day.toMillis() < to; day = day.plus({ days: 1 })) {
    const start = day.toMillis();
    days.push({ date: day.toISODate()!, start, end: day.plus({ days: 1 }).toMillis(), slots: slotsOn(schedule, day).sort((a, b) => a - b) });
  }
  return days;
}
