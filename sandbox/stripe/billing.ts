/**
 * The billing engine of the fake Stripe: customers, checkout sessions, subscriptions, invoices and meter
 * events held in memory, and the lifecycle that moves them — paying a checkout, renewing at period end,
 * dunning, cancelling — each step emitting the events Stripe emits, in Stripe's order, with snapshots.
 *
 * Time comes from `now()` (epoch ms). Nothing happens on its own: `advanceTo(ms)` runs every due step
 * (period ends, payment retries, session expiries) in chronological order, each stamped with its own due
 * time, the way a Stripe test clock does.
 *
 * Dunning ("Smart Retries", sandbox schedule): the first failed attempt starts the clock; retries follow at
 * `retryScheduleMs` after it (default 1, 3 and 7 days); when the last retry fails the subscription becomes
 * `dunningFinalState` (default canceled). The open invoice keeps its `next_payment_attempt` up to date.
 */
import type Stripe from 'stripe';
import { monthsAfter, seconds, DAY_MS } from './clock.js';
import { invalidRequest, parameterInvalid, resourceMissing, StripeApiError } from './errors.js';
import { AUTOMATIC, previousAttributes, type EventCause } from './events.js';
import * as O from './objects.js';

export type PaymentBehaviour = 'succeed' | 'fail' | 'action_required';
export type ProrationBehavior = 'create_prorations' | 'always_invoice' | 'none';

export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [1 * DAY_MS, 3 * DAY_MS, 7 * DAY_MS];

export interface EngineOptions {
  now: () => number;
  prices: O.FakePrice[];
  /** Base URL of the hosted pages. */
  publicUrl: () => string;
  emit: (type: string, object: object, cause: EventCause, previous?: Record<string, unknown>) => void;
  retryScheduleMs: readonly number[];
  dunningFinalState: 'canceled' | 'unpaid';
  warn: (message: string, details: object) => void;
}

export interface SessionRecord {
  session: Stripe.Checkout.Session;
  lineItems: { price: string; quantity: number | undefined }[];
  subscriptionMetadata: Record<string, string>;
  subscriptionDescription: string | null;
  /** The error shown on the hosted page after a declined card. */
  lastError: string | null;
}

export interface PortalRecord {
  session: Stripe.BillingPortal.Session;
  secret: string;
}

interface InvoiceRecord {
  invoice: O.Invoice;
  /** When the first payment attempt failed: the dunning schedule counts from here. */
  firstFailureMs: number | null;
  retriesUsed: number;
}

interface CheckoutLine {
  price: string;
  quantity: number | undefined;
}

export class BillingEngine {
  readonly customers = new Map<string, Stripe.Customer>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly portals = new Map<string, PortalRecord>();
  readonly subscriptions = new Map<string, Stripe.Subscription>();
  readonly invoices = new Map<string, InvoiceRecord>();
  readonly meterEvents: Stripe.Billing.MeterEvent[] = [];
  readonly catalog = new Map<string, { fake: O.FakePrice; price: Stripe.Price }>();
  private readonly behaviours = new Map<string, PaymentBehaviour>();
  private readonly meterIdentifiers = new Map<string, number>();
  private readonly pendingProrations = new Map<string, O.LineInput[]>();
  /** Time never runs backwards for the engine, even if the injected clock is behind the last advanceTo. */
  private floorMs = 0;
  /** While advancing, every step is stamped with its own due time rather than the target time. */
  private steppingAt: number | null = null;

  constructor(private readonly o: EngineOptions) {
    const created = seconds(o.now());
    for (const p of o.prices) this.catalog.set(p.id, { fake: p, price: O.price(p, created) });
  }

  nowMs(): number {
    return this.steppingAt ?? Math.max(this.o.now(), this.floorMs);
  }

  private nowSec(): number {
    return seconds(this.nowMs());
  }

  // ---- customers ---------------------------------------------------------------------------------

