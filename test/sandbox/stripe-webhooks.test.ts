// Webhooks from the sandbox Stripe: signed so the SDK's constructEvent accepts them (and only with the
// right secret), delivered in creation order, and controllable: held, reordered, duplicated, retried.
import t from 'tap';
import Stripe from 'stripe';
import { checkout, SECRET, START, startHarness, types } from './stripe-helpers.js';

const sdk = new Stripe('sk_test_unused');

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

t.test('events verify with constructEvent and the secret, and fail with another secret or a tampered body', async (t) => {
  const h = await startHarness(t);
  const { session } = await checkout(h);
  await h.fake.completeCheckout(session.id, 'pay');
  await h.fake.idle();
  t.ok(h.receiver.received.length >= 7);
  for (const delivery of h.receiver.received) {
    const event = sdk.webhooks.constructEvent(delivery.body, delivery.signature, SECRET);
    t.equal(event.id, delivery.id);
  }
  const one = h.receiver.received[0]!;
  t.match(one.signature, /^t=\d+,v1=[0-9a-f]{64}$/);
  t.match(thrown(() => sdk.webhooks.constructEvent(one.body, one.signature, 'whsec_wrong')), { type: 'StripeSignatureVerificationError' });
  t.match(thrown(() => sdk.webhooks.constructEvent(one.body.replace('"livemode": false', '"livemode": true'), one.signature, SECRET)), { type: 'StripeSignatureVerificationError' });
  t.same(h.receiver.received.map((r) => r.id), h.fake.events.map((e) => e.id), 'delivered one at a time, in creation order');
  const event = JSON.parse(one.body) as { api_version: string; livemode: boolean; pending_webhooks: number; request: object };
  t.equal(event.api_version, '2026-10-28.endive');
  t.equal(event.livemode, false);
  t.equal(event.pending_webhooks, 1);
});

t.test('signatures use the wall clock, so events made after a long advanceTo still verify', async (t) => {
  const h = await startHarness(t);
  const { session } = await checkout(h);
  await h.fake.completeCheckout(session.id, 'pay');
  await h.advance(h.clock.now + 40 * 24 * 3600 * 1000);
  const last = h.receiver.received.at(-1)!;
  t.doesNotThrow(() => sdk.webhooks.constructEvent(last.body, last.signature, SECRET));
  t.ok((JSON.parse(last.body) as { created: number }).created >= Math.floor(START / 1000) + 28 * 86400, 'while the event itself carries simulated time');
  t.ok(Math.abs(Number(/^t=(\d+)/.exec(last.signature)![1]) - Date.now() / 1000) < 60, 'and its signature the real time');
});

t.test('held events queue; deliver() sends them in a chosen order, optionally twice', async (t) => {
  const h = await startHarness(t);
  h.fake.holdWebhooks(true);
  const { session } = await checkout(h);
  await h.fake.completeCheckout(session.id, 'pay');
  await h.fake.idle();
  t.equal(h.receiver.received.length, 0, 'nothing is sent while held');
  const pending = h.fake.pendingEvents();
  t.same(pending.map((e) => e.type), types(h.fake));
  const completed = pending.find((e) => e.type === 'checkout.session.completed')!;
  const created = pending.find((e) => e.type === 'customer.subscription.created')!;
  await h.fake.deliver({ order: [completed.id, created.id], duplicate: true });
  const got = h.receiver.received.map((r) => r.type);
  t.same(got.slice(0, 4), ['checkout.session.completed', 'checkout.session.completed', 'customer.subscription.created', 'customer.subscription.created']);
  t.equal(got.length, pending.length * 2, 'the rest follow, each twice');
  t.equal(h.fake.pendingEvents().length, 0);
  h.fake.holdWebhooks(false);
});

t.test('releasing the hold delivers the queue in creation order', async (t) => {
  const h = await startHarness(t);
  h.fake.holdWebhooks(true);
  await checkout(h);
  h.fake.holdWebhooks(false);
  await h.fake.idle();
  t.same(h.receiver.received.map((r) => r.id), h.fake.events.map((e) => e.id));
});

t.test('a failing endpoint is retried with backoff, then given up; later events wait their turn', async (t) => {
  const h = await startHarness(t);
  h.receiver.statuses.push(500, 503);
  await h.stripe.customers.create({ email: 'a@example.com' });
  await h.stripe.customers.create({ email: 'b@example.com' });
  await h.fake.idle();
  t.same(h.receiver.received.map((r) => r.type), ['customer.created', 'customer.created', 'customer.created', 'customer.created']);
  t.equal(h.receiver.received[0]!.id, h.receiver.received[2]!.id, 'the first event is retried until accepted before the second goes');
  t.equal(h.fake.pendingEvents().length, 0);

  h.receiver.statuses.push(500, 500, 500, 500);
  const gone = await h.stripe.customers.create({ email: 'c@example.com' });
  await h.fake.idle();
  t.equal(h.receiver.received.filter((r) => (JSON.parse(r.body) as { data: { object: { id: string } } }).data.object.id === gone.id).length, 4, 'one attempt and three retries, then it is dropped');
  t.equal(h.fake.pendingEvents().length, 0);
});

t.test('the API answers without waiting for a slow endpoint, and events wait for a URL set later', async (t) => {
  const h = await startHarness(t, { webhookUrl: undefined });
  await h.stripe.customers.create({ email: 'a@example.com' });
  t.equal(h.fake.pendingEvents().length, 1, 'queued until an endpoint exists');
  h.fake.setWebhookUrl(h.receiver.url);
  await h.fake.idle();
  t.equal(h.receiver.received.length, 1);
});
