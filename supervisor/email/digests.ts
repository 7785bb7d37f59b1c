/**
 * The two periodic mails as template parts (templates.ts lays them out and escapes): the weekly performance
 * summary and the approval-queue reminder. Their figures come from the tenant's event as it sent them
 * (protocol/messages.ts), so what the mail says is what the dashboard's weekly report says. Both end with an
 * unsubscribe link (and carry it in List-Unsubscribe headers, supervisor/notifications/headers.ts).
 */
import { DateTime } from 'luxon';
import type { ApprovalReminderEvent, WeeklySummaryEvent } from '../../protocol/index.js';
import type { Message } from './templates.js';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const score = (value: number) => (Math.round(value * 10) / 10).toFixed(1);

/** "16 – 22 Nov 2026", "30 Nov – 6 Dec 2026" */
function weekRange(firstDay: string, lastDay: string): string {
  const first = DateTime.fromISO(firstDay);
  const last = DateTime.fromISO(lastDay);
  const start = first.month === last.month ? first.toFormat('d') : first.year === last.year ? first.toFormat('d LLL') : first.toFormat('d LLL yyyy');
  return `${start} – ${last.toFormat('d LLL yyyy')}`;
}

function followerLine(followers: WeeklySummaryEvent['followers']): string {
  if (followers.delta === null || followers.start === null || followers.end === null) return 'Followers: not measured this week.';
  const sign = followers.delta > 0 ? `+${followers.delta}` : `${followers.delta}`;
  return `Followers: ${followers.start} → ${followers.end} (${sign}).`;
}

export function weeklySummaryMessage(data: { summary: WeeklySummaryEvent; link: string; settingsLink: string; unsubscribeLink: string }): Message {
  const s = data.summary;
  const range = weekRange(s.firstDay, s.lastDay);
  const parts = [
    plural(s.posts.replies, 'reply', 'replies'),
    plural(s.posts.tweets, 'tweet'),
    plural(s.posts.threads, 'thread'),
  ];
  const paragraphs = [
    `Here is how your week of ${range} went on X (${s.timeZone}).`,
    `Posted: ${plural(s.posts.total, 'post')} of the ${s.capacity} your limits allowed (${parts.join(', ')}).`,
    followerLine(s.followers),
  ];
  const scores = [
    ...(s.avgScore.reply !== null ? [`replies ${score(s.avgScore.reply)}`] : []),
    ...(s.avgScore.tweet !== null ? [`tweets and threads ${score(s.avgScore.tweet)}`] : []),
  ];
  if (scores.length > 0) {
    const acceptance = s.replyAcceptanceRate === null ? '' : ` ${Math.round(s.replyAcceptanceRate * 100)} % of measured replies got an answer.`;
    paragraphs.push(`Average score: ${scores.join(', ')}.${acceptance}`);
  }
  const best = s.topPosts[0];
  if (best) {
    paragraphs.push(`Best ${best.kind}: "${best.preview}" (score ${score(best.score)}, ${plural(best.likes, 'like')}, ${plural(best.replies, 'reply', 'replies')}, ${plural(best.retweets, 'repost')}).`);
  }
  if (s.recommendations.length > 0) {
    paragraphs.push(['What to do next:', ...s.recommendations.map((r) => `• ${r.title}: ${r.description}`)].join('\n'));
  }
  if (s.pendingApprovals > 0) paragraphs.push(`${plural(s.pendingApprovals, 'item is', 'items are')} waiting for your approval.`);
  const followers = s.followers.delta === null ? '' : `, ${s.followers.delta >= 0 ? '+' : ''}${s.followers.delta} followers`;
  return {
    subject: `Your week on X, ${range}: ${plural(s.posts.total, 'post')}${followers}`,
    paragraphs,
    action: { link: data.link, label: 'Open your dashboard' },
    after: [`You get this summary every Tuesday morning. Change it in your notification settings: ${data.settingsLink}`],
    unsubscribe: { link: data.unsubscribeLink, label: 'Stop the weekly summary' },
  };
}

function waited(ms: number): string {
  const hours = Math.floor(ms / 3_600_000);
  return hours >= 48 ? plural(Math.floor(hours / 24), 'day') : plural(Math.max(hours, 1), 'hour');
}

export function approvalReminderMessage(data: { reminder: ApprovalReminderEvent; now: number; link: string; unsubscribeLink: string }): Message {
  const r = data.reminder;
  const kinds = [
    ...(r.byKind.reply > 0 ? [plural(r.byKind.reply, 'reply', 'replies')] : []),
    ...(r.byKind.tweet > 0 ? [plural(r.byKind.tweet, 'tweet')] : []),
    ...(r.byKind.thread > 0 ? [plural(r.byKind.thread, 'thread')] : []),
  ];
  const paragraphs = [
    `${plural(r.pending, 'item is', 'items are')} waiting in your approval queue (${kinds.join(', ')}); the oldest has waited ${waited(data.now - r.oldestAt)}. Nothing in the queue is posted until you approve it.`,
  ];
  if (r.byKind.reply > 0) paragraphs.push('Replies expire 24 hours after they were written: the conversation moves on.');
  return {
    subject: `${plural(r.pending, 'item', 'items')} waiting for your approval`,
    paragraphs,
    action: { link: data.link, label: 'Review the queue' },
    after: ['We remind you at most once a day, in your active hours, when something has waited more than 4 hours.'],
    unsubscribe: { link: data.unsubscribeLink, label: 'Stop approval reminders' },
  };
}
