/**
 * Billing with Stripe: checkout, the customer portal, the status a user sees, overage, and applying
 * Stripe's word (webhooks) and the clock (grace, purge) to subscriptions and tenants.
 *
 * Stripe is the source of truth for a subscription. A webhook is only a hint that something
 * changed: we fetch the subscription and apply what it says now, so events may arrive twice, late
 * or in any order and the result is the same. The event id is recorded in the transaction of the
 * change. Tenants learn their ceilings after the commit (pushed at once when active, and with the
 * next activation otherwise).
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import type Stripe from 'stripe';
import type { TenantEvent } from '../../protocol/index.js';
import { findUserById, type UserRow } from '../auth/users.js';
import type { OutboxQueue } from '../email/mail-queue.js';
import { HttpError } from '../http/errors.js';
import { queueBillingNotice, type BillingNotice } from './notices.js';
import { MAX_OVERAGE_CAP_MULTIPLE, OVERAGE_MARGIN, overageCharge, planById, PLANS, type PlanId } from './plans.js';
import {
  applySnapshot,
  ceilingsFor,
  hasAccess,
  isReadOnly,
  lockAfterGrace,
  PURGE_REMINDER_MS,
  stateOf,
  type BillingState,
  type SubscriptionRow,
} from './state.js';
import { createBillingStore, type BillingStore } from './store.js';
import { snapshotOf } from './stripe-client.js';

/** What billing needs from the tenant host. */
export interface BillingTenants {
  setCeilings(tenantId: string, ceilings: ReturnType<typeof ceilingsFor>): void;
  wake(tenantId: string): boolean;
  request(tenantId: string, method: string, params: unknown, timeoutMs: number): Promise<unknown>;
  /** Deletes the tenant's data for good (DB and backups); the tenant starts empty afterwards. */
  purgeData(tenantId: string): Promise<void>;
}

export interface BillingOptions {
  db: Database.Database;
  stripe: Stripe;
  webhookSecret: string;
  prices: Record<PlanId, string>;
  /** A metered price and its meter's event name, or null when overage is not offered. */
  overage: { price: string; meter: string } | null;
  tenants: BillingTenants;
  mail: OutboxQueue;
  appUrl: () => string;
  log: Logger;
  now?: () => number;
  /** Whether X bills this user directly (their own X app): then no allowance applies. */
  billsUserDirectly?: (userId: string) => boolean;
  /** How long to wait for a tenant's usage (it may have to be woken first). Default 10 s. */
  tenantTimeoutMs?: number;
}

/** What a tenant reports for `billing.usage` (tenant-worker/handlers.ts). */
interface TenantUsage {
  xSpentMicros: number;
  xReadMicrosToday: number;
  timezone: string;
  actions: Record<'reply' | 'tweet' | 'thread', { used: number; limit: number | null; window: 'day' | 'week' }>;
}

const MICROS_PER_CENT = 10_000;
/** Stripe's tolerance for a webhook's signed timestamp. */
const SIGNATURE_TOLERANCE_S = 300;

/** The event types we act on; anything else is acknowledged and ignored. */
export const HANDLED_EVENTS: readonly string[] = [
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.payment_action_required',
];

export class BillingService {
  readonly #o: BillingOptions;
  readonly #store: BillingStore;
  readonly #now: () => number;
  readonly #planOfPrice: (priceId: string) => PlanId | null;
  /** Webhooks about one subscription are applied one at a time: fetch and apply must not interleave. */
  readonly #chains = new Map<string, Promise<unknown>>();

  constructor(options: BillingOptions) {
    this.#o = options;
    this.#store = createBillingStore(options.db);
    this.#now = options.now ?? Date.now;
    const byPrice = new Map(PLANS.map((plan) => [options.prices[plan.id], plan.id]));
    this.#planOfPrice = (priceId) => byPrice.get(priceId) ?? null;
  }

  get store(): BillingStore {
    return this.#store;
  }

