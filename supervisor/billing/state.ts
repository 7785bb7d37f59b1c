/**
 * The subscription lifecycle as pure functions: Stripe's latest word on a subscription plus our own
 * deadlines → what the user may do, and the ceilings their tenant runs under.
 *
 *   none → active → past_due (grace: automation keeps running) → active again on payment
 *                           ↘ locked (grace over: automation stops, read-only)
 *        active/past_due → canceled (automation stops, read-only, data kept) → purged
 *   A new checkout within the retention period picks the same tenant up again.
 *
 * No I/O here, so every edge is a unit test with a made-up clock.
 */
import type { Ceilings } from '../../protocol/index.js';
import { DEFAULT_OVERAGE_CAP_MULTIPLE, planById, type Plan, type PlanId } from './plans.js';

export const GRACE_MS = 7 * 24 * 60 * 60 * 1000;
export const RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** How long before the purge the reminder goes out. */
export const PURGE_REMINDER_MS = 3 * 24 * 60 * 60 * 1000;

export interface SubscriptionRow {
  user_id: string;
  tenant_id: string;
  subscription_id: string;
  plan: PlanId;
  stripe_status: string;
  period_start: number;
  period_end: number;
  cancel_at_period_end: number;
  grace_until: number | null;
  ended_at: number | null;
  purge_after: number | null;
  purge_reminded_at: number | null;
  purged_at: number | null;
  overage_opt_in: number;
  overage_cap_cents: number | null;
  updated_at: number;
}

/** What we read from a Stripe subscription object (see stripe-client.ts). */
export interface SubscriptionSnapshot {
  id: string;
  customerId: string;
  status: string;
  /** `null` when none of its prices is one of our plans. */
  plan: PlanId | null;
  periodStart: number;
  periodEnd: number;
  cancelAtPeriodEnd: boolean;
  endedAt: number | null;
}

export type BillingState = 'none' | 'incomplete' | 'active' | 'past_due' | 'locked' | 'canceled' | 'purged';

const LIVE = new Set(['active', 'trialing', 'past_due']);
const ENDED = new Set(['canceled', 'unpaid', 'incomplete_expired', 'paused']);

export function stateOf(row: SubscriptionRow | undefined, now: number): BillingState {
  if (!row) return 'none';
  if (row.stripe_status === 'active' || row.stripe_status === 'trialing') return 'active';
  if (row.stripe_status === 'past_due') return row.grace_until !== null && row.grace_until > now ? 'past_due' : 'locked';
  if (ENDED.has(row.stripe_status)) return row.purged_at !== null ? 'purged' : 'canceled';
  return 'incomplete';
}

/** Automation runs (and X is paid for) in these states. */
export function hasAccess(state: BillingState): boolean {
  return state === 'active' || state === 'past_due';
}

/** The data is kept but may not change. */
export function isReadOnly(state: BillingState): boolean {
  return state === 'locked' || state === 'canceled';
}

export type SnapshotOutcome =
  | { apply: false; reason: string }
  | {
      apply: true;
      row: SubscriptionRow;
      /** The billing period that just closed (renewal), for overage reporting. */
      closedPeriod: { start: number; end: number } | null;
    };

/**
 * The row after Stripe's latest snapshot of a subscription. Only live statuses or a newer
 * subscription replace a row: a late event about an old, ended subscription never undoes a new one.
 */