  createCustomer(input: { email: string | null; name: string | null; metadata: Record<string, string> }, cause: EventCause): Stripe.Customer {
    const c = O.customer({ id: O.newId('cus'), createdSec: this.nowSec(), ...input, metadata: withoutEmpty(input.metadata) });
    this.customers.set(c.id, c);
    this.o.emit('customer.created', c, cause);
    return c;
  }

  customer(id: string, param = 'id'): Stripe.Customer {
    const c = this.customers.get(id);
    if (!c) throw resourceMissing('customer', id, param);
    return c;
  }

  updateCustomer(id: string, input: { email?: string | null; name?: string | null; metadata?: Record<string, string> }, cause: EventCause): Stripe.Customer {
    const c = this.customer(id);
    const before = O.clone(c);
    if (input.email !== undefined) c.email = input.email;
    if (input.name !== undefined) c.name = input.name;
    if (input.metadata !== undefined) c.metadata = mergeMetadata(c.metadata, input.metadata);
    const previous = previousAttributes(before, c);
    if (Object.keys(previous).length > 0) this.o.emit('customer.updated', c, cause, previous);
    return c;
  }

  setPaymentBehaviour(customerId: string, behaviour: PaymentBehaviour): void {
    this.customer(customerId);
    this.behaviours.set(customerId, behaviour);
  }

  paymentBehaviour(customerId: string): PaymentBehaviour {
    return this.behaviours.get(customerId) ?? 'succeed';
  }

  // ---- checkout ----------------------------------------------------------------------------------

  createCheckoutSession(
    input: Omit<O.SessionInput, 'id' | 'createdSec' | 'url' | 'amountSubtotal'> & {
      lineItems: CheckoutLine[];
      subscriptionMetadata: Record<string, string>;
      subscriptionDescription: string | null;
    },
  ): Stripe.Checkout.Session {
    if (input.customer !== null) this.customer(input.customer, 'customer');
    let subtotal = 0;
    input.lineItems.forEach((line, i) => {
      const entry = this.catalog.get(line.price);
      if (!entry) throw resourceMissing('price', line.price, `line_items[${i}][price]`);
      const metered = entry.fake.recurring.usageType === 'metered';
      if (metered && line.quantity !== undefined) {
        throw parameterInvalid(`line_items[${i}][quantity]`, `Quantity should not be specified where usage_type is \`metered\`. Remove quantity from \`line_items[${i}]\`.`);
      }
      if (!metered && line.quantity === undefined) throw parameterInvalid(`line_items[${i}][quantity]`, `Quantity is required. Add \`quantity\` to \`line_items[${i}]\`.`);
      if (!metered) subtotal += (entry.fake.unitAmount ?? 0) * (line.quantity ?? 1);
    });
    const id = O.newId('cs_test', 58);
    const session = O.checkoutSession({
      id,
      createdSec: this.nowSec(),
      url: `${this.o.publicUrl()}/c/pay/${id}`,
      customer: input.customer,
      customerEmail: input.customerEmail,
      clientReferenceId: input.clientReferenceId,
      successUrl: input.successUrl,
      cancelUrl: input.cancelUrl,
      metadata: withoutEmpty(input.metadata),
      amountSubtotal: subtotal,
    });
    this.sessions.set(id, {
      session,
      lineItems: input.lineItems,
      subscriptionMetadata: withoutEmpty(input.subscriptionMetadata),
      subscriptionDescription: input.subscriptionDescription,
      lastError: null,
    });
    return session;
  }

  session(id: string): SessionRecord {
    const record = this.sessions.get(id);
    if (!record) throw resourceMissing('checkout.session', id);
    return record;
  }

