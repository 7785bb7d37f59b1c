/**
 * The plan catalog: the one place that says what each plan costs and allows. The pricing page,
 * checkout, the webhook's price → plan mapping and the ceilings pushed to tenants all read it.
 *
 * The X numbers are what we can afford to pay X on the user's behalf on our managed app; the
 * arithmetic is in docs/pricing-economics.md. Change them there and here together.
 */
export type PlanId = 'starter' | 'growth' | 'pro';

export interface Plan {
  id: PlanId;
  name: string;
  /** US cents per month. */
  priceCents: number;
  repliesPerDay: number;
  tweetsPerDay: number;
  threadsPerWeek: number;
  /** `null` = unlimited. */
  targets: number | null;
  /** X API spend included per billing period (creates + reads), US cents. */
  xAllowanceCents: number;
  /** X reads are budgeted per day so discovery cannot eat the month in a week. */
  xReadCentsPerDay: number;
  /** Posts with a URL cost $0.20 each at X (13× a plain post): rationed per day. */
  xUrlPostsPerDay: number;
}

export const PLANS: readonly Plan[] = [
  { id: 'starter', name: 'Starter', priceCents: 1900, repliesPerDay: 5, tweetsPerDay: 3, threadsPerWeek: 1, targets: 3, xAllowanceCents: 700, xReadCentsPerDay: 10, xUrlPostsPerDay: 1 },
  { id: 'growth', name: 'Growth', priceCents: 2900, repliesPerDay: 15, tweetsPerDay: 10, threadsPerWeek: 3, targets: 10, xAllowanceCents: 1700, xReadCentsPerDay: 15, xUrlPostsPerDay: 2 },
  { id: 'pro', name: 'Pro', priceCents: 4900, repliesPerDay: 30, tweetsPerDay: 20, threadsPerWeek: 7, targets: null, xAllowanceCents: 3200, xReadCentsPerDay: 23, xUrlPostsPerDay: 3 },
];

/** Overage is billed at X's cost plus this margin (covers Stripe's fee on it and the risk). */
export const OVERAGE_MARGIN = 0.2;

/** Without an explicit cap, an opted-in tenant may spend at most this multiple of its allowance beyond it. */
export const DEFAULT_OVERAGE_CAP_MULTIPLE = 1;

/** The longest a cap may be, as a multiple of the allowance: a runaway loop must not bill hundreds of dollars. */
export const MAX_OVERAGE_CAP_MULTIPLE = 10;

export function isPlanId(value: string): value is PlanId {
  return PLANS.some((plan) => plan.id === value);
}

export function planById(id: PlanId): Plan {
  return PLANS.find((plan) => plan.id === id)!;
}

/** What a user pays for `costCents` of X usage beyond the allowance. */
export function overageCharge(costCents: number): number {
  return costCents <= 0 ? 0 : Math.ceil(costCents * (1 + OVERAGE_MARGIN));
}