export function applySnapshot(
  previous: SubscriptionRow | undefined,
  snapshot: SubscriptionSnapshot,
  owner: { userId: string; tenantId: string },
  now: number,
): SnapshotOutcome {
  if (snapshot.plan === null) return { apply: false, reason: 'no plan price on the subscription' };
  const same = previous?.subscription_id === snapshot.id;
  if (previous && !same) {
    const previousLive = LIVE.has(previous.stripe_status);
    if (previousLive && !LIVE.has(snapshot.status)) return { apply: false, reason: 'an older subscription; a live one is current' };
  }
  const base = same ? previous! : undefined;
  const status = snapshot.status;
  const row: SubscriptionRow = {
    user_id: owner.userId,
    tenant_id: owner.tenantId,
    subscription_id: snapshot.id,
    plan: snapshot.plan,
    stripe_status: status,
    period_start: snapshot.periodStart,
    period_end: snapshot.periodEnd,
    cancel_at_period_end: snapshot.cancelAtPeriodEnd ? 1 : 0,
    grace_until: null,
    ended_at: null,
    purge_after: null,
    purge_reminded_at: null,
    purged_at: null,
    overage_opt_in: previous?.overage_opt_in ?? 0,
    overage_cap_cents: previous?.overage_cap_cents ?? null,
    updated_at: now,
  };
  if (status === 'past_due') {
    // The grace period starts at the first failure and is not extended by later retries.
    row.grace_until = base?.stripe_status === 'past_due' && base.grace_until !== null ? base.grace_until : now + GRACE_MS;
    // Still failing after the grace ran out: the lock and its purge date stay as they were.
    if (base?.ended_at != null) {
      row.ended_at = base.ended_at;
      row.purge_after = base.purge_after;
      row.purge_reminded_at = base.purge_reminded_at;
    }
  } else if (ENDED.has(status)) {
    const endedAt = base?.ended_at ?? snapshot.endedAt ?? now;
    row.ended_at = endedAt;
    row.purge_after = base?.purge_after ?? endedAt + RETENTION_MS;
    row.purge_reminded_at = base?.purge_reminded_at ?? null;
    row.purged_at = base?.purged_at ?? null;
  } else if (!LIVE.has(status) && previous && !same && previous.purged_at === null && previous.ended_at !== null) {
    // An incomplete new checkout does not cancel the retention clock of the old data.
    return { apply: false, reason: 'a new subscription that is not paid yet' };
  }
  const closedPeriod =
    same && snapshot.periodStart > previous!.period_start ? { start: previous!.period_start, end: snapshot.periodStart } : null;
  return { apply: true, row, closedPeriod };
}

/** The row once its grace period has run out: access ends now, the data is kept for the retention period. */
export function lockAfterGrace(row: SubscriptionRow, now: number): SubscriptionRow {
  const endedAt = row.grace_until ?? now;
  return { ...row, ended_at: endedAt, purge_after: endedAt + RETENTION_MS, updated_at: now };
}

const NO_PLAN: NonNullable<Ceilings> = {
  plan: 'none',
  repliesPerDay: 0,
  tweetsPerDay: 0,
  threadsPerWeek: 0,
  targets: 0,
  xCostAllowanceCents: 0,
  xPeriodStart: null,
  xReadCentsPerDay: 0,
  xUrlPostsPerDay: 0,
  xOverageCapCents: null,
  automation: false,
  readOnly: false,
};

/**
 * The ceilings a cloud tenant runs under. Without access it may still be set up (no plan yet) or
 * read (ended), but automation makes no X calls.
 */
export function ceilingsFor(row: SubscriptionRow | undefined, now: number, overageOffered: boolean, ownXApp = false): NonNullable<Ceilings> {
  const state = stateOf(row, now);
  if (!row || !hasAccess(state)) return { ...NO_PLAN, plan: row && isReadOnly(state) ? row.plan : 'none', readOnly: isReadOnly(state) };
  const plan = planById(row.plan);
  const overage = overageOffered && row.overage_opt_in === 1;
  return planCeilings(plan, {
    periodStart: row.period_start,
    overageCapCents: overage ? (row.overage_cap_cents ?? plan.xAllowanceCents * DEFAULT_OVERAGE_CAP_MULTIPLE) : null,
    ownXApp,
  });
}

/** A paid plan's ceilings for a billing period, automation on. */
export function planCeilings(plan: Plan, options: { periodStart: number; overageCapCents?: number | null; ownXApp?: boolean }): NonNullable<Ceilings> {
  // With their own X app X bills the user: no allowance, no read budget, no URL ration, no overage.
  const x = options.ownXApp
    ? { xCostAllowanceCents: null, xPeriodStart: null, xReadCentsPerDay: null, xUrlPostsPerDay: null, xOverageCapCents: null }
    : {
        xCostAllowanceCents: plan.xAllowanceCents,
        xPeriodStart: options.periodStart,
        xReadCentsPerDay: plan.xReadCentsPerDay,
        xUrlPostsPerDay: plan.xUrlPostsPerDay,
        xOverageCapCents: options.overageCapCents ?? null,
      };
  return {
    plan: plan.id,
    repliesPerDay: plan.repliesPerDay,
    tweetsPerDay: plan.tweetsPerDay,
    threadsPerWeek: plan.threadsPerWeek,
    targets: plan.targets,
    ...x,
    automation: true,
    readOnly: false,
  };
}

export const NO_PLAN_CEILINGS: NonNullable<Ceilings> = NO_PLAN;
