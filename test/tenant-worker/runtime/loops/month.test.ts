/**
 * The simulated month: one tenant on a plan's ceilings against the sandbox X and LLM, a user who approves
 * everything once an hour, one crash injected mid-post. By default a short run (3 days, Starter, default
 * settings) keeps the suite quick; `TUITBOT_SIM_MONTH=1` runs 30 days for every plan at default settings
 * and at full ceilings and prints the metered X cost per plan (the figure in bench/RESULTS.md).
 */
import t from 'tap';
import { PLANS } from '../../../../supervisor/billing/plans.js';
import { planCeilings } from '../../../../supervisor/billing/state.js';
import { approveAll } from '../../../../tenant-worker/runtime/approvals.js';
import { runtimeHarness } from '../../../helpers/runtime.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const full = process.env['TUITBOT_SIM_MONTH'] === '1';
const days = full ? 30 : 3;
const only = process.env['TUITBOT_SIM_PLAN'];
const plans = full ? PLANS.filter((plan) => !only || plan.id === only) : PLANS.filter((plan) => plan.id === 'starter');
const variants = full ? (['default', 'full'] as const).filter((variant) => !process.env['TUITBOT_SIM_VARIANT'] || variant === process.env['TUITBOT_SIM_VARIANT']) : (['default'] as const);

const results: string[] = [];

