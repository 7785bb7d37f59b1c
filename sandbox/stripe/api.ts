/**
 * The `/v1` endpoints the sandbox implements: each reads Stripe's wire parameters (rejecting ones it
 * does not know, as Stripe does), calls the billing engine and returns the object, expanded on request.
 * Parameters Stripe has but the sandbox ignores are listed per endpoint so an integration using them
 * still runs; anything else is `parameter_unknown`, which catches typos the way Stripe would.
 */
import type { BillingEngine, ProrationBehavior } from './billing.js';
import { invalidRequest, parameterInvalid, parameterMissing, StripeApiError } from './errors.js';
import type { EventCause } from './events.js';
import { Reader } from './form.js';
import { clone } from './objects.js';

export interface ApiRequest {
  method: string;
  path: string;
  params: Reader;
  cause: EventCause;
}

type Handler = (engine: BillingEngine, req: ApiRequest, id: string) => object;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const routes: Route[] = [];
const route = (method: string, path: string, handler: Handler) =>
  routes.push({ method, pattern: new RegExp(`^${path.replace(':id', '([^/]+)')}$`), handler });

export function findRoute(method: string, path: string): { handler: Handler; id: string } | null {
  for (const r of routes) {
    const m = r.method === method ? r.pattern.exec(path) : null;
    if (m) return { handler: r.handler, id: decodeURIComponent(m[1] ?? '') };
  }
  return null;
}

route('POST', '/v1/customers', (engine, req) => {
  const p = req.params;
  p.only(['email', 'name', 'metadata', 'expand', 'description', 'phone', 'preferred_locales']);
  return engine.createCustomer({ email: p.string('email') ?? null, name: p.string('name') ?? null, metadata: p.metadata() ?? {} }, req.cause);
});

route('GET', '/v1/customers/:id', (engine, req, id) => {
  req.params.only(['expand']);
  return engine.customer(id);
});

route('POST', '/v1/customers/:id', (engine, req, id) => {
  const p = req.params;
  p.only(['email', 'name', 'metadata', 'expand', 'description', 'phone', 'preferred_locales']);
  return engine.updateCustomer(
    id,
    {
      ...(p.has('email') && { email: emptyToNull(p.string('email')) }),
      ...(p.has('name') && { name: emptyToNull(p.string('name')) }),
      ...(p.has('metadata') && { metadata: p.metadata()! }),
    },
    req.cause,
  );
});

route('POST', '/v1/checkout/sessions', (engine, req) => {
  const p = req.params;
  p.only([
    'mode', 'customer', 'customer_email', 'client_reference_id', 'line_items', 'success_url', 'cancel_url', 'metadata',
    'subscription_data', 'expand',
    // accepted and ignored by the sandbox:
    'allow_promotion_codes', 'billing_address_collection', 'locale', 'payment_method_types', 'customer_update', 'automatic_tax',
    'tax_id_collection', 'consent_collection', 'payment_method_collection', 'ui_mode', 'expires_at', 'submit_type', 'custom_text',
  ]);
  const mode = p.string('mode');
  if (mode === undefined) throw parameterMissing('mode');
  if (mode !== 'subscription') throw parameterInvalid('mode', `The sandbox Stripe implements mode=subscription only (got ${mode}).`);
  if (p.has('ui_mode') && p.string('ui_mode') !== 'hosted') throw parameterInvalid('ui_mode', 'The sandbox Stripe implements ui_mode=hosted only.');
  const items = p.list('line_items');
  if (!items || items.length === 0) throw parameterMissing('line_items');
  const lineItems = items.map((item) => {
    item.only(['price', 'quantity']);
    const price = item.string('price');
    if (price === undefined) throw parameterMissing(item.name('price'));
    return { price, quantity: item.integer('quantity') };
  });
  const customer = p.string('customer') ?? null;
  if (customer !== null && p.has('customer_email')) throw invalidRequest('You may only specify one of these parameters: customer, customer_email.', 'customer_email');
  const subscriptionData = p.hash('subscription_data');
  subscriptionData?.only(['metadata', 'description', 'proration_behavior', 'trial_settings', 'billing_cycle_anchor', 'default_tax_rates']);
  if (subscriptionData?.has('billing_cycle_anchor') || subscriptionData?.has('trial_settings')) {
    throw invalidRequest('The sandbox Stripe does not implement trials or custom billing cycle anchors.', 'subscription_data');
  }
  return engine.createCheckoutSession({
    customer,
    customerEmail: p.string('customer_email') ?? null,
    clientReferenceId: p.string('client_reference_id') ?? null,
    successUrl: p.string('success_url') ?? null,
    cancelUrl: p.string('cancel_url') ?? null,
    metadata: p.metadata() ?? {},
    lineItems,
    subscriptionMetadata: subscriptionData?.metadata() ?? {},
    subscriptionDescription: subscriptionData?.string('description') ?? null,
  });
});

route('GET', '/v1/checkout/sessions/:id', (engine, req, id) => {
  req.params.only(['expand']);
  return engine.session(id).session;
});

route('POST', '/v1/billing_portal/sessions', (engine, req) => {
  const p = req.params;
  p.only(['customer', 'return_url', 'expand', 'configuration', 'locale', 'flow_data', 'on_behalf_of']);
  const customer = p.string('customer');
  if (customer === undefined) throw parameterMissing('customer');
  return engine.createPortalSession(customer, p.string('return_url') ?? null);
});

