import t from 'tap';
import { approve, listApprovals } from '../../../../tenant-worker/runtime/approvals.js';
import { openIntents } from '../../../../tenant-worker/runtime/intents.js';
import { createScheduled, getScheduled } from '../../../../tenant-worker/runtime/scheduled.js';
import { wakeGateWaiters } from '../../../../tenant-worker/runtime/loops/gate.js';
import type { Ceilings } from '../../../../protocol/index.js';
import { runtimeHarness, type RuntimeHarness } from '../../../helpers/runtime.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function replyTargets(h: RuntimeHarness): string[] {
  return h.ownPosts().flatMap((post) => (post.inReplyTo ? [post.inReplyTo] : []));
}

t.test('a started tenant in approval mode fills the queue with replies and a tweet, and an approved reply is posted to X with its id', async (t) => {
  const h = await runtimeHarness(t);
  h.start();
  await h.runUntil(h.clock.now + 30 * MINUTE);
  const pending = listApprovals(h.db, { statuses: ['pending'] }).items;
  t.ok(pending.some((item) => item.kind === 'reply'), 'replies are queued');
  t.ok(pending.some((item) => item.kind === 'tweet'), 'a tweet is queued');
  t.ok(pending.filter((item) => item.kind === 'reply').every((item) => item.target !== null && item.score !== null), 'queued replies carry their target and score');
  t.same(h.ownPosts(), [], 'nothing reaches X before the user approves');

  const chosen = pending.find((item) => item.kind === 'reply')!;
  t.ok(approve(h.deps, chosen.id).ok);
  await h.runUntil(h.clock.now + 10 * MINUTE);
  const posted = h.db.prepare<[number], { tweet_id: string; target_tweet_id: string }>('SELECT tweet_id, target_tweet_id FROM replies WHERE approval_id = ?').get(chosen.id);
  t.ok(posted, 'the reply is recorded');
  const atX = h.ownPosts().find((post) => post.id === posted!.tweet_id);
  t.ok(atX, 'with the id X gave it');
  t.equal(atX!.inReplyTo, chosen.target!.tweetId, 'as a reply to the post it answers');
  t.equal(atX!.text, chosen.content);
  t.equal(h.x.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets').length, 1, 'one post, only the approved one');
});

t.test('approval off posts directly, one at a time, within the limits, never twice to a post, only inside active hours', async (t) => {
  const h = await runtimeHarness(t, { settings: { approval_mode: false, 'limits.max_replies_per_day': 4, 'limits.max_tweets_per_day': 2 } });
  h.start();
  const start = h.clock.now;
  await h.runUntil(start + 36 * HOUR);
  const posts = h.ownPosts();
  t.ok(posts.length > 0, 'posts went out');
  const replies = h.db.prepare<[], { tweet_id: string; target_tweet_id: string; posted_at: number }>('SELECT tweet_id, target_tweet_id, posted_at FROM replies').all();
  const tweets = h.db.prepare<[], { tweet_id: string; posted_at: number }>('SELECT tweet_id, posted_at FROM original_tweets').all();
  t.equal(posts.length, replies.length + tweets.length + h.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM thread_tweets WHERE tweet_id IS NOT NULL').get()!.n, 'every post at X is recorded with its id');
  const perDay = (rows: { posted_at: number }[]) => {
    const days = new Map<string, number>();
    for (const row of rows) days.set(new Date(row.posted_at).toISOString().slice(0, 10), (days.get(new Date(row.posted_at).toISOString().slice(0, 10)) ?? 0) + 1);
    return Math.max(0, ...days.values());
  };
  t.ok(perDay(replies) <= 4, `at most 4 replies a day (${perDay(replies)})`);
  t.ok(perDay(tweets) <= 2, `at most 2 tweets a day (${perDay(tweets)})`);
  const targets = replyTargets(h);
  t.equal(new Set(targets).size, targets.length, 'no post answered twice');
  t.ok(posts.every((post) => new Date(post.createdAt).getUTCHours() >= 8 && new Date(post.createdAt).getUTCHours() < 22), 'nothing outside 08–22 UTC');
  const times = posts.map((post) => post.createdAt).sort((a, b) => a - b);
  const threadIds = new Set(h.db.prepare<[], { tweet_id: string }>('SELECT tweet_id FROM thread_tweets WHERE tweet_id IS NOT NULL').all().map((r) => r.tweet_id));
  const spaced = posts.filter((post) => !threadIds.has(post.id)).map((post) => post.createdAt).sort((a, b) => a - b);
  t.ok(spaced.every((at, i) => i === 0 || at - spaced[i - 1]! >= 45_000), 'posts are at least 45 s apart');
  t.ok(times.length >= 4, `a day and a half brings several posts (${times.length})`);
});

t.test('a crash between X creating a post and recording it posts no duplicate after the restart', async (t) => {
  const h = await runtimeHarness(t, { settings: { approval_mode: false } });
  h.start();
  let crashed = false;
  h.deps.afterPost = () => {
    crashed = true;
    throw new Error('killed mid-post');
  };
  // The thread dies with the crash: nothing else runs in that activation.
  await h.runUntil(h.clock.now + 2 * HOUR, () => crashed);
  t.ok(crashed, 'the crash happened');
  t.equal(openIntents(h.db).length, 1, 'its intent is left pending');
  const before = h.ownPosts().length;
  t.equal(before, 1, 'X has the post');

  h.reactivate();
  await h.runUntil(h.clock.now + 3 * HOUR);
  t.equal(openIntents(h.db).length, 0, 'the restart reconciled it');
  const posts = h.ownPosts();
  t.equal(new Set(posts.map((post) => post.text)).size, posts.length, 'no text posted twice');
  const targets = replyTargets(h);
  t.equal(new Set(targets).size, targets.length, 'no post answered twice');
  const first = posts[0]!;
  const recorded = h.db.prepare<[{ id: string }], { n: number }>('SELECT (SELECT count(*) FROM replies WHERE tweet_id = @id) + (SELECT count(*) FROM original_tweets WHERE tweet_id = @id) AS n').get({ id: first.id })!;
  t.equal(recorded.n, 1, 'the crashed post is recorded with its X id');
});

t.test('a crash between two parts of a scheduled thread resumes the chain after the restart: every part once, in order', async (t) => {
  const h = await runtimeHarness(t);
  const parts = ['Pricing pages, a thread 1/4', 'Anchor on value, not cost 2/4', 'Show the annual saving 3/4', 'Test one change a week 4/4'];
  const created = createScheduled(h.deps, { kind: 'thread', content: parts }, h.clock.now + 10 * MINUTE);
  t.ok(created.ok);
  const id = created.ok ? created.value.id : 0;
  h.start();
  let threadPosts = 0;
  let crashed = false;
  h.deps.afterPost = (intent) => {
    if (intent.kind !== 'thread_tweet' || ++threadPosts !== 2) return;
    crashed = true;
    throw new Error('killed between thread parts');
  };
  await h.runUntil(h.clock.now + 2 * HOUR, () => crashed);
  t.ok(crashed, 'the crash happened after the second part reached X');
  t.equal(getScheduled(h.db, id)!.status, 'posting');

  h.reactivate();
  await h.runUntil(h.clock.now + 2 * HOUR);
  t.equal(getScheduled(h.db, id)!.status, 'posted', 'the scheduled thread is finished, not stuck in posting');
  const chain = h.ownPosts().filter((post) => parts.includes(post.text));
  t.same(chain.map((post) => post.text).sort(), [...parts].sort(), 'every part is at X exactly once');
  const byText = new Map(chain.map((post) => [post.text, post]));
  t.ok(parts.every((text, i) => i === 0 ? byText.get(text)!.inReplyTo === null : byText.get(text)!.inReplyTo === byText.get(parts[i - 1]!)!.id), 'as one reply chain, in order');
  t.equal(openIntents(h.db).length, 0);
});

const noPlan: Ceilings = {
  plan: 'none',
  repliesPerDay: 0,
  tweetsPerDay: 0,
  threadsPerWeek: 0,
  xCostAllowanceCents: 0,
  xPeriodStart: 0,
  xReadCentsPerDay: 0,
  xUrlPostsPerDay: 0,
  xOverageCapCents: null,
  automation: false,
  readOnly: false,
} as unknown as Ceilings;

t.test('with automation off or X disconnected nothing is posted and the reason is recorded once', async (t) => {
  for (const [name, setup] of [
    ['automation_off', (h: RuntimeHarness) => (h.ceilings.value = noPlan)],
    ['x_not_connected', (h: RuntimeHarness) => (h.connected.value = false)],
  ] as const) {
    const h = await runtimeHarness(t, { settings: { approval_mode: false } });
    setup(h);
    const connectCalls = h.x.requests.length;
    h.start();
    await h.runUntil(h.clock.now + 6 * HOUR);
    t.same(h.ownPosts(), [], `${name}: nothing posted`);
    t.equal(h.x.requests.slice(connectCalls).length, 0, `${name}: no X call at all`);
    const told = h.db.prepare<[], { data: string }>("SELECT data FROM action_log WHERE status = 'skipped' AND source = 'system'").all().filter((row) => JSON.parse(row.data).gate === name);
    t.equal(told.length, 1, `${name}: told once, not per run`);
  }
});

t.test('a tenant that never started does nothing', async (t) => {
  const h = await runtimeHarness(t);
  const connectCalls = h.x.requests.length;
  await h.runUntil(h.clock.now + 3 * HOUR);
  t.same(h.ownPosts(), []);
  t.equal(h.x.requests.slice(connectCalls).length, 0, 'no X call');
  t.equal(h.db.prepare<[], { n: number }>('SELECT count(*) AS n FROM action_log').get()!.n, 0, 'and nothing in the feed');
});

t.test('jobs waiting on a closed gate are woken when it reopens, not at their hourly retry', async (t) => {
  const h = await runtimeHarness(t);
  h.connected.value = false;
  h.start();
  await h.runUntil(h.clock.now + 90 * MINUTE);
  const nextRuns = () => h.db.prepare<[], { name: string; next_run_at: number }>('SELECT name, next_run_at FROM jobs').all();
  const now = h.clock.now;
  t.ok(nextRuns().some((job) => job.next_run_at > now + 10 * MINUTE), 'waiting jobs retry much later');
  t.equal(wakeGateWaiters(h.db, ['no_llm'], now), 0, 'nothing waits on a gate that is not closed');

  h.connected.value = true;
  const woken = wakeGateWaiters(h.db, ['x_not_connected'], now);
  t.ok(woken >= 7, `the jobs that need X are woken (${woken})`);
  const needX = nextRuns().filter((job) => !['cleanup', 'strategy', 'approval-reminder'].includes(job.name));
  t.ok(needX.every((job) => job.next_run_at <= now + 20_000), 'within 20 s');
  t.ok(new Set(needX.map((job) => job.next_run_at)).size > 1, 'spread, not at one instant');
  t.equal(wakeGateWaiters(h.db, ['x_not_connected'], now), 0, 'a wake is spent once');

  await h.runUntil(now + 20 * MINUTE);
  t.ok(listApprovals(h.db, { statuses: ['pending'] }).items.length > 0, 'the queue fills within minutes of connecting');
});
