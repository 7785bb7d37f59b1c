/**
 * What every simulated month must hold for one tenant, checked from its DB and the sandbox X's world:
 * limits (counted by X's own post times), no post answered twice, no text posted twice, active hours,
 * every post recorded with its X id and approved first, measurement a day later while reads were
 * allowed, the X cost allowance. Returns the figures the bench tables print.
 */
import type { Test } from 'tap';
import type { Plan } from '../../supervisor/billing/plans.js';
import type { RuntimeHarness } from './runtime.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface MonthFigures {
  replies: number;
  tweets: number;
  threads: number;
  measured: number;
  /** When reads stopped for the allowance's post reserve, or null. */
  readsStoppedAt: number | null;
  readMicros: number;
  totalMicros: number;
}

export function checkMonth(t: Test, h: RuntimeHarness, options: { plan: Plan; replyCap: number; tweetCap: number; start: number; end: number; queuedKinds: Set<string> }): MonthFigures {
  const { plan, replyCap, tweetCap, start, end } = options;
  const name = h.self.username;
  const replies = h.db.prepare<[], { posted_at: number; target_tweet_id: string; tweet_id: string; approval_id: number | null }>('SELECT posted_at, target_tweet_id, tweet_id, approval_id FROM replies').all();
  const tweets = h.db.prepare<[], { posted_at: number; tweet_id: string; approval_id: number | null }>('SELECT posted_at, tweet_id, approval_id FROM original_tweets').all();
  const threads = h.db.prepare<[], { created_at: number; status: string; approval_id: number | null }>('SELECT created_at, status, approval_id FROM threads').all();
  const parts = h.db.prepare<[], { tweet_id: string }>('SELECT tweet_id FROM thread_tweets WHERE tweet_id IS NOT NULL').all();
  const byDay = (ats: number[]) => Math.max(0, ...Object.values(ats.reduce<Record<string, number>>((acc, at) => ((acc[new Date(at).toISOString().slice(0, 10)] = (acc[new Date(at).toISOString().slice(0, 10)] ?? 0) + 1), acc), {})));
  t.ok(replies.length > 0 && tweets.length > 0, `${name}: replies (${replies.length}) and tweets (${tweets.length}) went out`);
  // Counted by when X has them: a post a crash interrupted is recorded when it is reconciled, maybe the next day.
  const own = h.ownPosts();
  const atX = new Map(own.map((post) => [post.id, post.createdAt]));
  t.ok(byDay(replies.map((r) => atX.get(r.tweet_id)!)) <= replyCap, `${name}: replies a day ≤ ${replyCap}`);
  t.ok(byDay(tweets.map((r) => atX.get(r.tweet_id)!)) <= tweetCap, `${name}: tweets a day ≤ ${tweetCap}`);
  t.equal(new Set(replies.map((r) => r.target_tweet_id)).size, replies.length, `${name}: no post answered twice`);
  t.equal(new Set(own.map((p) => p.text)).size, own.length, `${name}: no text posted twice`);
  t.ok(own.every((p) => new Date(p.createdAt).getUTCHours() >= 8 && new Date(p.createdAt).getUTCHours() < 22), `${name}: nothing outside the active hours`);
  const recordedIds = new Set([...replies, ...tweets, ...parts].map((row) => row.tweet_id));
  t.same(own.filter((post) => !recordedIds.has(post.id)), [], `${name}: every post at X is recorded with its X id`);
  t.equal(recordedIds.size, replies.length + tweets.length + parts.length, `${name}: and nothing is recorded that X does not have`);
  t.ok([...recordedIds].every((id) => atX.has(id)), `${name}: every recorded id is one of this account's posts at X`);
  t.ok([...replies, ...tweets].every((row) => row.approval_id !== null), `${name}: approval mode held: every reply and tweet was approved`);
  t.ok(threads.every((row) => row.approval_id !== null), `${name}: and every thread`);
  t.ok(options.queuedKinds.has('reply') && options.queuedKinds.has('tweet'), `${name}: replies and tweets were queued for approval`);
  // Reads stop first when the period's allowance runs low (the rest is kept for posts): posts that came of
  // age after that cannot be measured, by design.
  const readsStoppedAt = h.db.prepare<[], { at: number }>("SELECT at FROM notices_given WHERE key LIKE 'x_budget:reads_reserved_for_posts:%'").get()?.at ?? null;
  const measurable = [...replies, ...tweets].filter((row) => row.posted_at < Math.min(end, readsStoppedAt ?? end) - 26 * HOUR).map((row) => row.tweet_id);
  const measured = new Set(h.db.prepare<[], { tweet_id: string }>('SELECT tweet_id FROM post_metrics').all().map((row) => row.tweet_id));
  t.ok(measurable.every((id) => measured.has(id)), `${name}: posts a day old were measured while reads were allowed (${measurable.length})`);
  const totalMicros = h.db.prepare<[number], { micros: number }>('SELECT coalesce(sum(cost_micros), 0) AS micros FROM x_spend WHERE at >= ?').get(start)!.micros;
  t.ok(totalMicros <= plan.xAllowanceCents * 10_000, `${name}: X cost $${(totalMicros / 1e6).toFixed(2)} within the $${(plan.xAllowanceCents / 100).toFixed(2)} allowance`);
  const readMicros = h.db.prepare<[number], { micros: number }>("SELECT coalesce(sum(cost_micros), 0) AS micros FROM x_spend WHERE at >= ? AND kind = 'read'").get(start)!.micros;
  return {
    replies: replies.length,
    tweets: tweets.length,
    threads: threads.filter((row) => row.status === 'posted').length,
    measured: measured.size,
    readsStoppedAt: readsStoppedAt !== null && readsStoppedAt < end ? readsStoppedAt : null,
    readMicros,
    totalMicros,
  };
}

export function dayOf(at: number, start: number): number {
  return Math.ceil((at - start) / DAY);
}

export function dollars(micros: number): string {
  return `$${(micros / 1e6).toFixed(2)}`;
}