route('GET', '/v1/subscriptions', (engine, req) => {
  const p = req.params;
  p.only(['customer', 'status', 'limit', 'expand', 'price']);
  const customer = p.string('customer');
  const status = p.string('status');
  const limit = p.integer('limit') ?? 10;
  const data = [...engine.subscriptions.values()]
    // Stripe's list hides canceled subscriptions unless asked for them (status=canceled or all).
    .filter((s) => (customer === undefined || s.customer === customer) && (status === 'all' || (status === undefined ? s.status !== 'canceled' : s.status === status)))
    .sort((a, b) => b.created - a.created);
  return { object: 'list', data: data.slice(0, limit), has_more: data.length > limit, url: '/v1/subscriptions' };
});

route('GET', '/v1/subscriptions/:id', (engine, req, id) => {
  req.params.only(['expand']);
  return engine.subscription(id);
});

route('POST', '/v1/subscriptions/:id', (engine, req, id) => {
  const p = req.params;
  p.only([
    'cancel_at_period_end', 'items', 'proration_behavior', 'metadata', 'description', 'cancellation_details', 'expand',
    // accepted and ignored by the sandbox:
    'payment_behavior', 'proration_date', 'off_session',
  ]);
  const items = p.list('items')?.map((item) => {
    item.only(['id', 'price', 'quantity', 'deleted', 'metadata', 'clear_usage']);
    return {
      ...(item.has('id') && { id: item.string('id')! }),
      ...(item.has('price') && { price: item.string('price')! }),
      ...(item.has('quantity') && { quantity: item.integer('quantity')! }),
      ...(item.has('deleted') && { deleted: item.boolean('deleted')! }),
    };
  });
  const details = p.hash('cancellation_details');
  details?.only(['comment', 'feedback']);
  const proration = p.oneOf<ProrationBehavior>('proration_behavior', ['create_prorations', 'always_invoice', 'none']);
  return engine.updateSubscription(
    id,
    {
      ...(p.has('cancel_at_period_end') && { cancelAtPeriodEnd: p.boolean('cancel_at_period_end')! }),
      ...(items && { items }),
      ...(proration && { prorationBehavior: proration }),
      ...(p.has('metadata') && { metadata: p.metadata()! }),
      ...(p.has('description') && { description: emptyToNull(p.string('description')) }),
      ...(details?.has('comment') && { cancellationComment: emptyToNull(details.string('comment')) }),
    },
    req.cause,
  );
});

route('DELETE', '/v1/subscriptions/:id', (engine, req, id) => {
  req.params.only(['expand', 'invoice_now', 'prorate', 'cancellation_details']);
  return engine.cancelSubscription(id, req.cause);
});

route('GET', '/v1/invoices/:id', (engine, req, id) => {
  req.params.only(['expand']);
  return engine.invoice(id);
});

route('GET', '/v1/prices/:id', (engine, req, id) => {
  req.params.only(['expand']);
  const entry = engine.catalog.get(id);
  if (!entry) throw new StripeApiError(404, 'invalid_request_error', `No such price: '${id}'`, 'resource_missing', 'id');
  return entry.price;
});

route('POST', '/v1/billing/meter_events', (engine, req) => {
  const p = req.params;
  p.only(['event_name', 'payload', 'identifier', 'timestamp', 'expand']);
  const eventName = p.string('event_name');
  if (eventName === undefined) throw parameterMissing('event_name');
  const payload = p.hash('payload');
  if (!payload) throw parameterMissing('payload');
  const values: Record<string, string> = {};
  for (const key of Object.keys(payload.params)) values[key] = payload.string(key) ?? '';
  return engine.recordMeterEvent({ eventName, payload: values, identifier: p.string('identifier') ?? null, timestamp: p.integer('timestamp') ?? null });
});

/** Answers with a copy of `object` in which each `expand[]` path (dotted, e.g. `subscription.latest_invoice`) holds the object, not its id. */
export function expand(engine: BillingEngine, object: object, paths: string[]): object {
  const out = clone(object) as Record<string, unknown>;
  for (const path of paths) expandPath(engine, out, path.split('.'), path);
  return out;
}

function expandPath(engine: BillingEngine, node: Record<string, unknown>, segments: string[], full: string): void {
  const [head, ...rest] = segments;
  if (head === undefined) return;
  if (head === 'data' && Array.isArray(node['data'])) {
    for (const item of node['data'] as Record<string, unknown>[]) expandPath(engine, item, rest, full);
    return;
  }
  let value = node[head];
  if (typeof value === 'string') {
    const found = lookup(engine, value);
    if (!found) throw invalidRequest(`This property cannot be expanded (${full}).`, 'expand');
    value = node[head] = clone(found);
  }
  if (value === null) return;
  if (typeof value !== 'object' || value === undefined) throw invalidRequest(`This property cannot be expanded (${full}).`, 'expand');
  if (rest.length > 0) expandPath(engine, value as Record<string, unknown>, rest, full);
}

function lookup(engine: BillingEngine, id: string): object | undefined {
  return (
    engine.customers.get(id) ??
    engine.subscriptions.get(id) ??
    engine.invoices.get(id)?.invoice ??
    engine.sessions.get(id)?.session ??
    engine.catalog.get(id)?.price
  );
}

const emptyToNull = (v: string | undefined): string | null => (v === undefined || v === '' ? null : v);