  /**
   * The buttons of the hosted checkout page. Paying emits, in this order (Stripe sends the session's own
   * event last, after the subscription and its first invoice):
   *   [customer.created] → customer.subscription.created → invoice.created → invoice.finalized
   *   → invoice.paid → invoice.payment_succeeded → checkout.session.completed
   * A decline changes nothing and emits nothing (the session stays open); cancel is only a redirect.
   */
  completeCheckout(id: string, outcome: 'pay' | 'decline' | 'cancel'): { redirect: string | null } {
    const record = this.session(id);
    const s = record.session;
    if (s.status !== 'open') throw invalidRequest(`This Checkout Session is no longer open (status: ${s.status}).`);
    if (outcome === 'cancel') return { redirect: s.cancel_url };
    if (outcome === 'decline') {
      record.lastError = 'Your card was declined. (sandbox test card 4000 0000 0000 0002)';
      return { redirect: null };
    }
    record.lastError = null;
    const customer = s.customer !== null && typeof s.customer === 'string' ? this.customer(s.customer) : this.createCustomer({ email: s.customer_email ?? 'sandbox-buyer@example.com', name: null, metadata: {} }, AUTOMATIC);
    customer.currency = 'usd';
    const sub = this.startSubscription(customer, record);
    const invoice = this.newInvoice(sub, 'subscription_create', this.nowSec(), this.nowSec(), this.licensedLines(sub, this.nowSec()));
    sub.latest_invoice = invoice.invoice.id;
    this.o.emit('customer.subscription.created', sub, AUTOMATIC);
    this.o.emit('invoice.created', invoice.invoice, AUTOMATIC);
    this.finalize(invoice);
    // The buyer just authorised this card on the page, so the first charge succeeds whatever the
    // customer's behaviour for later, off-session charges says.
    this.markPaid(invoice);
    s.status = 'complete';
    s.payment_status = 'paid';
    s.customer = customer.id;
    s.subscription = sub.id;
    s.url = null;
    s.customer_details = {
      address: null,
      business_name: null,
      email: customer.email,
      individual_name: null,
      name: customer.name ?? null,
      phone: null,
      tax_exempt: 'none',
      tax_ids: [],
    };
    s.collected_information = { business_name: null, individual_name: null, shipping_details: null };
    this.o.emit('checkout.session.completed', s, AUTOMATIC);
    const success = s.success_url?.replaceAll('{CHECKOUT_SESSION_ID}', s.id) ?? null;
    return { redirect: success };
  }

  private startSubscription(customer: Stripe.Customer, record: SessionRecord): Stripe.Subscription {
    const now = this.nowSec();
    const id = O.newId('sub', 24);
    const end = monthsAfter(now, 1);
    const items = record.lineItems.map((line) =>
      O.subscriptionItem({ id: O.newId('si'), subscription: id, price: this.catalog.get(line.price)!.price, quantity: line.quantity, createdSec: now, periodStart: now, periodEnd: end }),
    );
    const sub = O.subscription({ id, customer: customer.id, createdSec: now, metadata: record.subscriptionMetadata, items, paymentMethod: O.newId('pm', 24) });
    sub.description = record.subscriptionDescription;
    this.subscriptions.set(id, sub);
    return sub;
  }

  // ---- portal ------------------------------------------------------------------------------------

  createPortalSession(customerId: string, returnUrl: string | null): Stripe.BillingPortal.Session {
    this.customer(customerId, 'customer');
    const secret = O.newId('bps_secret', 32);
    const session = O.portalSession({
      id: O.newId('bps', 24),
      createdSec: this.nowSec(),
      customer: customerId,
      returnUrl,
      url: `${this.o.publicUrl()}/p/session/${secret}`,
    });
    this.portals.set(secret, { session, secret });
    return session;
  }

  // ---- subscriptions -----------------------------------------------------------------------------

  subscription(id: string): Stripe.Subscription {
    const sub = this.subscriptions.get(id);
    if (!sub) throw resourceMissing('subscription', id);
    return sub;
  }

