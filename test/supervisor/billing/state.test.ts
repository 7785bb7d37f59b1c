import t from 'tap';
import {
  applySnapshot,
  ceilingsFor,
  GRACE_MS,
  lockAfterGrace,
  RETENTION_MS,
  stateOf,
  type SubscriptionRow,
  type SubscriptionSnapshot,
} from '../../../supervisor/billing/state.js';

const NOW = Date.UTC(2026, 10, 26, 12);
const DAY = 86_400_000;
const owner = { userId: 'u1', tenantId: 't1' };

function snap(over: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot {
  return { id: 'sub_1', customerId: 'cus_1', status: 'active', plan: 'growth', periodStart: NOW, periodEnd: NOW + 30 * DAY, cancelAtPeriodEnd: false, endedAt: null, ...over };
}

function apply(previous: SubscriptionRow | undefined, snapshot: SubscriptionSnapshot, now = NOW): SubscriptionRow {
  const outcome = applySnapshot(previous, snapshot, owner, now);
  if (!outcome.apply) throw new Error(`not applied: ${outcome.reason}`);
  return outcome.row;
}

t.test('none → active with the plan ceilings and automation on', async (t) => {
  t.equal(stateOf(undefined, NOW), 'none');
  t.match(ceilingsFor(undefined, NOW, true), { plan: 'none', automation: false, readOnly: false, repliesPerDay: 0 });
  const row = apply(undefined, snap());
  t.equal(stateOf(row, NOW), 'active');
  t.match(ceilingsFor(row, NOW, true), {
    plan: 'growth',
    repliesPerDay: 15,
    tweetsPerDay: 10,
    threadsPerWeek: 3,
    targets: 10,
    xCostAllowanceCents: 1700,
    xPeriodStart: NOW,
    xOverageCapCents: null,
    automation: true,
    readOnly: false,
  });
});

t.test('past_due keeps automation for 7 days from the first failure, then locks', async (t) => {
  const active = apply(undefined, snap());
  const failing = apply(active, snap({ status: 'past_due' }), NOW + DAY);
  t.equal(failing.grace_until, NOW + DAY + GRACE_MS);
  t.equal(stateOf(failing, NOW + 2 * DAY), 'past_due');
  t.equal(ceilingsFor(failing, NOW + 2 * DAY, false).automation, true, 'automation keeps running in grace');
  const retried = apply(failing, snap({ status: 'past_due' }), NOW + 3 * DAY);
  t.equal(retried.grace_until, failing.grace_until, 'a later retry does not extend the grace');
  const expiry = failing.grace_until!;
  t.equal(stateOf(retried, expiry), 'locked');
  const locked = lockAfterGrace(retried, expiry + 1000);
  t.equal(locked.purge_after, expiry + RETENTION_MS);
  t.match(ceilingsFor(locked, expiry + 1000, false), { plan: 'growth', automation: false, readOnly: true });
  const stillFailing = apply(locked, snap({ status: 'past_due' }), expiry + DAY);
  t.equal(stillFailing.ended_at, locked.ended_at, 'a retry after the lock keeps it');
  t.equal(stateOf(stillFailing, expiry + DAY), 'locked');
  const recovered = apply(stillFailing, snap({ status: 'active' }), expiry + 2 * DAY);
  t.equal(stateOf(recovered, expiry + 2 * DAY), 'active');
  t.same([recovered.grace_until, recovered.ended_at, recovered.purge_after], [null, null, null]);
});

t.test('canceled: read-only, data kept 30 days, then purged; a new subscription reactivates', async (t) => {
  const active = apply(undefined, snap());
  const ended = apply(active, snap({ status: 'canceled', endedAt: NOW + 5 * DAY }), NOW + 5 * DAY + 10);
  t.equal(stateOf(ended, NOW + 6 * DAY), 'canceled');
  t.equal(ended.purge_after, NOW + 5 * DAY + RETENTION_MS, 'retention counts from Stripe’s end date');
  t.match(ceilingsFor(ended, NOW + 6 * DAY, true), { automation: false, readOnly: true });
  const again = apply(ended, snap({ status: 'canceled', endedAt: NOW + 5 * DAY }), NOW + 7 * DAY);
  t.equal(again.purge_after, ended.purge_after, 'a redelivery does not move the purge date');

  const back = apply(ended, snap({ id: 'sub_2', status: 'active', plan: 'pro' }), NOW + 10 * DAY);
  t.equal(stateOf(back, NOW + 10 * DAY), 'active');
  t.same([back.subscription_id, back.plan, back.purge_after, back.ended_at], ['sub_2', 'pro', null, null]);

  const purged = { ...ended, purged_at: ended.purge_after! };
  t.equal(stateOf(purged, ended.purge_after! + 1), 'purged');
  t.match(ceilingsFor(purged, ended.purge_after! + 1, true), { plan: 'none', readOnly: false, automation: false });
});

t.test('order does not matter: a late event about an old subscription never undoes a live one', async (t) => {
  const current = apply(undefined, snap({ id: 'sub_new' }));
  const late = applySnapshot(current, snap({ id: 'sub_old', status: 'canceled' }), owner, NOW);
  t.equal(late.apply, false);
  const incomplete = applySnapshot(apply(undefined, snap({ status: 'canceled' })), snap({ id: 'sub_2', status: 'incomplete' }), owner, NOW);
  t.equal(incomplete.apply, false, 'an unpaid new checkout does not reset the retention clock');
  t.equal(applySnapshot(undefined, snap({ plan: null }), owner, NOW).apply, false, 'not one of our prices');
});

t.test('plan changes apply new ceilings at once; a renewal closes the period', async (t) => {
  const growth = apply(undefined, snap());
  const down = applySnapshot(growth, snap({ plan: 'starter' }), owner, NOW + DAY);
  t.ok(down.apply);
  if (!down.apply) return;
  t.equal(ceilingsFor(down.row, NOW + DAY, false).repliesPerDay, 5);
  t.equal(down.closedPeriod, null);
  const renewed = applySnapshot(down.row, snap({ plan: 'starter', periodStart: NOW + 30 * DAY, periodEnd: NOW + 60 * DAY }), owner, NOW + 30 * DAY);
  t.ok(renewed.apply);
  if (renewed.apply) t.same(renewed.closedPeriod, { start: NOW, end: NOW + 30 * DAY });
});

t.test('overage: the cap reaches the tenant only when opted in and offered', async (t) => {
  const row = { ...apply(undefined, snap()), overage_opt_in: 1 };
  t.equal(ceilingsFor(row, NOW, true).xOverageCapCents, 1700, 'the default cap is one allowance');
  t.equal(ceilingsFor({ ...row, overage_cap_cents: 500 }, NOW, true).xOverageCapCents, 500);
  t.equal(ceilingsFor(row, NOW, false).xOverageCapCents, null, 'not offered by this server');
});

t.test('cancel at period end keeps access until Stripe ends it', async (t) => {
  const row = apply(apply(undefined, snap()), snap({ cancelAtPeriodEnd: true }));
  t.equal(row.cancel_at_period_end, 1);
  t.equal(stateOf(row, NOW + 29 * DAY), 'active');
});
