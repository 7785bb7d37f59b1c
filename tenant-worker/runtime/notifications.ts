/**
 * What the tenant tells the supervisor to mail: the weekly summary when a closed week's report is written,
 * and a reminder when approval items have waited too long. The tenant decides when (its zone, its queue,
 * the user's `notifications.*` settings); the event carries everything the mail shows, so the supervisor
 * never wakes a tenant to write one (protocol/messages.ts, supervisor/notifications/).
 *
 * The reminder rule: at most one per tenant-local day, only inside the active hours (the job's gate), and
 * only when at least one item has been pending for `REMINDER_AFTER_MS` (4 h): an item queued a minute ago
 * is no reason to write, one queued overnight is. The day a reminder went is kept in `notices_given`
 * (`notify.approval_reminder:<day>`), written in the same statement that decides it.
 */
import type Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import { NOTIFY_EVENTS, type ApprovalReminderEvent, type TenantEvent, type WeeklySummaryEvent } from '../../protocol/index.js';
import { approvalStats } from './approvals.js';
import type { RuntimeConfig } from './config.js';
import type { StrategyReport } from './strategy.js';

export const REMINDER_AFTER_MS = 4 * 3_600_000;
const REMINDER_KEY = 'notify.approval_reminder:';
const PREVIEW_CHARS = 200;

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** The weekly summary of a complete report, with the approval queue as it stands. */
export function weeklySummaryEvent(db: Database.Database, report: StrategyReport, now: number): TenantEvent {
  const data: WeeklySummaryEvent = {
    weekStart: report.weekStart,
    weekEnd: report.weekEnd,
    firstDay: report.firstDay,
    lastDay: report.lastDay,
    timeZone: report.timeZone,
    posts: { replies: report.output.replies, tweets: report.output.tweets, threads: report.output.threads, total: report.output.total },
    capacity: report.capacity,
    followers: report.followers,
    avgScore: { reply: report.scores.avgReply, tweet: report.scores.avgTweet },
    replyAcceptanceRate: report.replyAcceptanceRate,
    topPosts: report.topContent.slice(0, 3).map((post) => ({
      kind: post.kind,
      preview: clip(post.preview, PREVIEW_CHARS),
      score: post.score,
      likes: post.likes,
      replies: post.replies,
      retweets: post.retweets,
    })),
    recommendations: report.recommendations.slice(0, 3).map((r) => ({ priority: r.priority, title: clip(r.title, 200), description: clip(r.description, 1000) })),
    pendingApprovals: approvalStats(db).pending,
  };
  return { kind: NOTIFY_EVENTS.WeeklySummary, at: now, data };
}

/**
 * The reminder due now, or null: off in the settings, already sent today, or nothing waited long enough.
 * Marks the day when it returns one (emit it after this returns: the mark is committed).
 */
export function takeApprovalReminder(db: Database.Database, config: RuntimeConfig, now: number): TenantEvent | null {
  if (!config.notifications.approvalReminders) return null;
  const day = DateTime.fromMillis(now, { zone: config.schedule.timezone }).toISODate()!;
  return db.transaction((): TenantEvent | null => {
    if (db.prepare('SELECT 1 FROM notices_given WHERE key = ?').get(`${REMINDER_KEY}${day}`)) return null;
    const rows = db
      .prepare<[], { kind: 'reply' | 'tweet' | 'thread'; n: number; oldest: number }>(
        "SELECT kind, count(*) AS n, min(created_at) AS oldest FROM approval_queue WHERE status = 'pending' GROUP BY kind",
      )
      .all();
    const oldestAt = Math.min(...rows.map((row) => row.oldest));
    if (rows.length === 0 || now - oldestAt < REMINDER_AFTER_MS) return null;
    const byKind = { reply: 0, tweet: 0, thread: 0 };
    for (const row of rows) byKind[row.kind] = row.n;
    // Earlier days' marks are no longer needed: one row per tenant, not one per day forever.
    db.prepare('DELETE FROM notices_given WHERE key GLOB ?').run(`${REMINDER_KEY}*`);
    db.prepare('INSERT INTO notices_given (key, at) VALUES (?, ?)').run(`${REMINDER_KEY}${day}`, now);
    const data: ApprovalReminderEvent = { day, pending: byKind.reply + byKind.tweet + byKind.thread, oldestAt, byKind };
    return { kind: NOTIFY_EVENTS.ApprovalReminder, at: now, data };
  })();
}

/** Whether today's reminder went already (the job then sleeps until tomorrow). */
export function remindedToday(db: Database.Database, zone: string, now: number): boolean {
  const day = DateTime.fromMillis(now, { zone }).toISODate()!;
  return db.prepare('SELECT 1 FROM notices_given WHERE key = ?').get(`${REMINDER_KEY}${day}`) !== undefined;
}