  updateSubscription(
    id: string,
    input: {
      cancelAtPeriodEnd?: boolean;
      items?: { id?: string; price?: string; quantity?: number; deleted?: boolean }[];
      prorationBehavior?: ProrationBehavior;
      metadata?: Record<string, string>;
      description?: string | null;
      cancellationComment?: string | null;
    },
    cause: EventCause,
  ): Stripe.Subscription {
    const sub = this.subscription(id);
    if (sub.status === 'canceled' && (input.cancelAtPeriodEnd !== undefined || input.items !== undefined)) {
      throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.');
    }
    const before = O.clone(sub);
    const now = this.nowSec();
    if (input.metadata !== undefined) sub.metadata = mergeMetadata(sub.metadata, input.metadata);
    if (input.description !== undefined) sub.description = input.description;
    if (input.cancellationComment !== undefined) sub.cancellation_details = { ...sub.cancellation_details!, comment: input.cancellationComment };
    if (input.cancelAtPeriodEnd !== undefined && input.cancelAtPeriodEnd !== sub.cancel_at_period_end) {
      sub.cancel_at_period_end = input.cancelAtPeriodEnd;
      sub.cancel_at = input.cancelAtPeriodEnd ? periodEnd(sub) : null;
      sub.canceled_at = input.cancelAtPeriodEnd ? now : null;
      sub.cancellation_details = { ...sub.cancellation_details!, reason: input.cancelAtPeriodEnd ? 'cancellation_requested' : null };
    }
    let prorations: O.LineInput[] = [];
    if (input.items !== undefined) prorations = this.changeItems(sub, input.items);
    const previous = previousAttributes(before, sub);
    if (Object.keys(previous).length > 0) this.o.emit('customer.subscription.updated', sub, cause, previous);
    const behaviour = input.prorationBehavior ?? 'create_prorations';
    if (prorations.length > 0 && behaviour === 'create_prorations') {
      this.pendingProrations.set(sub.id, [...(this.pendingProrations.get(sub.id) ?? []), ...prorations]);
    } else if (prorations.length > 0 && behaviour === 'always_invoice') {
      const record = this.newInvoice(sub, 'subscription_update', now, now, prorations);
      sub.latest_invoice = record.invoice.id;
      this.o.emit('invoice.created', record.invoice, cause);
      this.finalize(record);
      this.attemptPayment(record, cause);
    }
    return sub;
  }

  /** Applies `items[n]` changes in place (an item keeps its id when its price changes, as in Stripe) and returns the proration lines. */
  private changeItems(sub: Stripe.Subscription, changes: { id?: string; price?: string; quantity?: number; deleted?: boolean }[]): O.LineInput[] {
    const now = this.nowSec();
    const start = periodStart(sub);
    const end = periodEnd(sub);
    const fraction = end > start ? Math.max(0, end - now) / (end - start) : 0;
    const lines: O.LineInput[] = [];
    const prorate = (item: Stripe.SubscriptionItem, sign: 1 | -1) => {
      if (item.price.recurring?.usage_type !== 'licensed') return;
      const quantity = item.quantity ?? 1;
      const amount = Math.round(sign * (item.price.unit_amount ?? 0) * quantity * fraction);
      const name = this.catalog.get(item.price.id)?.fake.productName ?? item.price.id;
      const when = new Date(now * 1000).toISOString().slice(0, 10);
      lines.push({
        subscription: sub.id,
        item: O.clone(item),
        amount,
        quantity,
        description: sign < 0 ? `Unused time on ${quantity} × ${name} after ${when}` : `Remaining time on ${quantity} × ${name} after ${when}`,
        periodStart: now,
        periodEnd: end,
        proration: true,
      });
    };
    changes.forEach((change, i) => {
      if (change.price !== undefined && !this.catalog.has(change.price)) throw resourceMissing('price', change.price, `items[${i}][price]`);
      if (change.id === undefined) {
        if (change.price === undefined) throw parameterInvalid(`items[${i}][price]`, 'Missing required param: items[0][price].', 'parameter_missing');
        const item = O.subscriptionItem({
          id: O.newId('si'),
          subscription: sub.id,
          price: this.catalog.get(change.price)!.price,
          quantity: this.catalog.get(change.price)!.fake.recurring.usageType === 'metered' ? undefined : (change.quantity ?? 1),
          createdSec: now,
          periodStart: start,
          periodEnd: end,
        });
        sub.items.data.push(item);
        prorate(item, 1);
        return;
      }
      const at = sub.items.data.findIndex((item) => item.id === change.id);
      if (at < 0) throw parameterInvalid(`items[${i}][id]`, `The subscription item ${change.id} does not belong to this subscription.`, 'resource_missing');
      const item = sub.items.data[at]!;
      if (change.deleted) {
        prorate(item, -1);
        sub.items.data.splice(at, 1);
        return;
      }
      const nextPrice = change.price !== undefined ? this.catalog.get(change.price)!.price : item.price;
      const metered = nextPrice.recurring?.usage_type === 'metered';
      const nextQuantity = metered ? undefined : (change.quantity ?? item.quantity ?? 1);
      if (nextPrice.id === item.price.id && nextQuantity === item.quantity) return;
      prorate(item, -1);
      item.price = nextPrice;
      item.plan = O.plan(nextPrice);
      if (nextQuantity === undefined) delete item.quantity;
      else item.quantity = nextQuantity;
      prorate(item, 1);
    });
    if (sub.items.data.length === 0) throw invalidRequest('A subscription must have at least one active plan.', 'items');
    return lines;
  }

