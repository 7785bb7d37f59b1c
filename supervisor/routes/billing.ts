/**
 * Billing routes: the plan catalog, checkout, the customer portal, the billing status, overage
 * opt-in, and Stripe's webhook. In self-host mode billing is off and these routes say so.
 */
import * as v from 'valibot';
import type { RateLimits } from '../auth/rate-limits.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { PLANS, OVERAGE_MARGIN, type PlanId } from '../billing/plans.js';
import type { BillingService } from '../billing/service.js';
import { HttpError } from '../http/errors.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';

export interface BillingRouteDeps {
  /** null: billing is disabled (self-host). */
  billing: BillingService | null;
  auth: RequestAuth;
  limits: RateLimits;
}

const PlanField = v.picklist(PLANS.map((plan) => plan.id) as [PlanId, ...PlanId[]], `must be one of ${PLANS.map((plan) => plan.id).join(', ')}`);
const Overage = v.strictObject({
  enabled: v.boolean('must be true or false'),
  capCents: v.optional(v.nullable(v.pipe(v.number('must be a number'), v.integer('must be a whole number of cents'), v.minValue(1, 'must be at least 1')))),
});

const DISABLED_MESSAGE = 'Billing is disabled on this server (self-hosted): there are no plans, payments or plan limits.';

export function addBillingRoutes(router: Router<Handler>, deps: BillingRouteDeps): void {
  const { auth, limits } = deps;
  const billing = () => {
    if (!deps.billing) throw new HttpError(404, 'billing_disabled', DISABLED_MESSAGE);
    return deps.billing;
  };

  router.add('GET', '/api/billing/plans', () =>
    json(200, {
      billing: deps.billing ? 'enabled' : 'disabled',
      overageMarginPercent: Math.round(OVERAGE_MARGIN * 100),
      plans: PLANS.map(({ id, name, priceCents, repliesPerDay, tweetsPerDay, threadsPerWeek, targets, xAllowanceCents }) => ({
        id,
        name,
        priceCents,
        repliesPerDay,
        tweetsPerDay,
        threadsPerWeek,
        targets,
        xAllowanceCents,
      })),
    }),
  );

  router.add('POST', '/api/billing/checkout', async (ctx) => {
    const caller = auth.require(ctx);
    const service = billing();
    const { plan } = await ctx.json(v.strictObject({ plan: PlanField }));
    await limits.consume(['billing_account', caller.user.id]);
    return json(200, await service.checkout(caller.user, plan));
  });

  router.add('GET', '/api/billing/portal', async (ctx) => {
    const caller = auth.require(ctx);
    const service = billing();
    await limits.consume(['billing_account', caller.user.id]);
    // The URL logs the user into their billing account: never cached, never leaked as a referrer.
    const url = await service.portal(caller.user);
    return { status: 303, headers: { Location: url, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' } };
  });

  router.add('GET', '/api/billing/status', async (ctx) => {
    const caller = auth.require(ctx);
    if (!deps.billing) return json(200, { billing: 'disabled', message: DISABLED_MESSAGE });
    return json(200, await deps.billing.status(caller.user));
  });

  router.add('PUT', '/api/billing/overage', async (ctx) => {
    const caller = auth.require(ctx);
    const service = billing();
    const body = await ctx.json(Overage);
    return json(200, await service.setOverage(caller.user, body));
  });

  // Stripe signs the raw body; no cookie, no origin: the signature is the authentication.
  router.add('POST', '/webhooks/stripe', async (ctx) => {
    const service = billing();
    const result = await service.handleWebhook(await ctx.body(), ctx.headers['stripe-signature']);
    return json(200, { received: true, outcome: result.outcome });
  });
}
