/**
 * Billing rows in management.db: customers, subscriptions, events seen and overage reports.
 */
import type Database from 'better-sqlite3';
import type { SubscriptionRow } from './state.js';

export interface OverageReportRow {
  subscription_id: string;
  period_start: number;
  period_end: number;
  cost_cents: number;
  charge_cents: number;
  reported_at: number | null;
}

const COLUMNS = [
  'user_id',
  'tenant_id',
  'subscription_id',
  'plan',
  'stripe_status',
  'period_start',
  'period_end',
  'cancel_at_period_end',
  'grace_until',
  'ended_at',
  'purge_after',
  'purge_reminded_at',
  'purged_at',
  'overage_opt_in',
  'overage_cap_cents',
  'updated_at',
] as const satisfies readonly (keyof SubscriptionRow)[];

export function createBillingStore(db: Database.Database) {
  const sql = {
    customerOf: db.prepare<[string], { customer_id: string }>('SELECT customer_id FROM billing_customers WHERE user_id = ?'),
    userOfCustomer: db.prepare<[string], { user_id: string }>('SELECT user_id FROM billing_customers WHERE customer_id = ?'),
    addCustomer: db.prepare('INSERT OR IGNORE INTO billing_customers (user_id, customer_id, created_at) VALUES (?, ?, ?)'),
    subscriptionOf: db.prepare<[string], SubscriptionRow>('SELECT * FROM subscriptions WHERE user_id = ?'),
    save: db.prepare(
      `INSERT INTO subscriptions (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => '@' + c).join(', ')})
       ON CONFLICT (user_id) DO UPDATE SET ${COLUMNS.filter((c) => c !== 'user_id').map((c) => `${c} = excluded.${c}`).join(', ')}`,
    ),
    graceOver: db.prepare<[number], SubscriptionRow>("SELECT * FROM subscriptions WHERE stripe_status = 'past_due' AND grace_until <= ? AND ended_at IS NULL"),
    purgeDue: db.prepare<[number], SubscriptionRow>('SELECT * FROM subscriptions WHERE purge_after <= ? AND purged_at IS NULL'),
    reminderDue: db.prepare<[number], SubscriptionRow>(
      'SELECT * FROM subscriptions WHERE purge_after <= ? AND purged_at IS NULL AND purge_reminded_at IS NULL',
    ),
    ofDeletedUsers: db.prepare<[], SubscriptionRow>(
      `SELECT s.* FROM subscriptions s JOIN users u ON u.id = s.user_id
       WHERE u.deleted_at IS NOT NULL AND s.stripe_status IN ('active', 'trialing', 'past_due', 'incomplete')`,
    ),
    recordEvent: db.prepare('INSERT OR IGNORE INTO stripe_events (id, type, received_at, outcome) VALUES (?, ?, ?, ?)'),
    eventSeen: db.prepare<[string], { id: string }>('SELECT id FROM stripe_events WHERE id = ?'),
    addOverage: db.prepare('INSERT OR IGNORE INTO overage_reports (subscription_id, period_start, period_end, cost_cents, charge_cents) VALUES (?, ?, ?, 0, 0)'),
    pendingOverage: db.prepare<[], OverageReportRow & { user_id: string; tenant_id: string; plan: string }>(
      `SELECT o.*, s.user_id, s.tenant_id, s.plan FROM overage_reports o JOIN subscriptions s ON s.subscription_id = o.subscription_id
       WHERE o.reported_at IS NULL ORDER BY o.period_start`,
    ),
    settleOverage: db.prepare('UPDATE overage_reports SET cost_cents = ?, charge_cents = ?, reported_at = ? WHERE subscription_id = ? AND period_start = ?'),
    overageReports: db.prepare<[string], OverageReportRow>('SELECT * FROM overage_reports WHERE subscription_id = ? ORDER BY period_start'),
  };
  return {
    customerOf: (userId: string) => sql.customerOf.get(userId)?.customer_id ?? null,
    userOfCustomer: (customerId: string) => sql.userOfCustomer.get(customerId)?.user_id ?? null,
    addCustomer: (userId: string, customerId: string, now: number) => void sql.addCustomer.run(userId, customerId, now),
    subscriptionOf: (userId: string) => sql.subscriptionOf.get(userId),
    save: (row: SubscriptionRow) => void sql.save.run(row),
    graceOver: (now: number) => sql.graceOver.all(now),
    purgeDue: (now: number) => sql.purgeDue.all(now),
    reminderDue: (before: number) => sql.reminderDue.all(before),
    /** Live subscriptions of deleted accounts: they must stop being charged. */
    ofDeletedUsers: () => sql.ofDeletedUsers.all(),
    eventSeen: (id: string) => sql.eventSeen.get(id) !== undefined,
    /** False when the event was recorded before: its effects must not happen again. */
    recordEvent: (id: string, type: string, now: number, outcome: string) => sql.recordEvent.run(id, type, now, outcome).changes > 0,
    addOverage: (subscriptionId: string, start: number, end: number) => void sql.addOverage.run(subscriptionId, start, end),
    pendingOverage: () => sql.pendingOverage.all(),
    settleOverage: (subscriptionId: string, start: number, costCents: number, chargeCents: number, now: number) =>
      void sql.settleOverage.run(costCents, chargeCents, now, subscriptionId, start),
    overageReports: (subscriptionId: string) => sql.overageReports.all(subscriptionId),
  };
}

export type BillingStore = ReturnType<typeof createBillingStore>;
