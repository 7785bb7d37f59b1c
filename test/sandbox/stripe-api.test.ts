// The sandbox Stripe answers the real SDK the way Stripe does: objects, errors and their statuses,
// idempotency keys, authentication, expansion and meter events.
import t from 'tap';
import Stripe from 'stripe';
import { checkout, client, GROWTH, METER, startHarness, START } from './stripe-helpers.js';

t.test('customers round-trip through the SDK, metadata merges like Stripe', async (t) => {
  const h = await startHarness(t);
  const created = await h.stripe.customers.create({ email: 'ada@example.com', name: 'Ada', metadata: { user: 'u1', plan: 'none' } });
  t.match(created.id, /^cus_[0-9A-Za-z]{14}$/);
  t.equal(created.created, Math.floor(START / 1000), 'timestamps come from the injected clock');
  const updated = await h.stripe.customers.update(created.id, { name: 'Ada L.', metadata: { plan: '', tenant: 't1' } });
  t.same(updated.metadata, { user: 'u1', tenant: 't1' }, 'an empty value deletes its key');
  const fetched = await h.stripe.customers.retrieve(created.id);
  t.equal((fetched as Stripe.Customer).name, 'Ada L.');
  await h.fake.idle();
  t.same(h.fake.events.map((e) => e.type), ['customer.created', 'customer.updated']);
  t.same(Object.keys(h.fake.events[1]!.data.previous_attributes!).sort(), ['metadata', 'name']);
});

t.test('errors have Stripe\'s shape, status and SDK error class', async (t) => {
  const h = await startHarness(t);
  const bad = client(h.fake, 'sk_test_wrong_key_1234');
  const auth = await bad.customers.create({ email: 'x@example.com' }).catch((e: unknown) => e);
  t.ok(auth instanceof Stripe.errors.StripeAuthenticationError, 'a wrong key is a 401 authentication error');
  t.equal((auth as Stripe.errors.StripeError).statusCode, 401);
  t.match((auth as Error).message, /^Invalid API Key provided: sk_test_\*+1234$/);

  const noKey = await fetch(`${h.fake.url}/v1/customers/cus_x`);
  t.equal(noKey.status, 401);
  t.match(await noKey.json(), { error: { type: 'invalid_request_error', message: /did not provide an API key/ } });

  const missing = await h.stripe.customers.retrieve('cus_nope').catch((e: unknown) => e);
  t.ok(missing instanceof Stripe.errors.StripeInvalidRequestError);
  t.match(missing, { statusCode: 404, code: 'resource_missing', param: 'id', message: "No such customer: 'cus_nope'" });

  const { customer } = await checkout(h);
  const unknownPrice = await h.stripe.checkout.sessions
    .create({ mode: 'subscription', customer: customer.id, line_items: [{ price: GROWTH, quantity: 1 }, { price: 'price_nope', quantity: 1 }], success_url: 'http://app.test/ok' })
    .catch((e: unknown) => e);
  t.match(unknownPrice, { statusCode: 400, code: 'resource_missing', param: 'line_items[1][price]', message: "No such price: 'price_nope'" });

  const noQuantity = await h.stripe.checkout.sessions.create({ mode: 'subscription', customer: customer.id, line_items: [{ price: GROWTH }], success_url: 'http://app.test/ok' }).catch((e: unknown) => e);
  t.match(noQuantity, { statusCode: 400, param: 'line_items[0][quantity]' });

  const typo = await h.stripe.customers.create({ emial: 'x@example.com' } as Stripe.CustomerCreateParams).catch((e: unknown) => e);
  t.match(typo, { statusCode: 400, code: 'parameter_unknown', param: 'emial' }, 'unknown parameters are rejected like Stripe');

  const noMode = await h.stripe.checkout.sessions.create({ customer: customer.id, line_items: [{ price: GROWTH, quantity: 1 }] } as Stripe.Checkout.SessionCreateParams).catch((e: unknown) => e);
  t.match(noMode, { statusCode: 400, code: 'parameter_missing', param: 'mode' });

  const route = await fetch(`${h.fake.url}/v1/charges`, { headers: { authorization: `Bearer ${h.fake.apiKey}` } });
  t.equal(route.status, 404);
  t.match(await route.json(), { error: { type: 'invalid_request_error', message: /Unrecognized request URL \(GET: \/v1\/charges\)/ } });
});

