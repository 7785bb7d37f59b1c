/**
 * The durable email outbox over the `email_outbox` table (migrations/management/0002_accounts.sql).
 *
 * Model: a mail is rendered and inserted by the same code, in the same transaction, as the change it reports
 * ("your password was changed" commits with the new hash, or neither does); one sender loop later delivers due
 * rows and records the outcome. Every function here is plain synchronous better-sqlite3, so it can run inside
 * a caller's `db.transaction(...)`.
 *
 * A row's life: `queued` (attempts 0, next_attempt_at = when it was queued) → `sent`, or after a failed attempt
 * back to `queued` with next_attempt_at pushed out by exponential backoff (30 s, 1 min, 2 min, … capped at 1 h)
 * → `failed` after the last allowed attempt or a permanent refusal. Delivery is at least once: a crash between
 * the SMTP server's acceptance and `markSent` sends that one mail again after the restart.
 * Bodies carry one-time tokens, so finished rows are pruned after a retention period.
 */
import type Database from 'better-sqlite3';
import * as v from 'valibot';
import { render, renderUnchecked, type TemplateData, type TemplateName } from './templates.js';

export type EmailStatus = 'queued' | 'sent' | 'failed';

export interface OutboxEmail {
  id: number;
  to: string;
  template: string;
  subject: string;
  text: string;
  html: string;
  status: EmailStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface RetryPolicy {
  /** Delay after the first failed attempt; it doubles with every further one. */
  baseMs: number;
  maxMs: number;
  /** The attempt that fails for the last time marks the mail `failed`. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 30_000, maxMs: 3_600_000, maxAttempts: 8 };

export type QueueMessage<T extends TemplateName = TemplateName> = { to: string; template: T; data: TemplateData[T] };

interface Row {
  id: number;
  to_address: string;
  template: string;
  subject: string;
  text_body: string;
  html_body: string;
  status: EmailStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

const toEmail = (row: Row): OutboxEmail => ({
  id: row.id,
  to: row.to_address,
  template: row.template,
  subject: row.subject,
  text: row.text_body,
  html: row.html_body,
  status: row.status,
  attempts: row.attempts,
  nextAttemptAt: row.next_attempt_at,
  lastError: row.last_error,
  createdAt: row.created_at,
  sentAt: row.sent_at,
});

// One bare address: a display name, a comma or a newline here could turn one mail into several.
const Recipient = v.pipe(v.string(), v.trim(), v.maxLength(254), v.email());

/** Renders and queues a mail; returns its id. Throws on an invalid address or data (a caller bug), which rolls back the caller's transaction. */
export function queueEmail<T extends TemplateName>(db: Database.Database, message: QueueMessage<T>, now = Date.now()): number {
  return insert(db, message.to, message.template, render(message.template, message.data), now);
}

/** The same for callers that only know the template name at run time (validated against the templates). */
export function queueEmailUnchecked(
  db: Database.Database,
  message: { to: string; template: string; data: unknown },
  now = Date.now(),
): number {
  return insert(db, message.to, message.template, renderUnchecked(message.template, message.data), now);
}

function insert(db: Database.Database, to: string, template: string, mail: { subject: string; text: string; html: string }, now: number): number {
  const checked = v.safeParse(Recipient, to);
  if (!checked.success) throw new TypeError('queueEmail: "to" must be a single email address');
  const result = db
    .prepare(
      `INSERT INTO email_outbox (to_address, template, subject, text_body, html_body, status, attempts, next_attempt_at, created_at)
       VALUES (?, ?, ?, ?, ?, 'queued', 0, ?, ?)`,
    )
    .run(checked.output, template, mail.subject, mail.text, mail.html, now, now);
  return Number(result.lastInsertRowid);
}

/** Queued mails whose next attempt is due, oldest due first. */
export function dueEmails(db: Database.Database, now: number, limit: number): OutboxEmail[] {
  return db
    .prepare<[number, number], Row>(
      "SELECT * FROM email_outbox WHERE status = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?",
    )
    .all(now, limit)
    .map(toEmail);
}

/** When the next queued mail falls due, or null when none is queued. */
export function nextDueAt(db: Database.Database): number | null {
  const row = db.prepare<[], { at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM email_outbox WHERE status = 'queued'").get();
  return row?.at ?? null;
}

export function markSent(db: Database.Database, id: number, now = Date.now()): void {
  db.prepare("UPDATE email_outbox SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ? AND status = 'queued'").run(
    now,
    id,
  );
}

export function retryDelayMs(attempts: number, policy: RetryPolicy = DEFAULT_RETRY): number {
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempts - 1));
}

export interface MarkFailedOptions {
  /** The server refused for good (e.g. no such mailbox): no further attempts. */
  permanent?: boolean;
  retry?: RetryPolicy;
}

/** Records a failed attempt; returns what becomes of the mail. */
export function markFailed(
  db: Database.Database,
  id: number,
  error: string,
  now = Date.now(),
  options: MarkFailedOptions = {},
): { status: 'queued'; nextAttemptAt: number; attempts: number } | { status: 'failed'; attempts: number } | null {
  const policy = options.retry ?? DEFAULT_RETRY;
  const row = db.prepare<[number], { attempts: number }>("SELECT attempts FROM email_outbox WHERE id = ? AND status = 'queued'").get(id);
  if (!row) return null;
  const attempts = row.attempts + 1;
  const lastError = error.slice(0, 500);
  if (options.permanent || attempts >= policy.maxAttempts) {
    db.prepare("UPDATE email_outbox SET status = 'failed', attempts = ?, last_error = ? WHERE id = ?").run(attempts, lastError, id);
    return { status: 'failed', attempts };
  }
  const nextAttemptAt = now + retryDelayMs(attempts, policy);
  db.prepare('UPDATE email_outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?').run(attempts, nextAttemptAt, lastError, id);
  return { status: 'queued', nextAttemptAt, attempts };
}

/** Newest first, for the sandbox's /dev/mail page. */
export function listEmails(db: Database.Database, options: { limit: number }): OutboxEmail[] {
  return db.prepare<[number], Row>('SELECT * FROM email_outbox ORDER BY id DESC LIMIT ?').all(options.limit).map(toEmail);
}

export function getEmail(db: Database.Database, id: number): OutboxEmail | undefined {
  const row = db.prepare<[number], Row>('SELECT * FROM email_outbox WHERE id = ?').get(id);
  return row && toEmail(row);
}

/** Deletes sent and failed mails created before `before` (their links have long expired); returns how many. */
export function pruneEmails(db: Database.Database, before: number): number {
  return db.prepare("DELETE FROM email_outbox WHERE status IN ('sent', 'failed') AND created_at < ?").run(before).changes;
}
