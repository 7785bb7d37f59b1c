// The subscription lifecycle as Stripe runs it, driven through the hosted pages and a test clock:
// checkout, renewal, failed payments and dunning, recovery, cancellation, plan switches, the portal.
import t from 'tap';
import type Stripe from 'stripe';
import { checkout, DAY, subscribed, GROWTH, METER, OVERAGE, payOnPage, PRO, START, STARTER, startHarness, types } from './stripe-helpers.js';

const sec = (ms: number) => Math.floor(ms / 1000);
const FEB_28 = Date.UTC(2026, 1, 28, 12, 0, 0);
const MAR_31 = Date.UTC(2026, 2, 31, 12, 0, 0);

t.test('paying on the hosted checkout page starts the subscription and emits Stripe\'s events in order', async (t) => {
  const h = await startHarness(t);
  const { customer, session } = await checkout(h);
  const from = h.fake.events.length;
  const paid = await payOnPage(h, session);
  t.match(paid.page, /Sandbox Stripe — no real money/);
  t.match(paid.page, /TuitBot Growth/);
  t.equal(paid.status, 303);
  t.equal(paid.location, `http://app.test/billing/success?session=${session.id}`, '{CHECKOUT_SESSION_ID} is substituted');
  t.same(types(h.fake, from), [
    'customer.subscription.created',
    'invoice.created',
    'invoice.finalized',
    'invoice.paid',
    'invoice.payment_succeeded',
    'checkout.session.completed',
  ]);
  const completed = h.fake.events.at(-1)!.data.object as unknown as Stripe.Checkout.Session;
  const sub = await h.stripe.subscriptions.retrieve(completed.subscription as string);
  t.equal(sub.status, 'active');
  t.equal(sub.customer, customer.id);
  t.same(sub.items.data.map((i) => [i.price.id, i.quantity]), [[GROWTH, 1], [OVERAGE, undefined]], 'one item per line item; metered items carry no quantity');
  t.equal(sub.items.data[0]!.current_period_start, sec(START));
  t.equal(sub.items.data[0]!.current_period_end, sec(FEB_28), 'Jan 31 renews on Feb 28 (month-end rule)');
  const invoice = await h.stripe.invoices.retrieve(sub.latest_invoice as string);
  t.match(invoice, { status: 'paid', amount_paid: 2900, billing_reason: 'subscription_create', parent: { type: 'subscription_details', subscription_details: { subscription: sub.id, metadata: { tenant: 't1' } } } });
  const created = h.fake.events[from + 1]!.data.object as unknown as Stripe.Invoice;
  t.equal(created.status, 'draft', 'each event carries a snapshot taken when it happened');
  t.equal((h.fake.events[from]!.data.object as unknown as Stripe.Subscription).metadata['tenant'], 't1');
  t.equal(h.receiver.received.length, h.fake.events.length, 'every event reached the endpoint');
  const again = await fetch(session.url!.replace(/\/c\/pay\/.*/, `/c/pay/${session.id}`));
  t.match(await again.text(), /this checkout is paid/);
});

t.test('a declined card keeps the session open and shows the error; cancel goes back to cancel_url', async (t) => {
  const h = await startHarness(t);
  const { session } = await checkout(h);
  const from = h.fake.events.length;
  const declined = await payOnPage(h, session, 'decline');
  t.equal(declined.status, 402);
  t.match(declined.body, /Your card was declined/);
  t.same(types(h.fake, from), [], 'a decline emits nothing');
  t.equal((await h.stripe.checkout.sessions.retrieve(session.id)).status, 'open');
  const cancelled = await payOnPage(h, session, 'cancel');
  t.equal(cancelled.status, 303);
  t.equal(cancelled.location, 'http://app.test/billing/cancel');
  t.equal((await h.stripe.checkout.sessions.retrieve(session.id)).status, 'open');
  const paid = await payOnPage(h, session, 'pay');
  t.equal(paid.status, 303, 'the buyer can still pay after a decline');
});

