/**
 * The simulated month for a fleet: tenants on every plan sharing one sandbox X (each its own account)
 * and one sandbox LLM on one clock, their jobs interleaved in time order as the host would run them,
 * users approving everything once an hour, one crash injected mid-post in one tenant. Every tenant must
 * hold the single month's invariants on its own, and no tenant may record another's posts.
 * By default 3 tenants for 3 days keep the suite quick; `TUITBOT_SIM_TENANTS=50 TUITBOT_SIM_DAYS=30`
 * is the bench run whose figures are in bench/RESULTS.md.
 */
import t from 'tap';
import { PLANS } from '../../../../supervisor/billing/plans.js';
import { planCeilings } from '../../../../supervisor/billing/state.js';
import { approveAll } from '../../../../tenant-worker/runtime/approvals.js';
import { checkMonth, dollars, type MonthFigures } from '../../../helpers/month-checks.js';
import { runtimeHarness, sharedSandbox, type RuntimeHarness } from '../../../helpers/runtime.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const tenants = Number(process.env['TUITBOT_SIM_TENANTS'] ?? 3);
const days = Number(process.env['TUITBOT_SIM_DAYS'] ?? 3);

t.test(`${tenants} tenants, ${days} simulated days, one sandbox X: every tenant within its limits and allowance, none sees another's posts`, async (t) => {
  const started = performance.now();
  const start = Date.UTC(2026, 10, 2, 7);
  const shared = await sharedSandbox(t, start);
  const fleet: { h: RuntimeHarness; plan: (typeof PLANS)[number]; queuedKinds: Set<string> }[] = [];
  for (let i = 0; i < tenants; i++) {
    const plan = PLANS[i % PLANS.length]!;
    const h = await runtimeHarness(t, { shared, username: `fleet_${i}`, ceilings: planCeilings(plan, { periodStart: start }) });
    h.db.prepare("INSERT INTO target_accounts (username, added_at) VALUES ('AdaBuilds0', ?)").run(start);
    h.start();
    fleet.push({ h, plan, queuedKinds: new Set() });
  }
  const victim = fleet[0]!.h;
  let crashes = 0;
  let reactivated = false;
  victim.deps.afterPost = () => {
    if (shared.clock.now < start + DAY || crashes > 0) return;
    crashes++;
    throw new Error('killed mid-post');
  };

  let runs = 0;
  for (let hour = 1; hour <= days * 24; hour++) {
    const until = start + hour * HOUR;
    for (;;) {
      // The tenant whose alarm is earliest runs next: one timeline for the whole fleet.
      let next: RuntimeHarness | null = null;
      let at = Infinity;
      for (const { h } of fleet) {
        const alarm = h.runner.nextAlarmAt();
        if (alarm !== null && alarm <= until && alarm < at) [next, at] = [h, alarm];
      }
      if (!next) break;
      shared.clock.now = Math.max(shared.clock.now, at);
      await next.runner.tick();
      runs++;
      // The crashed activation's successor has no crash hook.
      if (next === victim && crashes === 1 && !reactivated) {
        victim.reactivate();
        reactivated = true;
      }
    }
    shared.clock.now = Math.max(shared.clock.now, until);
    for (const member of fleet) {
      for (const row of member.h.db.prepare<[], { kind: string }>("SELECT DISTINCT kind FROM approval_queue WHERE status = 'pending'").all()) member.queuedKinds.add(row.kind);
      approveAll(member.h.deps);
    }
  }
  const end = start + days * DAY;
  t.equal(crashes, 1, 'a crash was injected mid-post');

  const figures: { plan: string; month: MonthFigures }[] = [];
  for (const { h, plan, queuedKinds } of fleet) {
    const replyCap = Math.min(5, plan.repliesPerDay);
    const tweetCap = Math.min(6, plan.tweetsPerDay);
    figures.push({ plan: plan.name, month: checkMonth(t, h, { plan, replyCap, tweetCap, start, end, queuedKinds }) });
  }
  const ourPostsAtX = shared.x.world.posts.filter((post) => fleet.some(({ h }) => h.self.id === post.authorId)).length;
  const recorded = fleet.reduce((sum, { h }) => sum + h.db.prepare<[], { n: number }>('SELECT (SELECT count(*) FROM replies) + (SELECT count(*) FROM original_tweets) + (SELECT count(*) FROM thread_tweets WHERE tweet_id IS NOT NULL) AS n').get()!.n, 0);
  t.equal(recorded, ourPostsAtX, 'the fleet recorded exactly the posts X has from its accounts');

  const seconds = (performance.now() - started) / 1000;
  const rows = PLANS.map((plan) => {
    const of = figures.filter((f) => f.plan === plan.name).map((f) => f.month);
    if (of.length === 0) return '';
    const avg = (pick: (m: MonthFigures) => number) => (of.reduce((sum, m) => sum + pick(m), 0) / of.length).toFixed(1);
    const max = Math.max(...of.map((m) => m.totalMicros));
    return `| ${plan.name} | ${of.length} | ${avg((m) => m.replies)} | ${avg((m) => m.tweets)} | ${avg((m) => m.threads)} | ${of.filter((m) => m.readsStoppedAt !== null).length} | ${dollars(of.reduce((s, m) => s + m.totalMicros, 0) / of.length)} | ${dollars(max)} | ${dollars(plan.xAllowanceCents * 10_000)} |`;
  }).filter(Boolean);
  // stderr: the TAP reporter keeps it, and it is what is copied into bench/RESULTS.md.
  process.stderr.write(
    `\n${tenants} tenants × ${days} days: ${runs} job runs, ${ourPostsAtX} posts, ${seconds.toFixed(0)} s wall\n| plan | tenants | replies (avg) | tweets (avg) | threads (avg) | reads stopped (tenants) | X cost (avg) | X cost (max) | allowance |\n|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`,
  );
});
