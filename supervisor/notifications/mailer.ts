/**
 * Periodic mail on the tenant's word: a `notify.weekly_summary` or `notify.approval_reminder` event becomes
 * one mail in the outbox to the tenant's user, with a signed unsubscribe link.
 *
 * The tenant decided that the mail is due and that its user wants it (the `notifications.*` settings live
 * in the tenant, and unsubscribing turns them off there), so nothing here wakes a tenant. The event's data
 * is checked against the protocol's schemas (a tenant thread is never trusted), and every mail is keyed by
 * its cause in `billing_notices` — the management DB's "mailed once per cause" table — inside the
 * transaction that queues it: one summary per tenant and week, one reminder per tenant and local day, even
 * if an event is emitted twice (a crash between the tenant's commit and its next run). Only a live account
 * with a confirmed address gets mail. Logs name the tenant and the kind, never the address or the token.
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import * as v from 'valibot';
import { ApprovalReminderEventSchema, NOTIFY_EVENTS, WeeklySummaryEventSchema, type TenantEvent } from '../../protocol/index.js';
import type { OutboxQueue } from '../email/mail-queue.js';
import type { UnsubscribeTokens } from './unsubscribe-token.js';

export interface NotificationMailerDeps {
  db: Database.Database;
  mail: OutboxQueue;
  tokens: UnsubscribeTokens;
  appUrl: () => string;
  log: Logger;
  now?: () => number;
}

const DAY = 86_400_000;
const KEEP_REMINDER_KEYS_MS = 7 * DAY;
const KEEP_WEEKLY_KEYS_MS = 8 * 7 * DAY;

/** A tenant id is a uuid, but a GLOB pattern is no place to trust that. */
const globEscape = (text: string) => text.replace(/[*?[]/g, (c) => `[${c}]`);

interface Recipient {
  id: string;
  email: string;
}

export class NotificationMailer {
  readonly #d: NotificationMailerDeps;
  readonly #now: () => number;

  constructor(deps: NotificationMailerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** Queues the mail an event asks for; ignores every other event. Never throws (it runs in the host's event loop). */
  onTenantEvent(tenantId: string, event: TenantEvent): void {
    if (event.kind !== NOTIFY_EVENTS.WeeklySummary && event.kind !== NOTIFY_EVENTS.ApprovalReminder) return;
    try {
      this.#handle(tenantId, event);
    } catch (error) {
      this.#d.log.error({ err: error, tenantId, kind: event.kind }, 'could not queue a periodic mail');
    }
  }

  #handle(tenantId: string, event: TenantEvent): void {
    const { db, mail, tokens, log } = this.#d;
    const user = db
      .prepare<[string], Recipient>('SELECT id, email FROM users WHERE tenant_id = ? AND deleted_at IS NULL AND email_verified_at IS NOT NULL')
      .get(tenantId);
    if (!user) return;
    const app = this.#d.appUrl();
    const unsubscribe = (kind: 'weekly_summary' | 'approval_reminders') => `${app}/unsubscribe?token=${tokens.sign({ kind, userId: user.id })}`;
    const now = this.#now();
    let queued = false;
    if (event.kind === NOTIFY_EVENTS.WeeklySummary) {
      const parsed = v.safeParse(WeeklySummaryEventSchema, event.data);
      if (!parsed.success) return void log.warn({ tenantId, kind: event.kind, issue: v.flatten(parsed.issues).nested }, 'ignored a malformed periodic-mail event');
      const summary = parsed.output;
      queued = this.#once({ prefix: `weekly_summary:${tenantId}:`, cause: String(summary.weekStart), keepMs: KEEP_WEEKLY_KEYS_MS }, user.id, now, () =>
        mail.queue({ to: user.email, template: 'weekly_summary', data: { summary, link: `${app}/dashboard`, settingsLink: `${app}/dashboard/settings`, unsubscribeLink: unsubscribe('weekly_summary') } }),
      );
    } else {
      const parsed = v.safeParse(ApprovalReminderEventSchema, event.data);
      if (!parsed.success) return void log.warn({ tenantId, kind: event.kind, issue: v.flatten(parsed.issues).nested }, 'ignored a malformed periodic-mail event');
      const reminder = parsed.output;
      queued = this.#once({ prefix: `approval_reminder:${tenantId}:`, cause: reminder.day, keepMs: KEEP_REMINDER_KEYS_MS }, user.id, now, () =>
        mail.queue({ to: user.email, template: 'approval_reminder', data: { reminder, now, link: `${app}/dashboard/approvals`, unsubscribeLink: unsubscribe('approval_reminders') } }),
      );
    }
    if (queued) {
      mail.flush();
      log.info({ tenantId, kind: event.kind }, 'periodic mail queued');
    }
  }

  /**
   * Runs `queue` with its key in one transaction, unless the key was used before. Keys of the same tenant and
   * kind older than `keepMs` go in the same step (the tenant keeps its own mark, so these only need to outlive
   * a repeated event), so the table holds a few rows per tenant, not one per day forever.
   */
  #once(key: { prefix: string; cause: string; keepMs: number }, userId: string, now: number, queue: () => void): boolean {
    const { db } = this.#d;
    return db.transaction(() => {
      const fresh = db.prepare('INSERT OR IGNORE INTO billing_notices (key, user_id, sent_at) VALUES (?, ?, ?)').run(`${key.prefix}${key.cause}`, userId, now).changes > 0;
      if (!fresh) return false;
      queue();
      db.prepare('DELETE FROM billing_notices WHERE key GLOB ? AND sent_at < ?').run(`${globEscape(key.prefix)}*`, now - key.keepMs);
      return true;
    })();
  }
}
