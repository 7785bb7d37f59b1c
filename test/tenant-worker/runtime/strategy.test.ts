import type Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import t from 'tap';
import { JobRunner } from '../../../tenant-worker/jobs.js';
import { logAction } from '../../../tenant-worker/runtime/action-log.js';
import { loadRuntimeConfig } from '../../../tenant-worker/runtime/config.js';
import type { LoopDeps } from '../../../tenant-worker/runtime/loops/deps.js';
import { reportDueAt, strategyJob, weekToReport } from '../../../tenant-worker/runtime/loops/strategy.js';
import { setRuntimeState } from '../../../tenant-worker/runtime/state.js';
import { computeReport, listReports, previousWeek, storedReport, storeReport, weekOf, type Week } from '../../../tenant-worker/runtime/strategy.js';
import { runtimeContext } from './helpers.js';

const HOUR = 3_600_000;
const PARIS = 'Europe/Paris';
const local = (iso: string, zone = PARIS) => DateTime.fromISO(iso, { zone }).toMillis();

let nextId = 1;
function reply(db: Database.Database, at: number, metrics: { score: number; replies?: number } | null, source = 'discovery') {
  const id = String(nextId++);
  db.prepare("INSERT INTO replies (tweet_id, target_tweet_id, target_author_id, target_author_username, source, content, posted_at) VALUES (?, ?, '9', 'someone', ?, ?, ?)").run(`r${id}`, `t${id}`, source, `reply ${id}`, at);
  if (metrics) measure(db, `r${id}`, 'reply', metrics.score, metrics.replies ?? 0);
  return `r${id}`;
}
function tweet(db: Database.Database, at: number, topic: string, score: number | null) {
  const id = `w${nextId++}`;
  db.prepare("INSERT INTO original_tweets (tweet_id, content, topic, format, source, posted_at) VALUES (?, ?, ?, 'list', 'content', ?)").run(id, `about ${topic} ${id}`, topic, at);
  if (score !== null) measure(db, id, 'tweet', score, 0);
  return id;
}
function measure(db: Database.Database, tweetId: string, kind: string, score: number, replies: number) {
  db.prepare('INSERT INTO post_metrics (tweet_id, kind, likes, retweets, replies, quotes, impressions, score, measured_at) VALUES (?, ?, 1, 0, ?, 0, 100, ?, 0)').run(tweetId, kind, replies, score);
}
function snapshot(db: Database.Database, day: string, followers: number) {
  db.prepare('INSERT INTO follower_snapshots (day, followers, following, tweets, at) VALUES (?, ?, 0, 0, 0)').run(day, followers);
}

