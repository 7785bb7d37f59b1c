/**
 * Sandbox Stripe: a local server speaking Stripe's wire protocol for what TuitBot's billing uses, so the
 * real `stripe` SDK runs against it (`new Stripe(apiKey, { host, port, protocol: 'http' })`). It keeps
 * customers, Checkout and portal sessions, subscriptions, invoices and meter events in memory, serves
 * hosted Checkout/portal pages, and sends signed webhooks in the order Stripe sends them.
 * Tests drive it through the controls below (the hosted pages call the same functions).
 *
 * Used by tests and by sandbox mode only; never by production code paths outside the sandbox switch.
 * Event orders and the dunning schedule are documented in billing.ts and docs/architecture.md.
 */
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import { BillingEngine, DEFAULT_RETRY_SCHEDULE_MS, type PaymentBehaviour } from './billing.js';
import { makeEvent, type StripeEvent } from './events.js';
import { clone, type FakePrice } from './objects.js';
import { createStripeServer } from './server.js';
import { WebhookDelivery } from './webhooks.js';

export type { FakePrice } from './objects.js';
export type { StripeEvent } from './events.js';
export type { PaymentBehaviour } from './billing.js';
export { signatureHeader } from './webhooks.js';
export { DEFAULT_RETRY_SCHEDULE_MS } from './billing.js';

export interface FakeStripeOptions {
  /** 'whsec_...'; events are signed with it (Stripe-Signature t=..,v1=HMAC-SHA256 of `${t}.${body}`). */
  webhookSecret: string;
  /** Where events are POSTed (JSON); may be set later with setWebhookUrl(). Until then events queue. */
  webhookUrl?: string;
  /** The only accepted secret key (Bearer or Basic); default 'sk_test_sandbox'. */
  apiKey?: string;
  /** The catalog it knows; unknown price ids → 400 resource_missing. */
  prices: FakePrice[];
  /** Controllable clock in epoch ms (default Date.now); every object and event timestamp derives from it. */
  now?: () => number;
  /** Base of hosted pages if behind a proxy; default its own http://127.0.0.1:<port>. */
  publicUrl?: string;
  log?: Logger;
  host?: string;
  port?: number;
  /** Offsets from the first failed charge of an invoice at which it is retried; default 1, 3 and 7 days. */
  retryScheduleMs?: readonly number[];
  /** What a subscription becomes when its last retry fails (Stripe's "Manage failed payments" setting). */
  dunningFinalState?: 'canceled' | 'unpaid';
  /** Waits between webhook delivery attempts (real time); default 100 ms, 500 ms, 2 s, then give up. */
  webhookRetryDelaysMs?: readonly number[];
  /** Per-attempt timeout of a webhook POST; default 10 s. */
  webhookTimeoutMs?: number;
  /**
   * The time written into `Stripe-Signature` (epoch ms). Default: the wall clock, like Stripe with a
   * test clock (objects follow the simulated time, signatures the real one), so `constructEvent` with
   * its default tolerance accepts events produced after advanceTo().
   */
  signingClock?: () => number;
}

export interface FakeStripe {
  host: string;
  port: number;
  protocol: 'http';
  url: string;
  apiKey: string;
  setWebhookUrl(url: string): void;
  close(): Promise<void>;
  completeCheckout(sessionId: string, outcome: 'pay' | 'decline' | 'cancel'): Promise<void>;
  setPaymentBehaviour(customerId: string, b: PaymentBehaviour): void;
  /** Like a Stripe test clock: renewals, dunning retries, period-end cancellations and session expiry due by `ms`. */
  advanceTo(ms: number): Promise<void>;
  holdWebhooks(hold: boolean): void;
  pendingEvents(): StripeEvent[];
  deliver(options?: { order?: string[]; duplicate?: boolean }): Promise<void>;
  idle(): Promise<void>;
  events: StripeEvent[];
  meterEvents: object[];
  subscription(id: string): object | undefined;
  /** Current state of other objects, for assertions (undefined when unknown). */
  customer(id: string): object | undefined;
  invoice(id: string): object | undefined;
  checkoutSession(id: string): object | undefined;
}

export async function startFakeStripe(o: FakeStripeOptions): Promise<FakeStripe> {
  const log = o.log ?? pino({ level: 'silent' });
  const apiKey = o.apiKey ?? 'sk_test_sandbox';
  const events: StripeEvent[] = [];
  let publicUrl = o.publicUrl ?? '';
  let hasEndpoint = o.webhookUrl !== undefined;

  const delivery = new WebhookDelivery({
    secret: o.webhookSecret,
    url: o.webhookUrl,
    log,
    retryDelaysMs: o.webhookRetryDelaysMs ?? [100, 500, 2000],
    timeoutMs: o.webhookTimeoutMs ?? 10_000,
    signingClock: o.signingClock ?? Date.now,
  });

  const engine: BillingEngine = new BillingEngine({
    now: o.now ?? Date.now,
    prices: o.prices,
    publicUrl: () => publicUrl,
    retryScheduleMs: o.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS,
    dunningFinalState: o.dunningFinalState ?? 'canceled',
    warn: (message, details) => log.warn(details, message),
    emit: (type, object, cause, previous) => {
      const event = makeEvent(type, object, Math.floor(engine.nowMs() / 1000), cause, hasEndpoint ? 1 : 0, previous);
      events.push(event);
      log.debug({ event: event.id, type }, 'sandbox stripe: event');
      delivery.enqueue(event);
    },
  });

  const completeCheckout = (id: string, outcome: 'pay' | 'decline' | 'cancel') => engine.completeCheckout(id, outcome);
  const server = createStripeServer({ engine, apiKey, log, completeCheckout });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  if (publicUrl === '') publicUrl = url;
  publicUrl = publicUrl.replace(/\/+$/, '');

  return {
    host,
    port,
    protocol: 'http',
    url,
    apiKey,
    events,
    meterEvents: engine.meterEvents,
    setWebhookUrl: (webhookUrl) => {
      hasEndpoint = true;
      delivery.setUrl(webhookUrl);
    },
    close: async () => {
      delivery.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await delivery.idle();
    },
    completeCheckout: async (id, outcome) => {
      engine.completeCheckout(id, outcome);
    },
    setPaymentBehaviour: (customerId, b) => engine.setPaymentBehaviour(customerId, b),
    advanceTo: async (ms) => {
      engine.advanceTo(ms);
    },
    holdWebhooks: (hold) => delivery.hold(hold),
    pendingEvents: () => delivery.pending(),
    deliver: (options) => delivery.deliver(options),
    idle: () => delivery.idle(),
    // Copies, so an assertion can never change the fake's state.
    subscription: (id) => copy(engine.subscriptions.get(id)),
    customer: (id) => copy(engine.customers.get(id)),
    invoice: (id) => copy(engine.invoices.get(id)?.invoice),
    checkoutSession: (id) => copy(engine.sessions.get(id)?.session),
  };
}

const copy = <T>(value: T | undefined): T | undefined => (value === undefined ? undefined : clone(value));