t.test('an idempotency key replays the first answer and refuses other parameters', async (t) => {
  const h = await startHarness(t);
  const first = await h.stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'key-1' });
  const again = await h.stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'key-1' });
  t.equal(again.id, first.id, 'the same customer comes back');
  t.equal(again.lastResponse.headers['idempotent-replayed'], 'true');
  t.equal(h.fake.events.filter((e) => e.type === 'customer.created').length, 1, 'the effect happened once');
  const other = await h.stripe.customers.create({ email: 'b@example.com' }, { idempotencyKey: 'key-1' }).catch((e: unknown) => e);
  t.ok(other instanceof Stripe.errors.StripeIdempotencyError);
  t.equal((other as Stripe.errors.StripeError).statusCode, 400);
  t.equal(h.fake.events[0]!.request.idempotency_key, 'key-1', 'the event names the key of the request that caused it');
  t.match(h.fake.events[0]!.request.id, /^req_/);
  const fresh = await h.stripe.customers.create({ email: 'a@example.com' }, { idempotencyKey: 'key-2' });
  t.not(fresh.id, first.id);
});

t.test('checkout sessions: hosted URL, substitution-ready success_url, retrieve with expand', async (t) => {
  const h = await startHarness(t);
  const { customer, session } = await checkout(h);
  t.match(session.id, /^cs_test_/);
  t.equal(session.url, `${h.fake.url}/c/pay/${session.id}`);
  t.equal(session.status, 'open');
  t.equal(session.mode, 'subscription');
  t.equal(session.customer, customer.id);
  t.equal(session.client_reference_id, 'u1');
  t.equal(session.amount_total, 2900);
  t.equal(session.expires_at, session.created + 86400);
  await h.fake.completeCheckout(session.id, 'pay');
  const done = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription', 'customer'] });
  t.equal(done.status, 'complete');
  t.equal(done.payment_status, 'paid');
  t.equal(done.url, null, 'a finished session has no URL');
  const sub = done.subscription as Stripe.Subscription;
  t.equal(sub.object, 'subscription');
  t.equal((done.customer as Stripe.Customer).email, 'ada@example.com');
  t.same(sub.metadata, { tenant: 't1' }, 'subscription_data[metadata] lands on the subscription');
  const invalid = await h.stripe.checkout.sessions.retrieve(session.id, { expand: ['mode'] }).catch((e: unknown) => e);
  t.match(invalid, { statusCode: 400, message: /cannot be expanded/ });
  const viaInvoice = await h.stripe.invoices.retrieve(sub.latest_invoice as string, { expand: ['parent.subscription_details.subscription'] });
  t.equal((viaInvoice.parent!.subscription_details!.subscription as Stripe.Subscription).id, sub.id);
});

t.test('portal sessions point at the hosted portal', async (t) => {
  const h = await startHarness(t);
  const { customer } = await checkout(h);
  const portal = await h.stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'http://app.test/billing' });
  t.match(portal.id, /^bps_/);
  t.match(portal.url, new RegExp(`^${h.fake.url}/p/session/`));
  t.equal(portal.return_url, 'http://app.test/billing');
  const missing = await h.stripe.billingPortal.sessions.create({ customer: 'cus_nope' }).catch((e: unknown) => e);
  t.match(missing, { statusCode: 400, code: 'resource_missing', param: 'customer' });
});

t.test('meter events are recorded once per identifier within 24 hours', async (t) => {
  const h = await startHarness(t);
  const { customer } = await checkout(h);
  const body = { event_name: METER, payload: { stripe_customer_id: customer.id, value: '25' }, identifier: 'usage-2026-01-31' };
  const first = await h.stripe.billing.meterEvents.create(body);
  t.match(first, { object: 'billing.meter_event', event_name: METER, identifier: 'usage-2026-01-31', payload: { value: '25' }, timestamp: Math.floor(START / 1000) });
  const dup = await h.stripe.billing.meterEvents.create(body).catch((e: unknown) => e);
  t.ok(dup instanceof Stripe.errors.StripeInvalidRequestError);
  t.match(dup, { statusCode: 400, code: 'resource_already_exists', param: 'identifier' });
  t.equal(h.fake.meterEvents.length, 1);
  h.clock.now = START + 25 * 60 * 60 * 1000;
  await h.stripe.billing.meterEvents.create(body);
  t.equal(h.fake.meterEvents.length, 2, 'after 24 hours the identifier may be used again');
  const stale = await h.stripe.billing.meterEvents.create({ ...body, identifier: 'old', timestamp: Math.floor(START / 1000) - 40 * 86400 }).catch((e: unknown) => e);
  t.match(stale, { statusCode: 400, param: 'timestamp' });
  const generated = await h.stripe.billing.meterEvents.create({ event_name: METER, payload: { stripe_customer_id: customer.id, value: '1' } });
  t.ok(generated.identifier.length > 0, 'an identifier is generated when none is given');
});
