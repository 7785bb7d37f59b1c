// Analytics and replies over real HTTP, on data the runtime itself produced: eight Tokyo days of the
// loops against the sandbox X (follower snapshots all along, every loop for a few hours), up to now.
// Expectations come from the sandbox world (what X holds) and from the follower counts the test set.
import t from 'tap';
import { addAnalyticsRoutes } from '../../../supervisor/routes/analytics.js';
import { startAuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';
import { installTenantDb, seedThroughRuntime } from '../../helpers/seeded-tenant.js';

const ZONE = 'Asia/Tokyo';
const DAYS = 8;
const followersOn = (day: number) => 1_000 + 10 * day + day * day;

t.test('summary, a real follower window in tenant days, performance, topics, recent performance and replies', async (t) => {
  // Every loop for four hours two days ago (measured since) and the last two hours (today's actions).
  const hourNow = Number(new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: 'numeric', hourCycle: 'h23' }).format(new Date()));
  const active: [number, number, number][] = [[DAYS - 3, 0, 4], [DAYS - 1, Math.max(0, hourNow - 2), 24]];
  const h = await seedThroughRuntime(t, { days: DAYS, active, followersOn, zone: ZONE, settings: { 'business.industry_topics': ['saas pricing', 'startup marketing', 'indie hacking'] } });
  const server = await startAuthServer({ register: (router, deps) => addAnalyticsRoutes(router, { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 }) });
  t.teardown(() => server.close());
  const ada = new Browser(server.base);
  await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' });
  const bob = new Browser(server.base);
  await bob.json('POST', '/auth/signup', { email: 'bob@example.com', password: 'correct horse battery staple' });
  const tenantId = (server.db.prepare("SELECT tenant_id FROM users WHERE email = 'ada@example.com'").get() as { tenant_id: string }).tenant_id;
  t.equal((await ada.json('GET', '/api/analytics/summary')).body.followers.current, null, 'a new tenant has no snapshot yet');
  await installTenantDb(server.host, server.registry, tenantId, h);

  const own = h.ownPosts();
  const ownIds = new Set(own.map((post) => post.id));
  const repliesToOthers = own.filter((post) => post.inReplyTo !== null && !ownIds.has(post.inReplyTo));
  t.ok(repliesToOthers.length >= 3, `the runtime replied ${repliesToOthers.length} times`);

  // ── summary ──
  const summary = (await ada.json('GET', '/api/analytics/summary')).body;
  t.equal(summary.timeZone, ZONE);
  const latestDay = Math.floor((summary.followers.asOf - h.from) / 86_400_000);
  t.ok(latestDay >= DAYS - 2, `the latest snapshot is of day ${latestDay}`);
  t.equal(summary.followers.current, followersOn(latestDay));
  t.equal(summary.followers.change7d, followersOn(latestDay) - followersOn(latestDay - 7), 'against the snapshot 7 tenant days older');
  t.equal(summary.followers.change30d, null, 'no snapshot is 30 days old: no change, not a guess');
  const today = h.dayStart(DAYS - 1);
  t.equal(summary.actionsToday.since, today, "today starts at midnight in the tenant's zone");
  t.equal(summary.actionsToday.replies, repliesToOthers.filter((post) => post.createdAt >= today).length, "today's replies, as X has them");
  t.equal(summary.engagement.totalRepliesSent, repliesToOthers.length);
  const chained = new Set(own.map((post) => post.inReplyTo));
  const roots = own.filter((post) => post.inReplyTo === null);
  t.equal(summary.engagement.totalTweetsPosted + summary.engagement.totalThreadsPosted, roots.length, 'every standalone post is a tweet or a thread');
  t.equal(summary.engagement.totalTweetsPosted, roots.filter((post) => !chained.has(post.id)).length);

  // ── followers: a date window of tenant days, not a row count ──
  const from = h.dayStart(2) + 5 * 3_600_000;
  const to = h.dayStart(5) + 3_600_000;
  const window = (await ada.json('GET', `/api/analytics/followers?from=${from}&to=${to}`)).body;
  t.equal(window.timeZone, ZONE);
  t.same(
    window.days.map((day: { followers: number }) => day.followers),
    [2, 3, 4, 5].map(followersOn),
    'the days of from through to, oldest first',
  );
  t.equal(window.days[0].day, new Intl.DateTimeFormat('en-CA', { timeZone: ZONE }).format(new Date(from)), 'days are calendar days in the tenant zone');
  const all = (await ada.json('GET', '/api/analytics/followers')).body;
  t.equal(all.days.length, latestDay + 1, 'the default window (30 days) holds every snapshot');
  t.match((await ada.json('GET', `/api/analytics/followers?from=${to}&to=${from}`)).body.error, { code: 'invalid_params', fields: { to: String } });
  t.equal((await ada.json('GET', `/api/analytics/followers?from=0&to=${to}`)).status, 422, 'at most 400 days at once');
  t.equal((await ada.json('GET', '/api/analytics/followers?days=7')).status, 422, 'the old row-count parameter is refused');

  // ── recent performance and performance: the measured posts, each one of ours at X ──
  const recent = (await ada.json('GET', '/api/analytics/recent-performance?limit=200')).body;
  t.ok(recent.items.length > 0, `${recent.items.length} posts measured`);
  for (const item of recent.items) {
    const post = own.find((candidate) => candidate.id === item.tweetId);
    t.ok(post, `measured post ${item.tweetId} is ours at X`);
    if (!post) continue;
    t.ok(item.measuredAt - post.createdAt >= 86_400_000, 'measured a day after posting or later');
    t.equal(item.preview, post.text.slice(0, 120));
    t.equal(item.kind === 'reply', post.inReplyTo !== null && !ownIds.has(post.inReplyTo), 'replies are the posts answering others');
  }
  const performance = (await ada.json('GET', '/api/analytics/performance')).body;
  for (const [kind, key] of [['reply', 'replies'], ['tweet', 'tweets'], ['thread', 'threads']] as const) {
    t.equal(performance[key].measured, recent.items.filter((item: { kind: string; gone: boolean }) => item.kind === kind && !item.gone).length, `${key} measured`);
  }
  const page1 = (await ada.json('GET', '/api/analytics/recent-performance?limit=2')).body;
  const page2 = (await ada.json('GET', `/api/analytics/recent-performance?limit=2&before=${page1.nextCursor}`)).body;
  t.same([...page1.items, ...page2.items].map((item: { tweetId: string }) => item.tweetId), recent.items.slice(0, 4).map((item: { tweetId: string }) => item.tweetId), 'pages follow on');

  // ── topics: the running means of measured tweets and threads, best first ──
  const topics = (await ada.json('GET', '/api/analytics/topics')).body.items as { topic: string; avgScore: number; posts: number }[];
  const measuredTopical = recent.items.filter((item: { kind: string; topic: string | null; gone: boolean }) => item.kind !== 'reply' && item.topic !== null && !item.gone);
  t.equal(topics.reduce((sum, topic) => sum + topic.posts, 0), measuredTopical.length, 'every measured tweet and thread counted once');
  t.same(topics.map((topic) => topic.avgScore), [...topics.map((topic) => topic.avgScore)].sort((a, b) => b - a), 'best first');
  t.same(summary.topTopics, topics.slice(0, 5));
  t.equal((await ada.json('GET', '/api/analytics/topics?limit=0')).status, 422);

  // ── replies we sent: newest first, paged, each at X answering the post it names ──
  const replies = (await ada.json('GET', '/api/replies?limit=200')).body.items as { tweetId: string; targetTweetId: string; postedAt: number; content: string }[];
  t.equal(replies.length, repliesToOthers.length);
  for (const reply of replies) {
    const post = own.find((candidate) => candidate.id === reply.tweetId);
    t.match(post, { inReplyTo: reply.targetTweetId, text: reply.content }, `reply ${reply.tweetId} is at X`);
  }
  t.same(replies.map((reply) => reply.postedAt), [...replies.map((reply) => reply.postedAt)].sort((a, b) => b - a), 'newest first');
  const first = (await ada.json('GET', '/api/replies?limit=2')).body;
  const second = (await ada.json('GET', `/api/replies?limit=2&before=${first.nextCursor}`)).body;
  t.same([...first.items, ...second.items].map((reply: { tweetId: string }) => reply.tweetId), replies.slice(0, 4).map((reply) => reply.tweetId));
  t.equal((await ada.json('GET', '/api/replies?offset=2')).status, 422, 'unknown query parameters are refused');

  // ── Bob's tenant is his own ──
  t.match((await bob.json('GET', '/api/analytics/summary')).body, { followers: { current: null }, engagement: { totalRepliesSent: 0 } });
  t.same((await bob.json('GET', '/api/replies')).body.items, []);
});
