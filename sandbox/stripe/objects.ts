/**
 * Stripe's objects as the current API version (2026-10-28.endive) returns them, typed with the SDK's own
 * declarations so the compiler holds every builder to Stripe's keys and nullability; the contract test
 * holds them to the official fixtures. Pure functions: the billing engine decides *when*, these say *what*.
 * Expandable fields always hold ids here; expansion happens when a response is written.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Stripe from 'stripe';

export const API_VERSION = '2026-10-28.endive';

/** Checkout sessions and invoices are not Stripe.* typed everywhere we need them: the fixture still lists `invoice.subscription` (always null now). */
export type Invoice = Stripe.Invoice & { subscription: null };
export type InvoiceLine = Stripe.InvoiceLineItem;

export interface FakePrice {
  id: string;
  productName: string;
  unitAmount: number | null;
  currency: 'usd';
  /** `meter` is the event_name of the billing meter that feeds a metered price. */
  recurring: { interval: 'month'; usageType: 'licensed' | 'metered'; meter?: string };
}

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Stripe-looking ids: a prefix and base62 noise (`cus_QXg1o8vcGmoR32`, `cs_test_a1…`). */
export function newId(prefix: string, length = 14): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += ALPHABET[b % 62];
  return `${prefix}_${out}`;
}

export const productId = (priceId: string) => `prod_${createHash('sha256').update(priceId).digest('hex').slice(0, 14)}`;

export function price(p: FakePrice, createdSec: number): Stripe.Price {
  return {
    id: p.id,
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: createdSec,
    currency: p.currency,
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: p.productName,
    product: productId(p.id),
    recurring: { interval: 'month', interval_count: 1, meter: p.recurring.meter ?? null, usage_type: p.recurring.usageType, trial_period_days: null },
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: 'recurring',
    unit_amount: p.unitAmount,
    unit_amount_decimal: p.unitAmount === null ? null : wireDecimal(String(p.unitAmount)),
  };
}

/** The legacy `plan` twin of a price that Stripe still puts on every subscription item. */
export function plan(pr: Stripe.Price): Stripe.Plan {
  return {
    id: pr.id,
    object: 'plan',
    active: pr.active,
    amount: pr.unit_amount,
    amount_decimal: pr.unit_amount_decimal,
    billing_scheme: pr.billing_scheme,
    created: pr.created,
    currency: pr.currency,
    interval: 'month',
    interval_count: 1,
    livemode: false,
    metadata: {},
    meter: pr.recurring?.meter ?? null,
    nickname: pr.nickname,
    product: pr.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: pr.recurring?.usage_type ?? 'licensed',
  };
}

export function customer(input: { id: string; createdSec: number; email: string | null; name: string | null; metadata: Record<string, string> }): Stripe.Customer {
  return {
    id: input.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: input.createdSec,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: input.email,
    invoice_prefix: randomBytes(4).toString('hex').toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: input.metadata,
    name: input.name,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export interface SessionInput {
  id: string;
  createdSec: number;
  url: string;
  customer: string | null;
  customerEmail: string | null;
  clientReferenceId: string | null;
  successUrl: string | null;
  cancelUrl: string | null;
  metadata: Record<string, string>;
  amountSubtotal: number;
}

export function checkoutSession(s: SessionInput): Stripe.Checkout.Session {
  return {
    id: s.id,
    object: 'checkout.session',
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: s.amountSubtotal,
    amount_total: s.amountSubtotal,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: s.cancelUrl,
    client_reference_id: s.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: s.createdSec,
    currency: 'usd',
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: s.customer,
    customer_account: null,
    customer_creation: s.customer === null ? 'always' : null,
    customer_details: null,
    customer_email: s.customerEmail,
    discounts: [],
    // Stripe's default lifetime for a Checkout Session.
    expires_at: s.createdSec + 24 * 60 * 60,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: s.metadata,
    mode: 'subscription',
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: 'always',
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: s.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted',
    url: s.url,
    wallet_options: null,
  };
}

export function portalSession(input: { id: string; createdSec: number; customer: string; returnUrl: string | null; url: string }): Stripe.BillingPortal.Session {
  return {
    id: input.id,
    object: 'billing_portal.session',
    configuration: 'bpc_sandbox_default',
    created: input.createdSec,
    customer: input.customer,
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: input.returnUrl,
    url: input.url,
  };
}

export function subscriptionItem(input: {
  id: string;
  subscription: string;
  price: Stripe.Price;
  quantity: number | undefined;
  createdSec: number;
  periodStart: number;
  periodEnd: number;
}): Stripe.SubscriptionItem {
  return {
    id: input.id,
    object: 'subscription_item',
    billing_thresholds: null,
    created: input.createdSec,
    current_period_end: input.periodEnd,
    current_period_start: input.periodStart,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: plan(input.price),
    price: input.price,
    // Stripe leaves quantity off metered items: usage, not seats, sets what they cost.
    ...(input.quantity !== undefined && { quantity: input.quantity }),
    subscription: input.subscription,
    tax_rates: [],
  };
}

export function subscription(input: {
  id: string;
  customer: string;
  createdSec: number;
  metadata: Record<string, string>;
  items: Stripe.SubscriptionItem[];
  paymentMethod: string;
}): Stripe.Subscription {
  return {
    id: input.id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: input.createdSec,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: { proration_discounts: 'included' }, type: 'flexible', updated_at: input.createdSec },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    created: input.createdSec,
    currency: 'usd',
    customer: input.customer,
    customer_account: null,
    days_until_due: null,
    default_payment_method: input.paymentMethod,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, custom_fields: null, description: null, footer: null, issuer: { type: 'self' } },
    items: { object: 'list', data: input.items, has_more: false, url: `/v1/subscription_items?subscription=${input.id}` },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: input.metadata,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: input.createdSec,
    status: 'active',
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' } },
    trial_start: null,
  };
}