t.test('a week is Monday to Monday in the tenant zone: 169 hours when the clocks go back, 167 when they go forward', async (t) => {
  const autumn = weekOf(local('2026-10-21T12:00'), PARIS);
  t.equal(autumn.weekStart, Date.UTC(2026, 9, 18, 22), 'Monday 19 October 00:00 CEST');
  t.equal(autumn.weekEnd, Date.UTC(2026, 9, 25, 23), 'Monday 26 October 00:00 CET');
  t.equal((autumn.weekEnd - autumn.weekStart) / HOUR, 169);
  t.match(autumn, { firstDay: '2026-10-19', lastDay: '2026-10-25' });
  const spring = weekOf(local('2026-03-08T12:00', 'America/New_York'), 'America/New_York');
  t.equal((spring.weekEnd - spring.weekStart) / HOUR, 167);
  t.equal(spring.firstDay, '2026-03-02', 'Sunday 8 March belongs to the week of Monday 2 March');
  t.equal(weekOf(autumn.weekEnd, PARIS).weekStart, autumn.weekEnd, 'the end of a week is the start of the next');
  t.equal(weekOf(autumn.weekEnd - 1, PARIS).weekStart, autumn.weekStart);

  const { db, clock, context } = runtimeContext(t, local('2026-10-28T12:00'));
  const config = loadRuntimeConfig(db).config;
  // Posts around both edges, as UTC instants: which side they fall on is decided in Paris time.
  const sundayBefore = reply(db, Date.UTC(2026, 9, 18, 21, 30), { score: 1 }); // Sunday 18th 23:30 CEST: the week before
  const mondayIn = reply(db, Date.UTC(2026, 9, 18, 22, 30), { score: 2 }); // Monday 19th 00:30 CEST: in
  const sundayIn = reply(db, Date.UTC(2026, 9, 25, 22, 30), { score: 3 }); // Sunday 25th 23:30 CET (after the change): in
  const mondayAfter = reply(db, Date.UTC(2026, 9, 25, 23, 30), { score: 4 }); // Monday 26th 00:30 CET: the week after
  const ids = (week: Week) => computeReport(context, config, week).topContent.map((c) => c.tweetId).sort();
  t.same(ids(autumn), [mondayIn, sundayIn].sort(), 'only the two inside the Paris week');
  t.same(ids(weekOf(local('2026-10-21T12:00'), 'UTC')), [sundayIn, mondayAfter].sort(), 'the UTC week draws the lines an hour or two later');
  t.same(ids(previousWeek(autumn)), [sundayBefore]);
  clock.now = local('2026-10-26T03:00');
  t.equal(weekToReport(clock.now, PARIS).weekStart, local('2026-10-12T00:00'), 'on Monday morning last week is not due yet');
  t.equal(reportDueAt(autumn), local('2026-10-27T06:00'), 'it is due Tuesday 06:00 local');
  t.equal(weekToReport(local('2026-10-27T06:00'), PARIS).weekStart, autumn.weekStart);
});

function richWeek(db: Database.Database, week: Week) {
  const day = (n: number, hour = 12) => week.weekStart + n * 24 * HOUR + hour * HOUR;
  for (let i = 0; i < 3; i++) tweet(db, day(i), 'pricing pages', 30);
  for (let i = 0; i < 3; i++) tweet(db, day(i, 15), 'cold email', 2);
  tweet(db, day(4), 'onboarding', 10);
  tweet(db, day(5), 'onboarding', null); // not measured yet: counted, not scored
  for (let i = 0; i < 6; i++) reply(db, day(i, 9), { score: 4, replies: 0 }, i === 0 ? 'target' : 'discovery');
  logAction(db, day(1), { action: 'reply', status: 'failure', source: 'discovery', message: 'X said no' });
  logAction(db, day(1), { action: 'reply', status: 'skipped', source: 'discovery', message: 'similar', reason: 'similar_phrasing' });
  logAction(db, day(2), { action: 'tweet', status: 'queued', source: 'content', message: 'queued' });
  snapshot(db, DateTime.fromMillis(week.weekStart, { zone: week.timeZone }).minus({ days: 1 }).toISODate()!, 1000);
  snapshot(db, week.firstDay, 1004);
  snapshot(db, week.lastDay, 990);
  // The week before: tweets did far better.
  for (let i = 0; i < 3; i++) tweet(db, week.weekStart - (i + 1) * 24 * HOUR, 'pricing pages', 40);
}