  /** `origin`: the trusted app (desktop build) that started the flow, already checked; null: the server's pages (mails). */
  #billingUrl(origin: string | null): string {
    return `${origin ?? this.#o.appUrl()}/dashboard/billing`;
  }

  // ---- what users do -------------------------------------------------------------------------

  /**
   * A Stripe Checkout Session for `plan`; the customer is created once per user and reused. Stripe sends the
   * browser back to the billing page of `returnOrigin` (a trusted app's, checked by the caller) or of the server.
   */
  async checkout(user: UserRow, plan: PlanId, returnOrigin: string | null = null): Promise<{ url: string; sessionId: string }> {
    const row = this.#store.subscriptionOf(user.id);
    if (hasAccess(stateOf(row, this.#now()))) {
      throw new HttpError(409, 'already_subscribed', 'You already have a plan; change or cancel it in the billing portal.');
    }
    const customer = await this.#customerFor(user);
    const base = this.#billingUrl(returnOrigin);
    const metadata = { user: user.id, tenant: user.tenant_id };
    const session = await this.#o.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer,
      client_reference_id: user.id,
      line_items: [{ price: this.#o.prices[plan], quantity: 1 }, ...(this.#o.overage ? [{ price: this.#o.overage.price }] : [])],
      success_url: `${base}?checkout=success&session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${base}?checkout=canceled`,
      metadata,
      subscription_data: { metadata },
    });
    if (!session.url) throw new Error('Stripe returned a checkout session without a URL');
    return { url: session.url, sessionId: session.id };
  }

  /** A Customer Portal URL. It is a bearer credential: it is returned, never logged. */
  async portal(user: UserRow, returnOrigin: string | null = null): Promise<string> {
    const customer = this.#store.customerOf(user.id);
    if (!customer) throw new HttpError(409, 'no_billing_account', 'There is no billing account yet: choose a plan first.');
    const session = await this.#o.stripe.billingPortal.sessions.create({ customer, return_url: this.#billingUrl(returnOrigin) });
    return session.url;
  }

  async setOverage(user: UserRow, input: { enabled: boolean; capCents?: number | null }) {
    if (!this.#o.overage) throw new HttpError(409, 'overage_unavailable', 'Overage billing is not offered here.');
    const row = this.#store.subscriptionOf(user.id);
    if (!row || !hasAccess(stateOf(row, this.#now()))) throw new HttpError(409, 'no_subscription', 'Overage needs an active plan.');
    if (this.#o.billsUserDirectly?.(user.id)) throw new HttpError(409, 'own_x_app', 'With your own X app, X bills you directly: there is no allowance to go beyond.');
    const allowance = planById(row.plan).xAllowanceCents;
    const cap = input.capCents ?? null;
    if (cap !== null && cap > allowance * MAX_OVERAGE_CAP_MULTIPLE) {
      throw new HttpError(422, 'invalid_request', 'The overage cap is too high.', {
        capCents: `must be at most ${allowance * MAX_OVERAGE_CAP_MULTIPLE} (${MAX_OVERAGE_CAP_MULTIPLE}× the allowance)`,
      });
    }
    const next = { ...row, overage_opt_in: input.enabled ? 1 : 0, overage_cap_cents: cap, updated_at: this.#now() };
    this.#store.save(next);
    this.#push(next);
    return this.status(user);
  }

  /** Plan, state, ceilings and usage against them; asks the tenant for its usage. */
  async status(user: UserRow) {
    const now = this.#now();
    const row = this.#store.subscriptionOf(user.id);
    const state = stateOf(row, now);
    const ownXApp = this.#o.billsUserDirectly?.(user.id) ?? false;
    const ceilings = ceilingsFor(row, now, this.#o.overage !== null, ownXApp);
    const plan = row && state !== 'none' && state !== 'purged' ? planById(row.plan) : null;
    const usage = (await this.#o.tenants.request(user.tenant_id, 'billing.usage', { from: hasAccess(state) ? row!.period_start : null }, this.#o.tenantTimeoutMs ?? 10_000)) as TenantUsage;
    const spentCents = usage.xSpentMicros / MICROS_PER_CENT;
    const allowanceCents = hasAccess(state) ? (ceilings.xCostAllowanceCents ?? 0) : 0;
    const overageCost = Math.max(0, Math.ceil(spentCents) - allowanceCents);
    const limit = (kind: 'reply' | 'tweet' | 'thread') => ({ used: usage.actions[kind].used, limit: usage.actions[kind].limit });
    return {
      billing: 'enabled' as const,
      state,
      stripeStatus: row?.stripe_status ?? null,
      plan: plan && { id: plan.id, name: plan.name, priceCents: plan.priceCents },
      automation: ceilings.automation,
      readOnly: ceilings.readOnly,
      ceilings: { repliesPerDay: ceilings.repliesPerDay, tweetsPerDay: ceilings.tweetsPerDay, threadsPerWeek: ceilings.threadsPerWeek, targets: ceilings.targets },
      usage: {
        timezone: usage.timezone,
        repliesToday: limit('reply'),
        tweetsToday: limit('tweet'),
        threadsThisWeek: limit('thread'),
      },
      xAllowance: {
        /** X bills the user directly (their own X app): the numbers below are for information. */
        ownXApp,
        allowanceCents,
        spentCents: Math.round(spentCents * 100) / 100,
        remainingCents: Math.max(0, Math.round((allowanceCents - spentCents) * 100) / 100),
        readBudgetTodayCents: ceilings.xReadCentsPerDay,
        readSpentTodayCents: usage.xReadMicrosToday / MICROS_PER_CENT,
        periodStart: hasAccess(state) ? row!.period_start : null,
        periodEnd: hasAccess(state) ? row!.period_end : null,
      },
      overage: {
        available: this.#o.overage !== null,
        optedIn: row?.overage_opt_in === 1,
        capCents: ceilings.xOverageCapCents,
        marginPercent: Math.round(OVERAGE_MARGIN * 100),
        costCents: overageCost,
        /** What the user will be charged for this period so far, before it is charged. */
        estimatedChargeCents: row?.overage_opt_in === 1 ? overageCharge(overageCost) : 0,
      },
      renewsAt: hasAccess(state) && row!.cancel_at_period_end === 0 ? row!.period_end : null,
      cancelAtPeriodEnd: row?.cancel_at_period_end === 1,
      endsAt: hasAccess(state) && row!.cancel_at_period_end === 1 ? row!.period_end : null,
      graceUntil: state === 'past_due' ? row!.grace_until : null,
      purgeAfter: isReadOnly(state) ? row!.purge_after : null,
    };
  }

  /** The one-line summary `/auth/me` shows. */
  summary(userId: string): { status: BillingState; plan: PlanId | null } {
    const row = this.#store.subscriptionOf(userId);
    const state = stateOf(row, this.#now());
    return { status: state, plan: row && state !== 'purged' ? row.plan : null };
  }

  async #customerFor(user: UserRow): Promise<string> {
    const known = this.#store.customerOf(user.id);
    if (known) return known;
    // The idempotency key makes two racing first checkouts create one customer.
    const customer = await this.#o.stripe.customers.create(
      { email: user.email, metadata: { user: user.id, tenant: user.tenant_id } },
      { idempotencyKey: `customer-${user.id}` },
    );
    this.#store.addCustomer(user.id, customer.id, this.#now());
    return this.#store.customerOf(user.id)!;
  }

  // ---- Stripe's word ---------------------------------------------------------------------------

  /**
   * Verifies and applies one webhook delivery. Throws HttpError(400) for a bad signature; any other
   * failure propagates so Stripe retries (nothing was recorded).
   */
  async handleWebhook(rawBody: Buffer, signature: string | undefined): Promise<{ outcome: string }> {
    if (!signature) throw new HttpError(400, 'invalid_signature', 'The Stripe-Signature header is missing.');
    let event: Stripe.Event;
    try {
      event = this.#o.stripe.webhooks.constructEvent(rawBody, signature, this.#o.webhookSecret, SIGNATURE_TOLERANCE_S);
    } catch {
      throw new HttpError(400, 'invalid_signature', 'The webhook signature does not verify.');
    }
    if (this.#store.eventSeen(event.id)) return { outcome: 'duplicate' };
    if (!HANDLED_EVENTS.includes(event.type)) return this.#ignore(event, 'not handled');
    const subscriptionId = subscriptionIdOf(event);
    if (!subscriptionId) return this.#ignore(event, 'no subscription');
    return this.#serialized(subscriptionId, () => this.#sync(event, subscriptionId));
  }

  #ignore(event: Stripe.Event, reason: string): { outcome: string } {
    const outcome = `ignored: ${reason}`;
    this.#store.recordEvent(event.id, event.type, this.#now(), outcome);
    this.#o.log.info({ eventId: event.id, type: event.type, reason }, 'stripe event ignored');
    return { outcome };
  }

  #serialized<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.#chains.set(key, next);
    void next.finally(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    }).catch(() => {});
    return next;
  }

  async #sync(event: Stripe.Event, subscriptionId: string): Promise<{ outcome: string }> {
    const subscription = await this.#o.stripe.subscriptions.retrieve(subscriptionId);
    const snapshot = snapshotOf(subscription, this.#planOfPrice);
    const userId = this.#store.userOfCustomer(snapshot.customerId);
    const user = userId ? findUserById(this.#o.db, userId) : undefined;
    if (!user) return this.#ignore(event, 'unknown customer');
    const now = this.#now();
    const db = this.#o.db;
    const result = db.transaction(() => {
      const previous = this.#store.subscriptionOf(user.id);
      const outcome = applySnapshot(previous, snapshot, { userId: user.id, tenantId: user.tenant_id }, now);
      if (!this.#store.recordEvent(event.id, event.type, now, outcome.apply ? 'applied' : `ignored: ${outcome.reason}`)) return null;
      if (!outcome.apply) return { row: previous, before: stateOf(previous, now), after: stateOf(previous, now) };
      this.#store.save(outcome.row);
      if (outcome.closedPeriod && outcome.row.overage_opt_in === 1 && this.#o.overage) {
        this.#store.addOverage(outcome.row.subscription_id, outcome.closedPeriod.start, outcome.closedPeriod.end);
      }
      const before = stateOf(previous, now);
      const after = stateOf(outcome.row, now);
      this.#noticesFor(event, user, outcome.row, before, after, now);
      return { row: outcome.row, before, after };
    })();
    if (result === null) return { outcome: 'duplicate' };
    this.#o.mail.flush();
    if (result.row) this.#push(result.row);
    if (result.after === 'active' && result.before !== 'active' && result.before !== 'past_due') this.#o.tenants.wake(user.tenant_id);
    this.#o.log.info({ eventId: event.id, type: event.type, userId: user.id, from: result.before, to: result.after }, 'stripe event applied');
    return { outcome: 'applied' };
  }

  #noticesFor(event: Stripe.Event, user: UserRow, row: SubscriptionRow, before: BillingState, after: BillingState, now: number): void {
    const notify = (key: string, notice: BillingNotice) =>
      queueBillingNotice(this.#o.db, this.#o.mail, { key, userId: user.id, to: user.email, billingUrl: this.#billingUrl(null), notice, now });
    if (event.type === 'invoice.payment_failed' && row.grace_until !== null) {
      const invoice = event.data.object as Stripe.Invoice;
      notify(`payment_failed:${invoice.id}:${invoice.attempt_count}`, { kind: 'payment_failed', graceUntil: row.grace_until });
    }
    if (event.type === 'invoice.payment_action_required') {
      notify(`action_required:${(event.data.object as Stripe.Invoice).id}`, { kind: 'action_required' });
    }
    if (after === 'active' && before !== 'active' && before !== 'past_due') {
      notify(`activated:${row.subscription_id}`, { kind: 'activated', plan: row.plan });
    }
    if (after === 'canceled' && before !== 'canceled' && row.purge_after !== null) {
      notify(`canceled:${row.subscription_id}`, { kind: 'canceled', purgeAfter: row.purge_after });
    }
  }

  /** The tenant's ceilings follow its subscription: stored for the next activation, pushed now if active. */
  #push(row: SubscriptionRow): void {
    this.#o.tenants.setCeilings(row.tenant_id, ceilingsFor(row, this.#now(), this.#o.overage !== null, this.#o.billsUserDirectly?.(row.user_id) ?? false));
  }

  /** Something outside billing changed what the ceilings say (the user's own X app): push them again. */
  refresh(userId: string): void {
    const row = this.#store.subscriptionOf(userId);
    if (row) this.#push(row);
  }

  // ---- the clock -------------------------------------------------------------------------------

  /** Grace expiries, purge reminders, purges and overage reports that are due. Safe to run often. */
  async sweep(): Promise<void> {
    const now = this.#now();
    const db = this.#o.db;
    for (const row of this.#store.graceOver(now)) {
      const locked = lockAfterGrace(row, now);
      db.transaction(() => {
        this.#store.save(locked);
        this.#notifyUser(row.user_id, `locked:${row.subscription_id}:${row.grace_until}`, { kind: 'locked', purgeAfter: locked.purge_after! }, now);
      })();
      this.#push(locked);
      this.#o.log.info({ userId: row.user_id }, 'grace period over: automation stopped');
    }
    for (const row of this.#store.reminderDue(now + PURGE_REMINDER_MS)) {
      db.transaction(() => {
        this.#store.save({ ...row, purge_reminded_at: now, updated_at: now });
        this.#notifyUser(row.user_id, `purge_reminder:${row.subscription_id}:${row.purge_after}`, { kind: 'purge_reminder', purgeAfter: row.purge_after! }, now);
      })();
    }
    for (const row of this.#store.purgeDue(now)) {
      await this.#o.tenants.purgeData(row.tenant_id);
      db.transaction(() => {
        this.#store.save({ ...row, purged_at: now, updated_at: now });
        this.#notifyUser(row.user_id, `purged:${row.subscription_id}`, { kind: 'purged' }, now);
      })();
      this.#push({ ...row, purged_at: now });
      this.#o.log.info({ userId: row.user_id, tenantId: row.tenant_id }, 'tenant data purged after the retention period');
    }
    this.#o.mail.flush();
    await this.#cancelForDeletedAccounts();
    await this.reportOverage();
  }

  /** A deleted account is never charged again: its subscription is canceled at once, retried until Stripe agrees. */
  async #cancelForDeletedAccounts(): Promise<void> {
    for (const row of this.#store.ofDeletedUsers()) {
      try {
        const canceled = await this.#o.stripe.subscriptions.cancel(row.subscription_id, {}, { idempotencyKey: `delete-account-${row.subscription_id}` });
        const snapshot = snapshotOf(canceled, this.#planOfPrice);
        const outcome = applySnapshot(row, snapshot, { userId: row.user_id, tenantId: row.tenant_id }, this.#now());
        if (outcome.apply) this.#store.save(outcome.row);
        this.#o.log.info({ userId: row.user_id }, 'subscription of a deleted account canceled');
      } catch (error) {
        this.#o.log.error({ err: error, userId: row.user_id }, 'could not cancel the subscription of a deleted account; will retry');
      }
    }
  }

  /**
   * Reports each closed period's overage to Stripe's meter once. The meter event's identifier is
   * the period, so a report repeated after a crash between Stripe's answer and our commit is
   * refused by Stripe as a duplicate instead of billed twice.
   */
  async reportOverage(): Promise<void> {
    const overage = this.#o.overage;
    if (!overage) return;
    for (const report of this.#store.pendingOverage()) {
      try {
        const usage = (await this.#o.tenants.request(report.tenant_id, 'billing.usage', { from: report.period_start, to: report.period_end }, this.#o.tenantTimeoutMs ?? 10_000)) as TenantUsage;
        const allowance = planById(report.plan as PlanId).xAllowanceCents;
        const cost = Math.max(0, Math.ceil(usage.xSpentMicros / MICROS_PER_CENT) - allowance);
        // A user who switched to their own X app paid X themselves for that period.
        const charge = this.#o.billsUserDirectly?.(report.user_id) ? 0 : overageCharge(cost);
        const customer = this.#store.customerOf(report.user_id);
        if (charge > 0 && customer) {
          await this.#o.stripe.billing.meterEvents
            .create({
              event_name: overage.meter,
              payload: { stripe_customer_id: customer, value: String(charge) },
              identifier: `overage_${report.subscription_id}_${report.period_start}`,
              // Inside the period it bills, so it lands on the invoice that closes it.
              timestamp: Math.floor((report.period_end - 1000) / 1000),
            })
            .catch((error: unknown) => {
              if (isDuplicateMeterEvent(error)) return;
              throw error;
            });
        }
        this.#store.settleOverage(report.subscription_id, report.period_start, cost, charge, this.#now());
        this.#o.log.info({ userId: report.user_id, periodStart: report.period_start, costCents: cost, chargeCents: charge }, 'overage reported');
      } catch (error) {
        this.#o.log.warn({ err: error, userId: report.user_id, periodStart: report.period_start }, 'overage report failed; will retry');
      }
    }
  }

  #notifyUser(userId: string, key: string, notice: BillingNotice, now: number): void {
    const user = findUserById(this.#o.db, userId);
    if (!user) return;
    queueBillingNotice(this.#o.db, this.#o.mail, { key, userId, to: user.email, billingUrl: this.#billingUrl(null), notice, now });
  }

  // ---- what tenants say ------------------------------------------------------------------------

  /** A tenant hit its X allowance: tell its user once per period by mail (the dashboard shows it live). */
  onTenantEvent(tenantId: string, event: TenantEvent): void {
    if (event.kind !== 'billing.x_budget') return;
    const data = event.data as { reason?: string; message?: string; notify?: boolean } | undefined;
    if (!data?.notify || typeof data.message !== 'string') return;
    const user = this.#o.db.prepare<[string], { id: string }>('SELECT id FROM users WHERE tenant_id = ? AND deleted_at IS NULL').get(tenantId);
    if (!user) return;
    const row = this.#store.subscriptionOf(user.id);
    const now = this.#now();
    this.#o.db.transaction(() =>
      this.#notifyUser(user.id, `x_budget:${tenantId}:${data.reason}:${row?.period_start ?? 0}`, { kind: 'x_budget', message: data.message! }, now),
    )();
    this.#o.mail.flush();
  }
}

function subscriptionIdOf(event: Stripe.Event): string | null {
  const object = event.data.object as unknown as Record<string, unknown>;
  const id = (value: unknown) => (typeof value === 'string' ? value : value && typeof value === 'object' && 'id' in value ? String((value as { id: unknown }).id) : null);
  switch (event.type) {
    case 'checkout.session.completed':
      return id(object.subscription);
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return id(object.id);
    default: {
      // Invoices name their subscription under parent.subscription_details since API 2025-03-31.
      const parent = object.parent as { subscription_details?: { subscription?: unknown } } | null | undefined;
      return id(parent?.subscription_details?.subscription);
    }
  }
}

function isDuplicateMeterEvent(error: unknown): boolean {
  // Stripe refuses an identifier it saw in the last 24 h; match loosely, its exact code is not documented.
  const e = error as { type?: string; code?: string; param?: string; message?: string };
  if (e?.type !== 'StripeInvalidRequestError') return false;
  return e.param === 'identifier' || e.code === 'resource_already_exists' || (/identifier/i.test(e.message ?? '') && /already|duplicate/i.test(e.message ?? ''));
}
