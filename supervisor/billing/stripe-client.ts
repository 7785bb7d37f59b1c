/**
 * The Stripe SDK, pointed at api.stripe.com or at another base (the sandbox's simulated Stripe,
 * a proxy), and the one function that reads a Stripe subscription into our snapshot.
 */
import Stripe from 'stripe';
import type { PlanId } from './plans.js';
import type { SubscriptionSnapshot } from './state.js';

export function createStripe(secretKey: string, apiUrl: string | null): Stripe {
  const base = apiUrl ? new URL(apiUrl) : null;
  return new Stripe(secretKey, {
    ...(base && {
      host: base.hostname,
      port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
      protocol: base.protocol === 'http:' ? 'http' : 'https',
    }),
    maxNetworkRetries: 2,
    timeout: 10_000,
    telemetry: false,
    appInfo: { name: 'TuitBot Cloud' },
  });
}

const seconds = (value: number) => value * 1000;

/** Our plan's item decides the period; since API 2025-03-31 periods live on the items. */
export function snapshotOf(subscription: Stripe.Subscription, planOfPrice: (priceId: string) => PlanId | null): SubscriptionSnapshot {
  const items = subscription.items.data;
  const planItem = items.find((item) => planOfPrice(item.price.id) !== null);
  const item = planItem ?? items[0];
  const customer = subscription.customer;
  return {
    id: subscription.id,
    customerId: typeof customer === 'string' ? customer : customer.id,
    status: subscription.status,
    plan: planItem ? planOfPrice(planItem.price.id) : null,
    periodStart: item ? seconds(item.current_period_start) : seconds(subscription.created),
    periodEnd: item ? seconds(item.current_period_end) : seconds(subscription.created),
    cancelAtPeriodEnd: subscription.cancel_at_period_end,
    endedAt: subscription.ended_at === null ? null : seconds(subscription.ended_at),
  };
}
