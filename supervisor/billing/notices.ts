/**
 * Billing mail: what we tell a user when their subscription changes, each sent once per cause.
 *
 * A notice is keyed by its cause (an invoice and attempt, a grace expiry, a purge date), and the
 * key is inserted in the transaction that queues the mail, so a redelivered event or a second
 * sweep never mails twice.
 */
import type Database from 'better-sqlite3';
import type { OutboxQueue } from '../email/mail-queue.js';
import { planById, type PlanId } from './plans.js';

export type BillingNotice =
  | { kind: 'activated'; plan: PlanId }
  | { kind: 'payment_failed'; graceUntil: number }
  | { kind: 'action_required' }
  | { kind: 'locked'; purgeAfter: number }
  | { kind: 'canceled'; purgeAfter: number }
  | { kind: 'purge_reminder'; purgeAfter: number }
  | { kind: 'purged' }
  | { kind: 'x_budget'; message: string };

const date = (at: number) => new Date(at).toISOString().slice(0, 10);

function compose(notice: BillingNotice): { subject: string; body: string; linkText: string } {
  switch (notice.kind) {
    case 'activated':
      return {
        subject: `Your TuitBot ${planById(notice.plan).name} plan is active`,
        body: 'Thank you for subscribing. Your automation is running under the new plan; its limits are on your billing page.',
        linkText: 'Open billing',
      };
    case 'payment_failed':
      return {
        subject: 'We could not charge your card',
        body: `Your latest TuitBot payment failed. Your automation keeps running until ${date(notice.graceUntil)} while we retry.\n\nPlease update your payment method before then so nothing stops.`,
        linkText: 'Update payment method',
      };
    case 'action_required':
      return {
        subject: 'Your bank asks you to confirm a payment',
        body: 'Your TuitBot payment needs a confirmation from you (your bank asked for extra authentication). Until it is confirmed the payment counts as failed.',
        linkText: 'Confirm the payment',
      };
    case 'locked':
      return {
        subject: 'Your TuitBot automation has stopped',
        body: `We could not collect your payment within the 7-day grace period, so your automation stopped and your dashboard is read-only.\n\nYour data is kept until ${date(notice.purgeAfter)}. Update your payment method to pick up where you left off.`,
        linkText: 'Open billing',
      };
    case 'canceled':
      return {
        subject: 'Your TuitBot subscription has ended',
        body: `Your subscription has ended: automation stopped and your dashboard is read-only.\n\nYour data is kept until ${date(notice.purgeAfter)}. Subscribe again before then and everything is restored.`,
        linkText: 'Subscribe again',
      };
    case 'purge_reminder':
      return {
        subject: 'Your TuitBot data will be deleted soon',
        body: `Your subscription ended, and your settings, history and queue will be deleted on ${date(notice.purgeAfter)}.\n\nSubscribe again before then to keep them.`,
        linkText: 'Keep my data',
      };
    case 'purged':
      return {
        subject: 'Your TuitBot data has been deleted',
        body: 'As announced, the data of your ended subscription has been deleted, backups included. Your account remains; subscribing again starts afresh.',
        linkText: 'Open TuitBot',
      };
    case 'x_budget':
      return { subject: 'TuitBot paused part of your automation', body: notice.message, linkText: 'See usage' };
  }
}

/**
 * Queues the notice unless one with this key went out before; call inside the transaction that
 * causes it. Returns whether a mail was queued.
 */
export function queueBillingNotice(
  db: Database.Database,
  mail: OutboxQueue,
  input: { key: string; userId: string; to: string; billingUrl: string; notice: BillingNotice; now: number },
): boolean {
  const fresh = db.prepare('INSERT OR IGNORE INTO billing_notices (key, user_id, sent_at) VALUES (?, ?, ?)').run(input.key, input.userId, input.now).changes > 0;
  if (!fresh) return false;
  const { subject, body, linkText } = compose(input.notice);
  mail.queue({ to: input.to, template: 'notice', data: { subject, body, link: input.billingUrl, linkText } });
  return true;
}