  /** DELETE /v1/subscriptions/:id — ends it now: `customer.subscription.deleted`, and no more collection on its open invoices. */
  cancelSubscription(id: string, cause: EventCause, reason: 'cancellation_requested' | 'payment_failed' = 'cancellation_requested'): Stripe.Subscription {
    const sub = this.subscription(id);
    if (sub.status === 'canceled') throw invalidRequest(`This subscription has already been canceled: '${id}'`);
    const now = this.nowSec();
    sub.status = 'canceled';
    sub.canceled_at = sub.canceled_at ?? now;
    sub.ended_at = now;
    sub.cancellation_details = { ...sub.cancellation_details!, reason };
    for (const record of this.invoices.values()) {
      if (subscriptionOf(record.invoice) === id && record.invoice.status === 'open') record.invoice.next_payment_attempt = null;
    }
    this.pendingProrations.delete(id);
    this.o.emit('customer.subscription.deleted', sub, cause);
    return sub;
  }

  // ---- invoices ----------------------------------------------------------------------------------

  invoice(id: string): O.Invoice {
    const record = this.invoices.get(id);
    if (!record) throw resourceMissing('invoice', id);
    return record.invoice;
  }

  private licensedLines(sub: Stripe.Subscription, fromSec: number): O.LineInput[] {
    return sub.items.data.map((item) => {
      const fake = this.catalog.get(item.price.id)!.fake;
      const metered = fake.recurring.usageType === 'metered';
      const quantity = metered ? 0 : (item.quantity ?? 1);
      const amount = metered ? 0 : (fake.unitAmount ?? 0) * quantity;
      return {
        subscription: sub.id,
        item: O.clone(item),
        amount,
        quantity,
        description: `${quantity} × ${fake.productName} (at ${money(fake.unitAmount ?? 0)} / month)`,
        periodStart: fromSec,
        periodEnd: item.current_period_end,
      };
    });
  }

  /** Metered items bill in arrears: usage reported for the customer during the period that just ended. */
  private usageLines(sub: Stripe.Subscription, startSec: number, endSec: number): O.LineInput[] {
    const lines: O.LineInput[] = [];
    for (const item of sub.items.data) {
      const fake = this.catalog.get(item.price.id)!.fake;
      if (fake.recurring.usageType !== 'metered') continue;
      const customer = typeof sub.customer === 'string' ? sub.customer : sub.customer.id;
      const usage = this.meterEvents
        .filter((e) => e.event_name === fake.recurring.meter && e.payload['stripe_customer_id'] === customer && e.timestamp >= startSec && e.timestamp < endSec)
        .reduce((sum, e) => sum + Number(e.payload['value'] ?? 0), 0);
      const amount = Math.round(usage * (fake.unitAmount ?? 0));
      lines.push({
        subscription: sub.id,
        item: O.clone(item),
        amount,
        quantity: usage,
        description: `${usage} × ${fake.productName} (at ${money(fake.unitAmount ?? 0)} / unit)`,
        periodStart: startSec,
        periodEnd: endSec,
      });
    }
    return lines;
  }

