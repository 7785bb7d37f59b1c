/**
 * Billing assembled from the configuration: nothing for self-hosters, the simulated Stripe of
 * sandbox/ on loopback in sandbox mode (unless Stripe keys are given), real Stripe otherwise.
 */
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type { BillingConfig } from '../config.js';
import type { OutboxQueue } from '../email/mail-queue.js';
import { PLANS, type PlanId } from './plans.js';
import { BillingService, type BillingTenants } from './service.js';
import { createStripe } from './stripe-client.js';

export interface BillingSetup {
  service: BillingService;
  /** Where Stripe must send webhooks to; the sandbox's Stripe learns it once the server listens. */
  listening(appUrl: string): void;
  close(): Promise<void>;
}

export const SANDBOX_PRICES: Record<PlanId, string> = { starter: 'price_sandbox_starter', growth: 'price_sandbox_growth', pro: 'price_sandbox_pro' };
export const SANDBOX_OVERAGE_PRICE = 'price_sandbox_x_overage';

export async function setUpBilling(
  config: BillingConfig,
  deps: { db: Database.Database; tenants: BillingTenants; mail: OutboxQueue; appUrl: () => string; log: Logger; billsUserDirectly?: (userId: string) => boolean },
): Promise<BillingSetup | null> {
  if (config.kind === 'disabled') return null;
  if (config.kind === 'stripe') {
    const service = new BillingService({
      ...deps,
      stripe: createStripe(config.secretKey, config.apiUrl),
      webhookSecret: config.webhookSecret,
      prices: config.prices,
      overage: config.overagePrice ? { price: config.overagePrice, meter: config.overageMeter } : null,
    });
    return { service, listening: () => {}, close: async () => {} };
  }
  // The sandbox switch: the only production path that reaches into sandbox/stripe.
  const { startFakeStripe } = await import('../../sandbox/stripe/index.js');
  const webhookSecret = `whsec_${randomBytes(24).toString('base64url').replace(/[-_]/g, '')}`;
  const meter = 'tuitbot_x_overage';
  const fake = await startFakeStripe({
    webhookSecret,
    log: deps.log.child({ component: 'sandbox-stripe' }),
    prices: [
      ...PLANS.map((plan) => ({
        id: SANDBOX_PRICES[plan.id],
        productName: `TuitBot ${plan.name}`,
        unitAmount: plan.priceCents,
        currency: 'usd' as const,
        recurring: { interval: 'month' as const, usageType: 'licensed' as const },
      })),
      {
        id: SANDBOX_OVERAGE_PRICE,
        productName: 'TuitBot X usage beyond the allowance',
        unitAmount: 1,
        currency: 'usd' as const,
        recurring: { interval: 'month' as const, usageType: 'metered' as const, meter },
      },
    ],
  });
  const service = new BillingService({
    ...deps,
    stripe: createStripe(fake.apiKey, fake.url),
    webhookSecret,
    prices: SANDBOX_PRICES,
    overage: { price: SANDBOX_OVERAGE_PRICE, meter },
  });
  deps.log.warn({ url: fake.url }, 'SANDBOX: billing uses a simulated Stripe (no real money); its checkout page lets you pay, decline or cancel');
  return {
    service,
    listening: (appUrl) => fake.setWebhookUrl(`${appUrl}/webhooks/stripe`),
    close: () => fake.close(),
  };
}
