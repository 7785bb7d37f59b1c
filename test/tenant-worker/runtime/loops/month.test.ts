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
import { checkMonth, dayOf, dollars } from '../../../helpers/month-checks.js';
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

      const replyCap = variant === 'full' ? plan.repliesPerDay : Math.min(5, plan.repliesPerDay);
      const tweetCap = variant === 'full' ? plan.tweetsPerDay : Math.min(6, plan.tweetsPerDay);
      t.equal(crashes, 1, 'a crash was injected mid-post');
      const month = checkMonth(t, h, { plan, replyCap, tweetCap, start, end, queuedKinds });
      results.push(
        `| ${plan.name} | ${variant === 'full' ? 'full ceilings' : 'default settings'} | ${month.replies} | ${month.tweets} | ${month.threads} | ${month.measured} | ${month.readsStoppedAt !== null ? `day ${dayOf(month.readsStoppedAt, start)}` : '—'} | ${dollars(month.readMicros)} | ${dollars(month.totalMicros - month.readMicros)} | ${dollars(month.totalMicros)} | ${dollars(plan.xAllowanceCents * 10_000)} |`,
      );
    });
  }
}

t.teardown(() => {
  if (!full) return;
  // stderr: the TAP reporter keeps it, and it is what is copied into bench/RESULTS.md.
  process.stderr.write(`\n| plan | settings | replies | tweets | threads | measured | reads stopped | X reads | X posts and other | X total | allowance |\n|---|---|---|---|---|---|---|---|---|---|---|\n${results.join('\n')}\n`);
});
