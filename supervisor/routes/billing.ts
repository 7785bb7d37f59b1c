/**
 * Billing routes: the plan catalog, checkout, the customer portal, the billing status, overage
 * opt-in, and Stripe's webhook. In self-host mode billing is off and these routes say so.
 *
 * Checkout and the portal end on the billing page of the server, or of the trusted app (desktop build) that started
 * them: a checkout fetch is known by its Origin, a portal navigation names it in `?return_to=`
 * (supervisor/http/return-origin.ts).
 */
import * as v from 'valibot';
import type { RateLimits } from '../auth/rate-limits.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { PLANS, OVERAGE_MARGIN, type PlanId } from '../billing/plans.js';
import type { BillingService } from '../billing/service.js';
import { HttpError } from '../http/errors.js';
import { json } from '../http/reply.js';
import { NO_RETURN_ORIGINS, ReturnToQuery, type ReturnOrigins } from '../http/return-origin.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import type { ApiDocument } from '../api/openapi.js';

export interface BillingRouteDeps {
  /** null: billing is disabled (self-host). */
  billing: BillingService | null;
  auth: RequestAuth;
  limits: RateLimits;
  /** Counts each webhook delivery by outcome (metrics). */
  onWebhook?: (outcome: 'applied' | 'ignored' | 'duplicate' | 'rejected') => void;
  /** The desktop app's origins checkout and the portal may return to (TRUSTED_ORIGINS); default none. */
  returnOrigins?: ReturnOrigins;
}

export const PlanField = v.picklist(PLANS.map((plan) => plan.id) as [PlanId, ...PlanId[]], `must be one of ${PLANS.map((plan) => plan.id).join(', ')}`);
export const Checkout = v.strictObject({ plan: PlanField });
export const Overage = v.strictObject({
  enabled: v.boolean('must be true or false'),
  capCents: v.optional(v.nullable(v.pipe(v.number('must be a number'), v.integer('must be a whole number of cents'), v.minValue(1, 'must be at least 1')))),
});

const DISABLED_MESSAGE = 'Billing is disabled on this server (self-hosted): there are no plans, payments or plan limits.';

export function addBillingRoutes(router: Router<Handler>, deps: BillingRouteDeps): void {
  const { auth, limits } = deps;
  const returnOrigins = deps.returnOrigins ?? NO_RETURN_ORIGINS;
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
    const { plan } = await ctx.json(Checkout);
    await limits.consume(['billing_account', caller.user.id]);
    return json(200, await service.checkout(caller.user, plan, returnOrigins.ofFetch(ctx.headers)));
  });

  router.add('GET', '/api/billing/portal', async (ctx) => {
    const caller = auth.require(ctx);
    const service = billing();
    const back = returnOrigins.requested(ctx.query);
    await limits.consume(['billing_account', caller.user.id]);
    // The URL logs the user into their billing account: never cached, never leaked as a referrer.
    const url = await service.portal(caller.user, back);
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
    let result: { outcome: string };
    try {
      result = await service.handleWebhook(await ctx.body(), ctx.headers['stripe-signature']);
    } catch (error) {
      if (error instanceof HttpError) deps.onWebhook?.('rejected');
      throw error;
    }
    deps.onWebhook?.(result.outcome === 'applied' || result.outcome === 'duplicate' ? result.outcome : 'ignored');
    return json(200, { received: true, outcome: result.outcome });
  });
}

export function describeBillingRoutes(doc: ApiDocument): void {
  const tag = 'Billing';
  doc.add(
    { method: 'GET', path: '/api/billing/plans', tag, auth: 'none', summary: 'The plan catalog', description: 'Prices in US cents, daily/weekly ceilings and the X cost allowance per billing period. `billing` is "disabled" on self-hosted servers.', responses: { 200: { description: 'The plans.' } } },
    { method: 'POST', path: '/api/billing/checkout', tag, auth: 'session', summary: 'Start a Stripe Checkout for a plan', description: 'Stripe sends the browser back to `/dashboard/billing?checkout=success|canceled` of the server, or of the app that asked when its Origin is listed in TRUSTED_ORIGINS (the desktop build).', body: Checkout, responses: { 200: { description: '`{ url, sessionId }`: send the browser to `url`.' }, 404: { description: 'Billing is disabled (self-host).' }, 409: { description: '`already_subscribed`: change plans in the portal.' } } },
    { method: 'GET', path: '/api/billing/portal', tag, auth: 'session', summary: 'Go to the Stripe customer portal', query: ReturnToQuery, description: 'A browser navigation. The portal links back to `/dashboard/billing` of the server, or of the app named by `?return_to=<origin>` (an origin listed in TRUSTED_ORIGINS; any other value is refused).', responses: { 303: { description: 'A redirect to a single-use portal URL (never cached).', location: 'The portal session URL.' }, 400: { description: '`invalid_request`: `return_to` is not a trusted origin.' }, 409: { description: '`no_billing_account`: choose a plan first.' } } },
    { method: 'GET', path: '/api/billing/status', tag, auth: 'session', summary: 'Plan, state, ceilings and usage', description: '`state` is none | incomplete | active | past_due | locked | canceled | purged. Usage counts the tenant\'s calendar day and week in its time zone; `xAllowance` is in cents for the current billing period; `overage.estimatedChargeCents` is what will be charged for it, shown before it is.', responses: { 200: { description: 'The billing status, or `{ billing: "disabled" }` on self-hosted servers.' } } },
    { method: 'PUT', path: '/api/billing/overage', tag, auth: 'session', summary: 'Opt in or out of overage', description: 'Usage beyond the X allowance is billed at cost plus the margin, up to `capCents` (default: one allowance).', body: Overage, responses: { 200: { description: 'The new billing status.' }, 409: { description: '`no_subscription`, `overage_unavailable` or `own_x_app`.' } } },
    { method: 'POST', path: '/webhooks/stripe', tag, auth: 'stripe-signature', summary: "Stripe's webhook", description: 'Verified by the Stripe-Signature header on the raw body.', responses: { 200: { description: 'Received (applied, ignored or a duplicate).' }, 400: { description: '`invalid_signature`.' } } },
  );
}