export interface LineInput {
  subscription: string;
  item: Stripe.SubscriptionItem;
  amount: number;
  quantity: number;
  description: string;
  periodStart: number;
  periodEnd: number;
  proration?: boolean;
}

export function invoiceLine(invoiceId: string, l: LineInput): InvoiceLine {
  const pr = l.item.price;
  return {
    id: newId('il'),
    object: 'line_item',
    amount: l.amount,
    currency: 'usd',
    description: l.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: {
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: null,
        proration: l.proration ?? false,
        proration_details: { credited_items: null },
        subscription: l.subscription,
        subscription_item: l.item.id,
      },
      type: 'subscription_item_details',
    },
    period: { end: l.periodEnd, start: l.periodStart },
    pretax_credit_amounts: [],
    pricing: {
      price_details: { price: pr.id, product: typeof pr.product === 'string' ? pr.product : pr.product.id },
      type: 'price_details',
      unit_amount_decimal: pr.unit_amount_decimal,
    },
    quantity: l.quantity,
    quantity_decimal: wireDecimal(String(l.quantity)),
    subscription: l.subscription,
    subtotal: l.amount,
    taxes: [],
  };
}

export function invoice(input: {
  id: string;
  customer: Stripe.Customer;
  subscription: Stripe.Subscription;
  createdSec: number;
  billingReason: 'subscription_create' | 'subscription_cycle' | 'subscription_update';
  periodStart: number;
  periodEnd: number;
  lines: LineInput[];
  hostedUrl: string;
}): Invoice {
  const lines = input.lines.map((l) => invoiceLine(input.id, l));
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  return {
    id: input.id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'TuitBot Sandbox',
    account_tax_ids: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: total,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: input.billingReason,
    collection_method: 'charge_automatically',
    created: input.createdSec,
    currency: 'usd',
    custom_fields: null,
    customer: input.customer.id,
    customer_account: null,
    customer_address: null,
    customer_email: input.customer.email,
    customer_name: input.customer.name ?? null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: input.hostedUrl,
    invoice_pdf: `${input.hostedUrl}/pdf`,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: { object: 'list', data: lines, has_more: false, url: `/v1/invoices/${input.id}/lines` },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: {
      quote_details: null,
      subscription_details: { metadata: { ...input.subscription.metadata }, subscription: input.subscription.id },
      type: 'subscription_details',
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: input.periodEnd,
    period_start: input.periodStart,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subscription: null,
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

export function meterEvent(input: { eventName: string; identifier: string; payload: Record<string, string>; createdSec: number; timestamp: number }): Stripe.Billing.MeterEvent {
  return {
    object: 'billing.meter_event',
    created: input.createdSec,
    event_name: input.eventName,
    identifier: input.identifier,
    livemode: false,
    payload: input.payload,
    timestamp: input.timestamp,
  };
}

/** Decimals travel as strings; the SDK's Decimal class exists only after its client-side coercion. */
const wireDecimal = (digits: string) => digits as unknown as Stripe.Decimal;

/** Snapshots for events and responses: later changes must not reach into an event already created. */
export const clone = <T>(value: T): T => structuredClone(value);