  private newInvoice(sub: Stripe.Subscription, reason: 'subscription_create' | 'subscription_cycle' | 'subscription_update', startSec: number, endSec: number, lines: O.LineInput[]): InvoiceRecord {
    const customer = this.customer(typeof sub.customer === 'string' ? sub.customer : sub.customer.id);
    const id = O.newId('in', 24);
    const invoice = O.invoice({ id, customer, subscription: sub, createdSec: this.nowSec(), billingReason: reason, periodStart: startSec, periodEnd: endSec, lines, hostedUrl: `${this.o.publicUrl()}/i/${id}` });
    if (invoice.total < 0) {
      // A credit (a downgrade invoiced at once) is not charged: it goes to the customer's balance.
      invoice.amount_due = 0;
      invoice.amount_remaining = 0;
      customer.balance += invoice.total;
    }
    const record: InvoiceRecord = { invoice, firstFailureMs: null, retriesUsed: 0 };
    this.invoices.set(id, record);
    return record;
  }

  private finalize(record: InvoiceRecord): void {
    const inv = record.invoice;
    const customer = this.customer(inv.customer as string);
    const now = this.nowSec();
    inv.status = 'open';
    inv.number = `${customer.invoice_prefix}-${String(customer.next_invoice_sequence ?? 1).padStart(4, '0')}`;
    customer.next_invoice_sequence = (customer.next_invoice_sequence ?? 1) + 1;
    inv.effective_at = now;
    inv.ending_balance = 0;
    inv.status_transitions.finalized_at = now;
    inv.webhooks_delivered_at = now;
    this.o.emit('invoice.finalized', inv, AUTOMATIC);
  }

  private markPaid(record: InvoiceRecord, cause: EventCause = AUTOMATIC): void {
    const inv = record.invoice;
    const now = this.nowSec();
    inv.status = 'paid';
    inv.attempted = true;
    inv.attempt_count += inv.amount_due > 0 ? 1 : 0;
    inv.amount_paid = inv.amount_due;
    inv.amount_remaining = 0;
    inv.next_payment_attempt = null;
    inv.status_transitions.paid_at = now;
    this.o.emit('invoice.paid', inv, cause);
    this.o.emit('invoice.payment_succeeded', inv, cause);
  }

  /**
   * One off-session charge of an open invoice, as the customer's payment behaviour dictates.
   *   succeed:          invoice.paid → invoice.payment_succeeded [→ customer.subscription.updated (back to active)]
   *   fail:             invoice.payment_failed [→ customer.subscription.updated (active → past_due)]
   *   action_required:  invoice.payment_action_required [→ customer.subscription.updated (active → past_due)]
   * When the failure was the last retry: → customer.subscription.deleted (or .updated to unpaid).
   */
  attemptPayment(record: InvoiceRecord, cause: EventCause = AUTOMATIC): void {
    const inv = record.invoice;
    const sub = this.subscriptions.get(subscriptionOf(inv) ?? '');
    const behaviour = inv.amount_due === 0 ? 'succeed' : this.paymentBehaviour(inv.customer as string);
    if (behaviour === 'succeed') {
      this.markPaid(record, cause);
      if (sub && (sub.status === 'past_due' || sub.status === 'unpaid') && sub.latest_invoice === inv.id) {
        const before = O.clone(sub);
        sub.status = 'active';
        this.o.emit('customer.subscription.updated', sub, cause, previousAttributes(before, sub));
      }
      return;
    }
    const nowMs = this.nowMs();
    record.firstFailureMs ??= nowMs;
    inv.attempted = true;
    inv.attempt_count += 1;
    const nextRetry = this.o.retryScheduleMs[record.retriesUsed];
    inv.next_payment_attempt = nextRetry === undefined ? null : seconds(record.firstFailureMs + nextRetry);
    this.o.emit(behaviour === 'fail' ? 'invoice.payment_failed' : 'invoice.payment_action_required', inv, cause);
    if (!sub || sub.status === 'canceled') return;
    if (sub.status === 'active') {
      const before = O.clone(sub);
      sub.status = 'past_due';
      this.o.emit('customer.subscription.updated', sub, cause, previousAttributes(before, sub));
    }
    if (nextRetry === undefined && sub.latest_invoice === inv.id && sub.status === 'past_due') {
      if (this.o.dunningFinalState === 'canceled') {
        this.cancelSubscription(sub.id, AUTOMATIC, 'payment_failed');
      } else {
        const before = O.clone(sub);
        sub.status = 'unpaid';
        inv.next_payment_attempt = null;
        this.o.emit('customer.subscription.updated', sub, AUTOMATIC, previousAttributes(before, sub));
      }
    }
  }

