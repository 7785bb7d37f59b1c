import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import t from 'tap';
import { addStrategyRoutes } from '../../../supervisor/routes/strategy.js';
import { ActionLimits } from '../../../tenant-worker/action-limits.js';
import { loadRuntimeConfig } from '../../../tenant-worker/runtime/config.js';
import { computeReport, previousWeek, storeReport, weekOf } from '../../../tenant-worker/runtime/strategy.js';
import { startAuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';
import { until } from '../../helpers/tenants.js';

const ZONE = 'America/New_York';
const setting = (db: Database.Database, key: string, value: unknown) =>
  db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));

t.test('strategy: this week so far in the tenant zone, refresh stores it, history pages by week, inputs; each user sees their own', async (t) => {
  const server = await startAuthServer({ register: (router, deps) => addStrategyRoutes(router, { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 }) });
  t.teardown(() => server.close());
  const ada = new Browser(server.base);
  await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' });
  const bob = new Browser(server.base);
  await bob.json('POST', '/auth/signup', { email: 'bob@example.com', password: 'correct horse battery staple' });
  const tenantId = (server.db.prepare("SELECT tenant_id FROM users WHERE email = 'ada@example.com'").get() as { tenant_id: string }).tenant_id;

  const fresh = await ada.json('GET', '/api/strategy/current');
  t.equal(fresh.status, 200);
  t.match(fresh.body, { timeZone: 'UTC', complete: false, output: { total: 0 }, followers: { delta: null }, recommendations: [] });
  t.ok(fresh.body.weekStart <= Date.now() && Date.now() < fresh.body.weekEnd, 'the week holds now');
  t.equal(DateTime.fromMillis(fresh.body.weekStart, { zone: 'UTC' }).weekday, 1, 'and starts on a Monday');
  t.same((await ada.json('GET', '/api/strategy/history')).body, { items: [], nextCursor: null });
  await until(() => server.host.state(tenantId) === 'hibernated');

  // Ada's week in New York: three tweets about one topic (measured), two replies, follower snapshots,
  // her inputs and a target account; and three closed weeks stored earlier.
  const week = weekOf(Date.now(), ZONE);
  const db = new Database(server.registry.dbPath(tenantId));
  setting(db, 'timezone', ZONE);
  setting(db, 'persona.content_pillars', ['pricing', 'growth']);
  setting(db, 'business.industry_topics', ['saas pricing']);
  setting(db, 'business.product_keywords', ['pricing page']);
  setting(db, 'business.competitor_keywords', ['pricewell']);
  db.prepare("INSERT INTO target_accounts (username, added_at) VALUES ('patio11', 0), ('levelsio', 0)").run();
  for (let i = 0; i < 3; i++) {
    db.prepare("INSERT INTO original_tweets (tweet_id, content, topic, format, source, posted_at) VALUES (?, ?, 'saas pricing', 'list', 'content', ?)").run(`90${i}`, `tweet ${i}`, week.weekStart + (i + 1) * 60_000);
    db.prepare("INSERT INTO post_metrics (tweet_id, kind, likes, retweets, replies, quotes, impressions, score, measured_at) VALUES (?, 'tweet', 5, 1, 1, 0, 500, ?, 0)").run(`90${i}`, 10 + i);
  }
  for (let i = 0; i < 2; i++) {
    db.prepare("INSERT INTO replies (tweet_id, target_tweet_id, target_author_id, target_author_username, source, content, posted_at) VALUES (?, ?, '7', 'someone', 'target', 'hi', ?)").run(`80${i}`, `70${i}`, week.weekStart + 60_000);
  }
  db.prepare('INSERT INTO follower_snapshots (day, followers, following, tweets, at) VALUES (?, 100, 0, 0, 0), (?, 112, 0, 0, 0)').run(previousWeek(week).lastDay, week.firstDay);
  const config = loadRuntimeConfig(db).config;
  let closed = previousWeek(week);
  const closedWeeks = [];
  for (let i = 0; i < 3; i++) {
    const now = closed.weekEnd + 30 * 3_600_000;
    storeReport(db, computeReport({ db, now: () => now, limits: new ActionLimits(db, () => null, () => now) }, config, closed));
    closedWeeks.push(closed.weekStart);
    closed = previousWeek(closed);
  }
  db.close();

  const current = await ada.json('GET', '/api/strategy/current');
  t.equal(current.status, 200);
  t.match(current.body, {
    timeZone: ZONE,
    weekStart: week.weekStart,
    weekEnd: week.weekEnd,
    firstDay: week.firstDay,
    complete: false,
    output: { tweets: 3, replies: 2, total: 5, repliesBySource: { target: 2 } },
    followers: { start: 100, end: 112, delta: 12 },
    scores: { avgTweet: 11, measuredTweets: 3, measuredReplies: 0 },
    topTopics: [{ topic: 'saas pricing', posts: 3, avgScore: 11 }],
  });
  t.equal(current.body.topContent[0].tweetId, '902', 'the best post first');
  t.ok(current.body.recommendations.some((r: { rule: string }) => r.rule === 'low_diversity'), 'one topic in three tweets: low diversity');
  t.equal(DateTime.fromMillis(current.body.weekStart, { zone: ZONE }).toFormat('ccc HH:mm'), 'Mon 00:00', 'Monday midnight in New York');

  const history = await ada.json('GET', '/api/strategy/history?limit=2');
  t.same(history.body.items.map((r: { weekStart: number }) => r.weekStart), closedWeeks.slice(0, 2), 'newest week first');
  t.ok(history.body.items.every((r: { complete: boolean }) => r.complete));
  t.equal(history.body.nextCursor, closedWeeks[1]);
  const rest = await ada.json('GET', `/api/strategy/history?limit=2&before=${history.body.nextCursor}`);
  t.same(rest.body, { items: [await ada.json('GET', '/api/strategy/history?limit=3').then((r) => r.body.items[2])], nextCursor: null });

  const refreshed = await ada.json('POST', '/api/strategy/refresh');
  t.equal(refreshed.status, 200);
  t.match(refreshed.body, { weekStart: week.weekStart, complete: false, output: { total: 5 } });
  const after = await ada.json('GET', '/api/strategy/history');
  t.equal(after.body.items.length, 4);
  t.match(after.body.items[0], { weekStart: week.weekStart, complete: false, output: { total: 5 } }, 'the refreshed week is stored, marked incomplete');

  t.same((await ada.json('GET', '/api/strategy/inputs')).body, {
    contentPillars: ['pricing', 'growth'],
    industryTopics: ['saas pricing'],
    productKeywords: ['pricing page'],
    competitorKeywords: ['pricewell'],
    targetAccounts: ['levelsio', 'patio11'],
  });

  t.match((await ada.json('GET', '/api/strategy/history?limit=0')).body.error, { code: 'invalid_request', fields: { limit: /at least 1/ } });
  t.match((await ada.json('GET', '/api/strategy/history?limit=99')).body.error, { code: 'invalid_params', fields: { limit: String } });
  t.equal((await ada.json('GET', '/api/strategy/history?page=2')).status, 422, 'unknown query parameters are refused');
  t.equal((await ada.json('GET', '/api/strategy/current?week=1')).status, 422);
  t.equal((await new Browser(server.base).json('GET', '/api/strategy/current')).status, 401, 'only for a logged-in user');

  t.match((await bob.json('GET', '/api/strategy/current')).body, { timeZone: 'UTC', output: { total: 0 }, followers: { start: null } }, "Bob's week is his own");
  t.same((await bob.json('GET', '/api/strategy/history')).body.items, [], "and none of Ada's reports");
  t.match((await bob.json('GET', '/api/strategy/inputs')).body, { targetAccounts: [], contentPillars: [] });
});
