// Shared by the sandbox Stripe tests: a catalog, a started fake with a controllable clock, an SDK client
// pointed at it, and a webhook endpoint that records raw bodies and answers what the test tells it to.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { startFakeStripe, type FakePrice, type FakeStripe, type FakeStripeOptions } from '../../sandbox/stripe/index.js';

export const SECRET = 'whsec_sandboxtestsecret';
export const STARTER = 'price_starter_test';
export const GROWTH = 'price_growth_test';
export const PRO = 'price_pro_test';
export const OVERAGE = 'price_overage_test';
export const METER = 'tuitbot_x_overage';

export const PRICES: FakePrice[] = [
  { id: STARTER, productName: 'TuitBot Starter', unitAmount: 1900, currency: 'usd', recurring: { interval: 'month', usageType: 'licensed' } },
  { id: GROWTH, productName: 'TuitBot Growth', unitAmount: 2900, currency: 'usd', recurring: { interval: 'month', usageType: 'licensed' } },
  { id: PRO, productName: 'TuitBot Pro', unitAmount: 4900, currency: 'usd', recurring: { interval: 'month', usageType: 'licensed' } },
  { id: OVERAGE, productName: 'X usage beyond the allowance', unitAmount: 1, currency: 'usd', recurring: { interval: 'month', usageType: 'metered', meter: METER } },
];

export const START = Date.UTC(2026, 0, 31, 12, 0, 0); // a 31st: exercises Stripe's month-end rule
export const DAY = 24 * 60 * 60 * 1000;

export interface Receiver {
  url: string;
  received: { body: string; signature: string; type: string; id: string }[];
  /** Status to answer, per delivery attempt (shifted off); 200 when empty. */
  statuses: number[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const statuses: number[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const parsed = JSON.parse(body) as { type: string; id: string };
      received.push({ body, signature: String(req.headers['stripe-signature']), type: parsed.type, id: parsed.id });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/stripe`,
    received,
    statuses,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

export interface Harness {
  fake: FakeStripe;
  stripe: Stripe;
  receiver: Receiver;
  clock: { now: number };
  /** Moves the shared clock and the fake together, then waits for webhooks to settle. */
  advance(ms: number): Promise<void>;
}

export async function startHarness(t: { teardown(fn: () => unknown): void }, options: Partial<FakeStripeOptions> = {}): Promise<Harness> {
  const receiver = await startReceiver();
  const clock = { now: START };
  const fake = await startFakeStripe({ webhookSecret: SECRET, webhookUrl: receiver.url, prices: PRICES, now: () => clock.now, webhookRetryDelaysMs: [20, 40, 80], ...options });
  t.teardown(async () => {
    await fake.close();
    await receiver.close();
  });
  const stripe = client(fake);
  return {
    fake,
    stripe,
    receiver,
    clock,
    advance: async (ms) => {
      clock.now = ms;
      await fake.advanceTo(ms);
      await fake.idle();
    },
  };
}

export const client = (fake: FakeStripe, key = fake.apiKey) =>
  new Stripe(key, { host: fake.host, port: fake.port, protocol: fake.protocol, maxNetworkRetries: 0, telemetry: false });

/** Creates a customer and a subscription Checkout Session for it, as our billing code does. */
export async function checkout(h: Harness, lineItems: Stripe.Checkout.SessionCreateParams.LineItem[] = [{ price: GROWTH, quantity: 1 }, { price: OVERAGE }]) {
  const customer = await h.stripe.customers.create({ email: 'ada@example.com', name: 'Ada', metadata: { user: 'u1' } });
  const session = await h.stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    client_reference_id: 'u1',
    line_items: lineItems,
    success_url: 'http://app.test/billing/success?session={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://app.test/billing/cancel',
    metadata: { tenant: 't1' },
    subscription_data: { metadata: { tenant: 't1' } },
  });
  return { customer, session };
}

/** Pays a session through its hosted page, as a tester would: GET the page, POST the Pay form. */
export async function payOnPage(h: Harness, session: Stripe.Checkout.Session, action: 'pay' | 'decline' | 'cancel' = 'pay') {
  const page = await fetch(session.url!);
  const html = await page.text();
  const res = await fetch(session.url!, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ action }).toString(),
  });
  await h.fake.idle();
  return { page: html, status: res.status, location: res.headers.get('location'), body: await res.text() };
}

export const types = (fake: FakeStripe, from = 0) => fake.events.slice(from).map((e) => e.type);

/** A customer with a paid Growth (+ metered overage) subscription. */
export async function subscribed(h: Harness) {
  const { customer, session } = await checkout(h);
  await h.fake.completeCheckout(session.id, 'pay');
  const subId = (await h.stripe.checkout.sessions.retrieve(session.id)).subscription as string;
  return { customer, session, subId };
}