t.test('the rules fire on what happened: promote, kill, follower stall, score drop, low acceptance, low volume — high priority first', async (t) => {
  const { db, context, setSetting } = runtimeContext(t, local('2026-11-04T12:00'));
  setSetting('timezone', PARIS);
  const config = loadRuntimeConfig(db).config;
  const week = weekOf(local('2026-10-28T12:00'), PARIS);
  richWeek(db, week);
  const report = computeReport(context, config, week);
  t.match(report.output, { replies: 6, tweets: 8, threads: 0, total: 14, repliesBySource: { target: 1, discovery: 5 }, failed: 1, skipped: 1, queued: 1 });
  t.same(report.followers, { start: 1000, end: 990, delta: -10 });
  t.equal(report.scores.measuredTweets, 7);
  t.equal(report.scores.avgTweet, Math.round(((90 + 6 + 10) / 7) * 100) / 100);
  t.equal(report.scores.avgReply, 4);
  t.equal(report.replyAcceptanceRate, 0);
  t.equal(report.estimatedFollowConversion, 0);
  t.equal(report.capacity, 5 * 7 + 6 * 7 + 1, 'the default limits allow 78 posts a week');
  t.equal(report.distinctTopics, 3);
  t.same(report.topTopics.map((x) => x.topic), ['pricing pages', 'onboarding', 'cold email']);
  t.same(report.bottomTopics.map((x) => x.topic), ['cold email', 'pricing pages'], 'bottom topics need 3 measured posts');
  t.equal(report.topTopics[0]!.allTimeAvgScore, null, 'no content_scores yet');
  t.equal(report.topContent.length, 5);
  t.equal(report.topContent[0]!.score, 30);
  t.ok(report.complete, 'computed after the week ended');
  t.same(
    report.recommendations.map((r) => [r.rule, r.category, r.priority]),
    [
      ['promote_topic', 'promote', 'high'],
      ['follower_stall', 'alert', 'high'],
      ['score_drop_tweet', 'alert', 'high'],
      ['kill_topic', 'kill', 'medium'],
      ['low_acceptance', 'experiment', 'medium'],
      ['low_volume', 'alert', 'low'],
    ],
  );
  t.match(report.recommendations[0]!.title, /pricing pages/);
  t.match(report.recommendations[3]!.title, /cold email/);
});

t.test('conversations, a narrow week and an empty one: celebrate, low diversity, nothing posted', async (t) => {
  const { db, context, clock } = runtimeContext(t, Date.UTC(2026, 10, 16, 12));
  const config = loadRuntimeConfig(db).config;
  const week = weekOf(Date.UTC(2026, 10, 10), 'UTC');
  for (let i = 0; i < 5; i++) reply(db, week.weekStart + i * HOUR, { score: 5, replies: i < 2 ? 3 : 0 });
  for (let i = 0; i < 3; i++) tweet(db, week.weekStart + (i + 10) * HOUR, 'pricing', 5);
  const report = computeReport(context, config, week);
  t.equal(report.replyAcceptanceRate, 0.4);
  t.same(report.recommendations.map((r) => r.rule), ['low_volume', 'high_acceptance', 'low_diversity']);

  const empty = computeReport(context, config, weekOf(Date.UTC(2026, 9, 20), 'UTC'));
  t.same(empty.recommendations.map((r) => r.rule), ['no_output']);
  t.same(empty.followers, { start: null, end: null, delta: null });

  clock.now = Date.UTC(2026, 10, 17, 0); // Tuesday: the week is one day old
  const running = computeReport(context, config, weekOf(clock.now, 'UTC'));
  t.notOk(running.complete);
  t.equal(running.capacity, Math.round(78 / 7), 'a running week is judged on the part that has passed');
  t.same(running.recommendations, [], 'an empty running week is not "nothing posted" yet');
});

function jobDeps(context: ReturnType<typeof runtimeContext>['context']): LoopDeps {
  return {
    ...context,
    ceilings: () => null,
    x: () => {
      throw new Error('the strategy job needs no X');
    },
    llm: () => null,
    random: () => 0.5,
    sleep: async () => {},
    activation: { reconciled: false },
  };
}

