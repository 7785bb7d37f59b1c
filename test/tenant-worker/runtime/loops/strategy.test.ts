import t from 'tap';
import { CATEGORIES, listReports, PRIORITIES } from '../../../../tenant-worker/runtime/strategy.js';
import { runtimeHarness } from '../../../helpers/runtime.js';

const HOUR = 3_600_000;

t.test('after a week of the loops against the sandbox X and LLM, the strategy job reports what they did', async (t) => {
  // Thursday 26 November, approval off: the loops post, analytics measures, and on Tuesday 1 December
  // the week of 23–29 November is reported.
  const h = await runtimeHarness(t, { start: Date.UTC(2026, 10, 26, 9), settings: { approval_mode: false } });
  h.start();
  await h.runUntil(Date.UTC(2026, 11, 1, 7, 30));
  const reports = listReports(h.db).items;
  t.equal(reports.length, 1, 'one report: the closed week');
  const report = reports[0]!;
  t.match(report, { firstDay: '2026-11-23', lastDay: '2026-11-29', timeZone: 'UTC', complete: true });

  const inWeek = (sql: string) => h.db.prepare<[number, number], { n: number }>(sql).get(report.weekStart, report.weekEnd)!.n;
  const replies = inWeek('SELECT count(*) AS n FROM replies WHERE posted_at >= ? AND posted_at < ?');
  const tweets = inWeek('SELECT count(*) AS n FROM original_tweets WHERE posted_at >= ? AND posted_at < ?');
  const threads = inWeek("SELECT count(*) AS n FROM threads WHERE status = 'posted' AND posted_at >= ? AND posted_at < ?");
  t.ok(replies + tweets > 0, `the loops posted (${replies} replies, ${tweets} tweets, ${threads} threads)`);
  t.match(report.output, { replies, tweets, threads, total: replies + tweets + threads });
  const roots = h.ownPosts().filter((post) => post.createdAt >= report.weekStart && post.createdAt < report.weekEnd);
  t.ok(roots.length >= report.output.total, 'every counted post is at X');
  t.ok(report.scores.measuredReplies + report.scores.measuredTweets > 0, 'analytics measured the week’s posts, and the report reads them');
  t.equal(report.scores.measuredReplies, inWeek("SELECT count(*) AS n FROM replies r JOIN post_metrics m ON m.tweet_id = r.tweet_id AND m.gone = 0 WHERE r.posted_at >= ? AND r.posted_at < ?"));
  t.ok(report.followers.start !== null && report.followers.end !== null, `followers from the snapshots (${report.followers.start} → ${report.followers.end})`);
  t.ok(report.topContent.length > 0);
  t.ok(report.recommendations.every((r) => CATEGORIES.includes(r.category) && PRIORITIES.includes(r.priority) && r.title && r.description));
  t.ok(report.recommendations.length > 0, `the rules had something to say: ${report.recommendations.map((r) => r.rule).join(', ')}`);
  const logged = h.db.prepare<[], { n: number }>("SELECT count(*) AS n FROM action_log WHERE action = 'strategy' AND status = 'success'").get()!.n;
  t.equal(logged, 1, 'logged once in the activity feed');
  const job = h.runner.list().find((j) => j.name === 'strategy')!;
  t.ok(job.nextRunAt >= Date.UTC(2026, 11, 8, 6) && job.nextRunAt < Date.UTC(2026, 11, 8, 6) + HOUR, 'next: the Tuesday after');
  t.equal(job.lastError, null);
});