for (const plan of plans) {
  for (const variant of variants) {
    t.test(`${days} simulated days on ${plan.name} at ${variant} settings: limits, active hours, approval, ids, measurement, no duplicate, the allowance`, async (t) => {
      const start = Date.UTC(2026, 10, 2, 7);
      const h = await runtimeHarness(t, {
        start,
        ceilings: planCeilings(plan, { periodStart: start }),
        settings:
          variant === 'full'
            ? { 'limits.max_replies_per_day': plan.repliesPerDay, 'limits.max_tweets_per_day': plan.tweetsPerDay, 'limits.max_threads_per_week': plan.threadsPerWeek }
            : {},
      });
      h.db.prepare("INSERT INTO target_accounts (username, added_at) VALUES ('AdaBuilds0', ?), ('nobody_here_x', ?)").run(start, start);
      h.start();
      let crashes = 0;
      h.deps.afterPost = () => {
        if (h.clock.now < start + DAY || crashes > 0) return;
        crashes++;
        throw new Error('killed mid-post');
      };
      const queuedKinds = new Set<string>();
      let reactivated = false;
      for (let hour = 1; hour <= days * 24; hour++) {
        await h.runUntil(start + hour * HOUR, () => crashes === 1 && !reactivated);
        if (crashes === 1 && !reactivated) {
          // The crashed activation's successor: its deps have no crash hook.
          h.reactivate();
          reactivated = true;
          await h.runUntil(start + hour * HOUR);
        }
        for (const row of h.db.prepare<[], { kind: string }>("SELECT DISTINCT kind FROM approval_queue WHERE status = 'pending'").all()) queuedKinds.add(row.kind);
        approveAll(h.deps);
      }
      const end = start + days * DAY;

      const replies = h.db.prepare<[], { posted_at: number; target_tweet_id: string; tweet_id: string; approval_id: number | null }>('SELECT posted_at, target_tweet_id, tweet_id, approval_id FROM replies').all();
      const tweets = h.db.prepare<[], { posted_at: number; tweet_id: string; approval_id: number | null }>('SELECT posted_at, tweet_id, approval_id FROM original_tweets').all();
      const threads = h.db.prepare<[], { created_at: number; status: string; approval_id: number | null }>('SELECT created_at, status, approval_id FROM threads').all();
      const parts = h.db.prepare<[], { tweet_id: string }>('SELECT tweet_id FROM thread_tweets WHERE tweet_id IS NOT NULL').all();
      const byDay = (ats: number[]) => Math.max(0, ...Object.values(ats.reduce<Record<string, number>>((acc, at) => ((acc[new Date(at).toISOString().slice(0, 10)] = (acc[new Date(at).toISOString().slice(0, 10)] ?? 0) + 1), acc), {})));
      const replyCap = variant === 'full' ? plan.repliesPerDay : Math.min(5, plan.repliesPerDay);
      const tweetCap = variant === 'full' ? plan.tweetsPerDay : Math.min(6, plan.tweetsPerDay);
      t.ok(replies.length > 0 && tweets.length > 0, `replies (${replies.length}) and tweets (${tweets.length}) went out`);
      // Counted by when X has them: a post a crash interrupted is recorded when it is reconciled, maybe the next day.
      const atX = new Map(h.ownPosts().map((post) => [post.id, post.createdAt]));
      t.ok(byDay(replies.map((r) => atX.get(r.tweet_id)!)) <= replyCap, `replies a day ≤ ${replyCap}`);
      t.ok(byDay(tweets.map((r) => atX.get(r.tweet_id)!)) <= tweetCap, `tweets a day ≤ ${tweetCap}`);
      t.equal(new Set(replies.map((r) => r.target_tweet_id)).size, replies.length, 'no post answered twice');
      const own = h.ownPosts();
      t.equal(new Set(own.map((p) => p.text)).size, own.length, 'no text posted twice (the crash included)');
      t.equal(crashes, 1, 'a crash was injected mid-post');
      t.ok(own.every((p) => new Date(p.createdAt).getUTCHours() >= 8 && new Date(p.createdAt).getUTCHours() < 22), 'nothing outside the active hours');
      const recordedIds = new Set([...replies, ...tweets, ...parts].map((row) => row.tweet_id));
      t.same(own.filter((post) => !recordedIds.has(post.id)), [], 'every post at X is recorded with its X id');
      t.ok([...replies, ...tweets].every((row) => row.approval_id !== null), 'approval mode held: every reply and tweet was approved');
      t.ok(threads.every((row) => row.approval_id !== null), 'and every thread');
      t.ok(queuedKinds.has('reply') && queuedKinds.has('tweet'), 'replies and tweets were queued for approval');
      // Reads stop first when the period's allowance runs low (the rest is kept for posts): posts that came of
      // age after that cannot be measured, by design.
      const readsStopped = h.db.prepare<[], { at: number }>("SELECT at FROM notices_given WHERE key LIKE 'x_budget:reads_reserved_for_posts:%'").get()?.at ?? end;
      const measurable = [...replies, ...tweets].filter((row) => row.posted_at < Math.min(end, readsStopped) - 26 * HOUR).map((row) => row.tweet_id);
      const measured = new Set(h.db.prepare<[], { tweet_id: string }>('SELECT tweet_id FROM post_metrics').all().map((row) => row.tweet_id));
      t.ok(measurable.every((id) => measured.has(id)), `posts a day old were measured while reads were allowed (${measurable.length})`);
      const spentMicros = h.db.prepare<[number], { micros: number }>('SELECT coalesce(sum(cost_micros), 0) AS micros FROM x_spend WHERE at >= ?').get(start)!.micros;
      t.ok(spentMicros <= plan.xAllowanceCents * 10_000, `X cost $${(spentMicros / 1e6).toFixed(2)} within the $${(plan.xAllowanceCents / 100).toFixed(2)} allowance`);
      const reads = h.db.prepare<[number], { micros: number }>("SELECT coalesce(sum(cost_micros), 0) AS micros FROM x_spend WHERE at >= ? AND kind = 'read'").get(start)!.micros;
      results.push(
        `| ${plan.name} | ${variant === 'full' ? 'full ceilings' : 'default settings'} | ${replies.length} | ${tweets.length} | ${threads.filter((row) => row.status === 'posted').length} | ${measured.size} | ${readsStopped < end ? `day ${Math.ceil((readsStopped - start) / DAY)}` : '—'} | $${(reads / 1e6).toFixed(2)} | $${((spentMicros - reads) / 1e6).toFixed(2)} | $${(spentMicros / 1e6).toFixed(2)} | $${(plan.xAllowanceCents / 100).toFixed(2)} |`,
      );
    });
  }
}

t.teardown(() => {
  if (!full) return;
  // stderr: the TAP reporter keeps it, and it is what is copied into bench/RESULTS.md.
  process.stderr.write(`\n| plan | settings | replies | tweets | threads | measured | reads stopped | X reads | X posts and other | X total | allowance |\n|---|---|---|---|---|---|---|---|---|---|---|\n${results.join('\n')}\n`);
});