t.test('the job stores last week once, on Tuesday 06:00 local, replacing a report refreshed while the week ran', async (t) => {
  const { db, clock, context, setSetting } = runtimeContext(t, local('2026-10-27T05:00'));
  setSetting('timezone', PARIS);
  setRuntimeState(db, 'started', clock.now);
  const config = loadRuntimeConfig(db).config;
  const week = weekOf(local('2026-10-21T12:00'), PARIS);
  richWeek(db, week);
  // The user refreshed on Saturday: an incomplete report of that week is stored.
  clock.now = local('2026-10-24T18:00');
  storeReport(db, computeReport(context, config, week));
  t.notOk(storedReport(db, week.weekStart)!.complete);
  clock.now = local('2026-10-27T05:00');

  const deps = jobDeps(context);
  const runner = new JobRunner(db, [strategyJob(deps)], { clock: context.now, random: () => 0 });
  const run = async () => {
    clock.now = Math.max(clock.now, runner.nextAlarmAt()!);
    return (await runner.tick()).runs;
  };
  t.match(await run(), [{ job: 'strategy', ok: true }]);
  t.notOk(storedReport(db, week.weekStart)!.complete, 'Monday night: last week is not due yet');
  const earlier = previousWeek(week);
  t.ok(storedReport(db, earlier.weekStart)!.complete, 'the week before it (three tweets) is stored');
  t.equal(storedReport(db, previousWeek(earlier).weekStart), null, 'a week in which nothing happened gets no report');
  const due = runner.nextAlarmAt()!;
  t.ok(due >= local('2026-10-27T06:00') && due < local('2026-10-27T07:00'), 'next run: Tuesday 06:00 Paris time, within the jitter');

  await run();
  const stored = storedReport(db, week.weekStart)!;
  t.ok(stored.complete, 'the complete report replaced the refreshed one');
  t.equal(stored.output.total, 14);
  t.same(stored.recommendations.map((r) => r.rule).slice(0, 3), ['promote_topic', 'follower_stall', 'score_drop_tweet']);
  const logged = () => db.prepare<[], { message: string }>("SELECT message FROM action_log WHERE action = 'strategy' AND status = 'success' ORDER BY id").all().map((r) => r.message);
  t.equal(logged().length, 2, 'one entry per stored week');
  t.match(logged()[1], /2026-10-19 – 2026-10-25: 14 posts, followers -10, 6 recommendations/);
  const next = runner.nextAlarmAt()!;
  t.ok(next >= local('2026-11-03T06:00') && next < local('2026-11-03T07:00'), 'then the Tuesday after, in CET now');

  // A second run the same week (a restart) changes nothing.
  const before = db.prepare('SELECT * FROM strategy_reports ORDER BY week_start').all();
  db.prepare("UPDATE jobs SET next_run_at = ? WHERE name = 'strategy'").run(clock.now + 1000);
  clock.now += 2 * HOUR;
  t.match(await run(), [{ job: 'strategy', ok: true }]);
  t.same(db.prepare('SELECT * FROM strategy_reports ORDER BY week_start').all(), before, 'the stored reports are untouched');
  t.equal(logged().length, 2, 'and nothing is logged again');
  t.same(listReports(db).items.map((r) => r.weekStart), [week.weekStart, earlier.weekStart]);
});

t.test('a stopped runtime stores nothing', async (t) => {
  const { db, clock, context } = runtimeContext(t, Date.UTC(2026, 10, 26, 12));
  tweet(db, Date.UTC(2026, 10, 18), 'pricing', 3);
  const runner = new JobRunner(db, [strategyJob(jobDeps(context))], { clock: context.now, random: () => 0 });
  clock.now = runner.nextAlarmAt()!;
  await runner.tick();
  t.same(listReports(db).items, []);
  setRuntimeState(db, 'started', clock.now);
  db.prepare("UPDATE jobs SET next_run_at = ? WHERE name = 'strategy'").run(clock.now);
  await runner.tick();
  t.same(listReports(db).items.map((r) => r.firstDay), ['2026-11-16'], 'once started, last week is stored');
});

t.test('history pages newest first by week', async (t) => {
  const { db, context } = runtimeContext(t, Date.UTC(2026, 11, 1));
  const config = loadRuntimeConfig(db).config;
  const weeks = [0, 1, 2, 3, 4].map((n) => weekOf(Date.UTC(2026, 9, 5) + n * 7 * 24 * HOUR, 'UTC'));
  for (const week of weeks) storeReport(db, computeReport(context, config, week));
  const first = listReports(db, { limit: 2 });
  t.same(first.items.map((r) => r.weekStart), [weeks[4]!.weekStart, weeks[3]!.weekStart]);
  const second = listReports(db, { limit: 2, before: first.nextCursor });
  t.same(second.items.map((r) => r.weekStart), [weeks[2]!.weekStart, weeks[1]!.weekStart]);
  const last = listReports(db, { limit: 2, before: second.nextCursor });
  t.same(last.items.map((r) => r.weekStart), [weeks[0]!.weekStart]);
  t.equal(last.nextCursor, null);
});