t.test('the hosted pages escape what they render', async (t) => {
  const h = await startHarness(t);
  const customer = await h.stripe.customers.create({ email: '<script>alert(1)</script>@example.com' });
  const session = await h.stripe.checkout.sessions.create({ mode: 'subscription', customer: customer.id, line_items: [{ price: STARTER, quantity: 1 }], success_url: 'http://app.test/"><b>x' });
  const html = await (await fetch(session.url!)).text();
  t.notMatch(html, /<script>/);
  t.match(html, /&lt;script&gt;/);
});

t.test('renewal: a successful charge rolls the period and pays a new invoice, billing metered usage in arrears', async (t) => {
  const h = await startHarness(t);
  const { customer, session } = await checkout(h);
  await h.fake.completeCheckout(session.id, 'pay');
  await h.stripe.billing.meterEvents.create({ event_name: METER, payload: { stripe_customer_id: customer.id, value: '120' }, identifier: 'u-1' });
  const subId = (await h.stripe.checkout.sessions.retrieve(session.id)).subscription as string;
  const from = h.fake.events.length;
  await h.advance(FEB_28 - 1000);
  t.same(types(h.fake, from), [], 'nothing happens before the period ends');
  await h.advance(FEB_28 + 1000);
  t.same(types(h.fake, from), ['customer.subscription.updated', 'invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
  const updated = h.fake.events[from]!;
  t.equal(updated.created, sec(FEB_28), 'the step is stamped with its due time');
  t.ok(updated.data.previous_attributes?.['items'], 'previous_attributes carry the old items (old period)');
  const sub = await h.stripe.subscriptions.retrieve(subId);
  t.equal(sub.items.data[0]!.current_period_start, sec(FEB_28));
  t.equal(sub.items.data[0]!.current_period_end, sec(MAR_31), 'the anchor day comes back in months that have it');
  const invoice = await h.stripe.invoices.retrieve(sub.latest_invoice as string);
  t.equal(invoice.billing_reason, 'subscription_cycle');
  t.equal(invoice.amount_paid, 2900 + 120, 'licensed in advance plus 120 metered units at 1 cent');
  t.equal(invoice.period_start, sec(START));
  t.equal(invoice.period_end, sec(FEB_28));
});

t.test('failed renewal: past_due, Smart-Retries-like dunning, then canceled', async (t) => {
  const h = await startHarness(t);
  const { customer, subId } = await subscribed(h);
  h.fake.setPaymentBehaviour(customer.id, 'fail');
  const from = h.fake.events.length;
  await h.advance(FEB_28);
  t.same(types(h.fake, from), ['customer.subscription.updated', 'invoice.created', 'invoice.finalized', 'invoice.payment_failed', 'customer.subscription.updated']);
  const pastDue = h.fake.events.at(-1)!;
  t.equal((pastDue.data.object as { status: string }).status, 'past_due');
  t.same(pastDue.data.previous_attributes, { status: 'active' });
  const failed = h.fake.events.at(-2)!.data.object as unknown as Stripe.Invoice;
  t.equal(failed.attempt_count, 1);
  t.equal(failed.next_payment_attempt, sec(FEB_28 + 1 * DAY), 'first retry one day later');

  const retries: number[] = [];
  for (const day of [1, 3, 7]) {
    const before = h.fake.events.length;
    await h.advance(FEB_28 + day * DAY);
    retries.push(h.fake.events.slice(before).filter((e) => e.type === 'invoice.payment_failed').length);
  }
  t.same(retries, [1, 1, 1], 'retries on days 1, 3 and 7 after the first failure');
  t.same(types(h.fake).slice(-2), ['invoice.payment_failed', 'customer.subscription.deleted'], 'the last failure cancels');
  const sub = await h.stripe.subscriptions.retrieve(subId);
  t.equal(sub.status, 'canceled');
  t.equal(sub.cancellation_details?.reason, 'payment_failed');
  const invoice = await h.stripe.invoices.retrieve(sub.latest_invoice as string);
  t.match(invoice, { status: 'open', attempt_count: 4, next_payment_attempt: null });
  const quiet = h.fake.events.length;
  await h.advance(FEB_28 + 60 * DAY);
  t.equal(h.fake.events.length, quiet, 'a canceled subscription renews nothing');
});

t.test('dunning can end in unpaid instead, and paying the invoice then reactivates', async (t) => {
  const h = await startHarness(t, { dunningFinalState: 'unpaid', retryScheduleMs: [2 * DAY] });
  const { customer, subId } = await subscribed(h);
  h.fake.setPaymentBehaviour(customer.id, 'fail');
  await h.advance(FEB_28 + 2 * DAY);
  t.equal((await h.stripe.subscriptions.retrieve(subId)).status, 'unpaid');
  t.same(h.fake.events.at(-1)!.data.previous_attributes, { status: 'past_due' });
  const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'http://app.test/billing' });
  const res = await fetch(portal.url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=update_card' });
  t.equal(res.status, 303);
  await h.fake.idle();
  t.same(types(h.fake).slice(-3), ['invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
  t.equal((await h.stripe.subscriptions.retrieve(subId)).status, 'active');
});

t.test('recovery: switching the behaviour back pays the open invoice on the next retry', async (t) => {
  const h = await startHarness(t);
  const { customer, subId } = await subscribed(h);
  h.fake.setPaymentBehaviour(customer.id, 'fail');
  await h.advance(FEB_28);
  h.fake.setPaymentBehaviour(customer.id, 'succeed');
  const from = h.fake.events.length;
  await h.advance(FEB_28 + DAY);
  t.same(types(h.fake, from), ['invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
  t.same(h.fake.events.at(-1)!.data.previous_attributes, { status: 'past_due' });
  const sub = await h.stripe.subscriptions.retrieve(subId);
  t.equal(sub.status, 'active');
  t.match(await h.stripe.invoices.retrieve(sub.latest_invoice as string), { status: 'paid', attempt_count: 2 });
});

t.test('a renewal that needs authentication emits invoice.payment_action_required', async (t) => {
  const h = await startHarness(t);
  const { customer, session } = await checkout(h);
  await h.fake.completeCheckout(session.id, 'pay');
  h.fake.setPaymentBehaviour(customer.id, 'action_required');
  const from = h.fake.events.length;
  await h.advance(FEB_28);
  t.same(types(h.fake, from), ['customer.subscription.updated', 'invoice.created', 'invoice.finalized', 'invoice.payment_action_required', 'customer.subscription.updated']);
});

t.test('cancel at period end: updated now, deleted when the period ends, no renewal invoice', async (t) => {
  const h = await startHarness(t);
  const { subId } = await subscribed(h);
  h.clock.now = START + 3 * DAY;
  const from = h.fake.events.length;
  const sub = await h.stripe.subscriptions.update(subId, { cancel_at_period_end: true });
  t.equal(sub.cancel_at_period_end, true);
  t.equal(sub.cancel_at, sec(FEB_28));
  t.equal(sub.canceled_at, sec(START + 3 * DAY));
  await h.fake.idle();
  t.same(types(h.fake, from), ['customer.subscription.updated']);
  t.match(h.fake.events.at(-1)!.data.previous_attributes, { cancel_at_period_end: false, cancel_at: null, canceled_at: null });
  await h.advance(FEB_28);
  t.same(types(h.fake, from), ['customer.subscription.updated', 'customer.subscription.deleted']);
  t.match(h.fake.subscription(subId), { status: 'canceled', ended_at: sec(FEB_28) });
});

t.test('plan switch keeps the item id and reports the old items; always_invoice charges the proration now', async (t) => {
  const h = await startHarness(t);
  const { subId } = await subscribed(h);
  const sub = await h.stripe.subscriptions.retrieve(subId);
  const item = sub.items.data[0]!;
  const from = h.fake.events.length;
  const switched = await h.stripe.subscriptions.update(subId, { items: [{ id: item.id, price: PRO }], proration_behavior: 'always_invoice' });
  t.equal(switched.items.data[0]!.id, item.id);
  t.equal(switched.items.data[0]!.price.id, PRO);
  await h.fake.idle();
  t.same(types(h.fake, from), ['customer.subscription.updated', 'invoice.created', 'invoice.finalized', 'invoice.paid', 'invoice.payment_succeeded']);
  const previous = h.fake.events[from]!.data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem> };
  t.equal(previous.items.data[0]!.price.id, GROWTH);
  const proration = await h.stripe.invoices.retrieve(switched.latest_invoice as string);
  t.equal(proration.billing_reason, 'subscription_update');
  t.equal(proration.amount_due, 4900 - 2900, 'switching at the very start of the period prorates the whole difference');
  t.same(proration.lines.data.map((l) => l.parent?.subscription_item_details?.proration), [true, true]);

  const bad = await h.stripe.subscriptions.update(subId, { items: [{ id: item.id, price: 'price_nope' }] }).catch((e: unknown) => e);
  t.match(bad, { statusCode: 400, code: 'resource_missing', param: 'items[0][price]' });
});

t.test('DELETE cancels at once', async (t) => {
  const h = await startHarness(t);
  const { subId } = await subscribed(h);
  const canceled = await h.stripe.subscriptions.cancel(subId);
  t.match(canceled, { status: 'canceled', ended_at: sec(START), cancellation_details: { reason: 'cancellation_requested' } });
  await h.fake.idle();
  t.equal(types(h.fake).at(-1), 'customer.subscription.deleted');
  const again = await h.stripe.subscriptions.update(subId, { cancel_at_period_end: true }).catch((e: unknown) => e);
  t.match(again, { statusCode: 400 });
});

t.test('the portal page switches plans, cancels and resumes, and links back', async (t) => {
  const h = await startHarness(t);
  const { customer, subId } = await subscribed(h);
  const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'http://app.test/billing?a=1&b=2' });
  const html = await (await fetch(portal.url)).text();
  t.match(html, /Sandbox Stripe — no real money/);
  t.match(html, /Switch to TuitBot Pro/);
  t.match(html, /Switch to TuitBot Starter/);
  t.notMatch(html, /Switch to TuitBot Growth/, 'the current plan is not offered');
  t.notMatch(html, /Switch to X usage/, 'metered prices are not plans');
  t.match(html, /href="http:\/\/app.test\/billing\?a=1&amp;b=2"/);
  const post = (form: Record<string, string>) =>
    fetch(portal.url, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  t.equal((await post({ action: 'switch', subscription: subId, price: STARTER })).status, 303);
  t.equal((h.fake.subscription(subId) as Stripe.Subscription).items.data[0]!.price.id, STARTER);
  await post({ action: 'cancel_at_period_end', subscription: subId });
  t.equal((h.fake.subscription(subId) as Stripe.Subscription).cancel_at_period_end, true);
  await post({ action: 'resume', subscription: subId });
  t.equal((h.fake.subscription(subId) as Stripe.Subscription).cancel_at_period_end, false);
  const stranger = await post({ action: 'cancel_now', subscription: 'sub_not_mine' });
  t.equal(stranger.status, 404);
  await post({ action: 'cancel_now', subscription: subId });
  t.equal((h.fake.subscription(subId) as Stripe.Subscription).status, 'canceled');
  await h.fake.idle();
  t.same(types(h.fake).slice(-4), ['customer.subscription.updated', 'customer.subscription.updated', 'customer.subscription.updated', 'customer.subscription.deleted']);
});

t.test('an unpaid checkout expires after 24 hours', async (t) => {
  const h = await startHarness(t);
  const { session } = await checkout(h);
  await h.advance(START + DAY);
  t.equal(types(h.fake).at(-1), 'checkout.session.expired');
  await t.rejects(h.fake.completeCheckout(session.id, 'pay'), /no longer open/);
});