  /** "Update card" on the portal: the customer's charges succeed again and open invoices are retried now. */
  updatePaymentMethod(customerId: string): void {
    this.setPaymentBehaviour(customerId, 'succeed');
    for (const record of [...this.invoices.values()]) {
      const sub = this.subscriptions.get(subscriptionOf(record.invoice) ?? '');
      if (record.invoice.customer === customerId && record.invoice.status === 'open' && sub && sub.status !== 'canceled') this.attemptPayment(record);
    }
  }

  // ---- meter events ------------------------------------------------------------------------------

  recordMeterEvent(input: { eventName: string; payload: Record<string, string>; identifier: string | null; timestamp: number | null }): Stripe.Billing.MeterEvent {
    const nowMs = this.nowMs();
    const now = seconds(nowMs);
    const timestamp = input.timestamp ?? now;
    if (timestamp < now - 35 * 24 * 3600 || timestamp > now + 5 * 60) {
      throw parameterInvalid('timestamp', 'Timestamp must be within the past 35 calendar days or up to 5 minutes in the future.', 'parameter_invalid_integer');
    }
    const customerId = input.payload['stripe_customer_id'];
    if (customerId === undefined) throw parameterInvalid('payload[stripe_customer_id]', 'Missing required param: payload[stripe_customer_id].', 'parameter_missing');
    const value = input.payload['value'];
    if (value === undefined) throw parameterInvalid('payload[value]', 'Missing required param: payload[value].', 'parameter_missing');
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw parameterInvalid('payload[value]', `Invalid value: ${value} must be a number.`, 'parameter_invalid_string');
    const identifier = input.identifier ?? O.newId('mev_ident', 24);
    const seen = this.meterIdentifiers.get(identifier);
    if (seen !== undefined && nowMs - seen < DAY_MS) {
      throw new StripeApiError(
        400,
        'invalid_request_error',
        `An event with identifier '${identifier}' already exists. Identifiers must be unique within a rolling 24 hour period.`,
        'resource_already_exists',
        'identifier',
      );
    }
    // Stripe validates the customer asynchronously (a meter error report), never in the answer.
    if (!this.customers.has(customerId)) this.o.warn('sandbox stripe: meter event for an unknown customer', { customer: customerId, identifier });
    this.meterIdentifiers.set(identifier, nowMs);
    const event = O.meterEvent({ eventName: input.eventName, identifier, payload: input.payload, createdSec: now, timestamp });
    this.meterEvents.push(event);
    return event;
  }

  // ---- time --------------------------------------------------------------------------------------

  /** Runs every step due up to `targetMs`, earliest first, each stamped with its own due time. */
  advanceTo(targetMs: number): void {
    for (let guard = 0; guard < 100_000; guard++) {
      const step = this.nextDueStep(targetMs);
      if (!step) break;
      this.steppingAt = Math.max(step.atMs, this.floorMs);
      try {
        step.run();
      } finally {
        this.floorMs = this.steppingAt;
        this.steppingAt = null;
      }
    }
    this.floorMs = Math.max(this.floorMs, targetMs);
  }

