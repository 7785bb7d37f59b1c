/**
 * Billing on a real HTTP server with real tenant threads, the real Stripe SDK and the sandbox's
 * simulated Stripe on loopback. Two clocks: Stripe's (renewals, dunning) and ours (grace, purge),
 * both under the test's control, as Stripe's test clocks are.
 */
import { pino } from 'pino';
import { BillingService } from '../../supervisor/billing/service.js';
import { purgeTenantData } from '../../supervisor/billing/purge-tenant.js';
import { SANDBOX_OVERAGE_PRICE, SANDBOX_PRICES } from '../../supervisor/billing/setup.js';
import { PLANS } from '../../supervisor/billing/plans.js';
import { createStripe } from '../../supervisor/billing/stripe-client.js';
import { addBillingRoutes } from '../../supervisor/routes/billing.js';
import { callTenant } from '../../supervisor/tenants/call.js';
import { startFakeStripe, type FakeStripe } from '../../sandbox/stripe/index.js';
import { Browser } from './browser.js';
import { startAuthServer, type AuthServer } from './auth-server.js';

export const WEBHOOK_SECRET = 'whsec_testsecret0123456789';
export const METER = 'tuitbot_x_overage';
export const T0 = Date.UTC(2026, 10, 1, 12);

export interface BillingServer extends AuthServer {
  stripe: FakeStripe;
  billing: BillingService;
  /** Our clock (grace and purge deadlines); Stripe's is `stripeNow`. */
  clock: { now: number; stripeNow: number };
  /** Users who brought their own X app (X bills them). */
  ownXApps: Set<string>;
  /** Moves both clocks to `at` and lets Stripe act on it (renewals, retries), then waits for delivery. */
  advance(at: number): Promise<void>;
  signup(email: string): Promise<Browser>;
  /** Checkout for `plan` as `browser`, paid on the simulated checkout page; resolves when webhooks are applied. */
  subscribe(browser: Browser, plan: string): Promise<void>;
}

export async function startBillingServer(options: { overage?: boolean } = {}): Promise<BillingServer> {
  const clock = { now: T0, stripeNow: T0 };
  const ownXApps = new Set<string>();
  const stripe = await startFakeStripe({
    webhookSecret: WEBHOOK_SECRET,
    now: () => clock.stripeNow,
    log: pino({ level: 'silent' }),
    prices: [
      ...PLANS.map((plan) => ({
        id: SANDBOX_PRICES[plan.id],
        productName: plan.name,
        unitAmount: plan.priceCents,
        currency: 'usd' as const,
        recurring: { interval: 'month' as const, usageType: 'licensed' as const },
      })),
      { id: SANDBOX_OVERAGE_PRICE, productName: 'Overage', unitAmount: 1, currency: 'usd' as const, recurring: { interval: 'month' as const, usageType: 'metered' as const, meter: METER } },
    ],
  });
  let billing!: BillingService;
  const server = await startAuthServer({
    overrides: { subscription: (userId) => billing.summary(userId) },
    register(router, deps) {
      billing = new BillingService({
        db: deps.db,
        stripe: createStripe(stripe.apiKey, stripe.url),
        webhookSecret: WEBHOOK_SECRET,
        prices: SANDBOX_PRICES,
        overage: options.overage === false ? null : { price: SANDBOX_OVERAGE_PRICE, meter: METER },
        tenants: {
          setCeilings: (id, ceilings) => deps.host.setCeilings(id, ceilings),
          wake: (id) => deps.host.wake(id, 'alarm'),
          request: (id, method, params, timeoutMs) => callTenant(deps.host, id, method, params, timeoutMs),
          purgeData: (id) => purgeTenantData({ host: deps.host, registry: deps.registry, dataDir: server.dir }, id),
        },
        mail: deps.mail,
        appUrl: deps.appUrl,
        log: deps.log,
        now: () => clock.now,
        billsUserDirectly: (userId) => ownXApps.has(userId),
        // Waking a tenant on a cold test thread can take seconds on a busy machine.
        tenantTimeoutMs: 30_000,
      });
      addBillingRoutes(router, { billing, auth: deps.auth, limits: deps.limits });
    },
  });
  server.host.on('event', (tenantId, event) => billing.onTenantEvent(tenantId, event));
  stripe.setWebhookUrl(`${server.base}/webhooks/stripe`);
  return {
    ...server,
    stripe,
    billing,
    clock,
    ownXApps,
    async advance(at) {
      clock.now = at;
      clock.stripeNow = at;
      await stripe.advanceTo(at);
      await stripe.idle();
    },
    async signup(email) {
      const browser = new Browser(server.base);
      const response = await browser.json('POST', '/auth/signup', { email, password: 'correct horse battery staple' });
      if (response.status !== 201) throw new Error(`signup failed: ${JSON.stringify(response.body)}`);
      return browser;
    },
    async subscribe(browser, plan) {
      const checkout = await browser.json('POST', '/api/billing/checkout', { plan });
      if (checkout.status !== 200) throw new Error(`checkout failed: ${JSON.stringify(checkout.body)}`);
      await stripe.completeCheckout(checkout.body.sessionId, 'pay');
      await stripe.idle();
    },
    async close() {
      await server.close();
      await stripe.close();
    },
  };
}