  private nextDueStep(targetMs: number): { atMs: number; run: () => void } | null {
    let best: { atMs: number; run: () => void } | null = null;
    const consider = (atMs: number, run: () => void) => {
      if (atMs <= targetMs && (best === null || atMs < best.atMs)) best = { atMs, run };
    };
    for (const sub of this.subscriptions.values()) {
      if (sub.status !== 'active' && sub.status !== 'past_due') continue;
      consider(periodEnd(sub) * 1000, () => this.endPeriod(sub));
    }
    for (const record of this.invoices.values()) {
      const next = record.invoice.next_payment_attempt;
      if (record.invoice.status === 'open' && next !== null) {
        consider(next * 1000, () => {
          record.retriesUsed += 1;
          this.attemptPayment(record);
        });
      }
    }
    for (const record of this.sessions.values()) {
      if (record.session.status === 'open') consider(record.session.expires_at * 1000, () => this.expireSession(record));
    }
    return best;
  }

  private expireSession(record: SessionRecord): void {
    record.session.status = 'expired';
    record.session.url = null;
    this.o.emit('checkout.session.expired', record.session, AUTOMATIC);
  }

  /**
   * A period ended. Cancel-at-period-end subscriptions end (`customer.subscription.deleted`); the others
   * roll to the next period and invoice it:
   *   customer.subscription.updated (new period on the items, new latest_invoice) → invoice.created
   *   → invoice.finalized → the charge (see attemptPayment).
   * Stripe leaves a renewal invoice in draft for about an hour; the sandbox finalises it at once.
   */
  private endPeriod(sub: Stripe.Subscription): void {
    const start = periodStart(sub);
    const end = periodEnd(sub);
    if (sub.cancel_at_period_end || (sub.cancel_at !== null && sub.cancel_at <= end)) {
      this.cancelSubscription(sub.id, AUTOMATIC);
      return;
    }
    const before = O.clone(sub);
    const periods = countPeriods(sub.billing_cycle_anchor, end);
    const nextEnd = monthsAfter(sub.billing_cycle_anchor, periods + 1);
    for (const item of sub.items.data) {
      item.current_period_start = end;
      item.current_period_end = nextEnd;
    }
    const lines = [...this.licensedLines(sub, end), ...this.usageLines(sub, start, end), ...(this.pendingProrations.get(sub.id) ?? [])];
    this.pendingProrations.delete(sub.id);
    const record = this.newInvoice(sub, 'subscription_cycle', start, end, lines);
    sub.latest_invoice = record.invoice.id;
    this.o.emit('customer.subscription.updated', sub, AUTOMATIC, previousAttributes(before, sub));
    this.o.emit('invoice.created', record.invoice, AUTOMATIC);
    this.finalize(record);
    this.attemptPayment(record);
  }
}

export function subscriptionOf(inv: O.Invoice): string | null {
  const ref = inv.parent?.subscription_details?.subscription;
  if (ref === undefined || ref === null) return null;
  return typeof ref === 'string' ? ref : ref.id;
}

const periodStart = (sub: Stripe.Subscription) => Math.min(...sub.items.data.map((i) => i.current_period_start));
const periodEnd = (sub: Stripe.Subscription) => Math.min(...sub.items.data.map((i) => i.current_period_end));

/** How many whole periods lie between the anchor and `endSec` (the end of the period that just closed). */
function countPeriods(anchorSec: number, endSec: number): number {
  let n = 1;
  while (monthsAfter(anchorSec, n) < endSec) n++;
  return n;
}

function money(cents: number): string {
  return `$${(cents / 100).toFixed(2)}`;
}

function withoutEmpty(metadata: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(metadata).filter(([, v]) => v !== ''));
}

/** Stripe's metadata update: keys merge, an empty value deletes its key, an empty hash clears all. */
function mergeMetadata(current: Stripe.Metadata, update: Record<string, string>): Stripe.Metadata {
  if (Object.keys(update).length === 0) return {};
  const next: Stripe.Metadata = { ...current };
  for (const [k, v] of Object.entries(update)) {
    if (v === '') delete next[k];
    else next[k] = v;
  }
  return next;
}
