/**
 * The one loop that delivers the outbox: due rows, one at a time, through the transport, each outcome
 * recorded before the next is tried.
 *
 * Model: the outbox table is the queue and the source of truth; this class only holds lifecycle state (a
 * timer, the run in flight, whether it is stopping). It wakes on `notify()` (call it after committing a
 * transaction that queued mail) and on a timer: at the next retry's due time, and at least every `pollMs`, so
 * mail queued by anyone else (another process, a missed notify) still goes out. Without a transport (no
 * SMTP_URL) it never sends: mail stays `queued`, readable at /dev/mail in the sandbox, and goes out once a
 * later start has SMTP configured.
 * Logs name the mail's id, template, recipient domain and outcome, never the address's local part, the body
 * (it carries one-time tokens) or the SMTP credentials.
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { DEFAULT_RETRY, dueEmails, markFailed, markSent, nextDueAt, pruneEmails, type OutboxEmail, type RetryPolicy } from './outbox.js';
import type { EmailTransport } from './transport.js';

export interface EmailSenderOptions {
  db: Database.Database;
  /** null when no SMTP server is configured: nothing is sent. */
  transport: EmailTransport | null;
  log: Logger;
  /** Longest sleep between looks at the outbox (default 5 s). */
  pollMs?: number;
  retry?: RetryPolicy;
  /** Rows fetched per query (default 20). */
  batch?: number;
  /** How long stop() waits for a send in flight (default 5 s). */
  stopTimeoutMs?: number;
  /** Sent and failed mails older than this are deleted (default 7 days); 0 keeps them. */
  retentionMs?: number;
  now?: () => number;
  /** Headers a mail gets when it is sent (derived from the stored mail: the outbox keeps no headers). */
  headersFor?: (mail: OutboxEmail) => Record<string, string> | undefined;
}

const PRUNE_EVERY_MS = 3_600_000;

export class EmailSender {
  readonly #db: Database.Database;
  readonly #transport: EmailTransport | null;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #retry: RetryPolicy;
  readonly #batch: number;
  readonly #stopTimeoutMs: number;
  readonly #retentionMs: number;
  readonly #now: () => number;
  readonly #headersFor: (mail: OutboxEmail) => Record<string, string> | undefined;
  #started = false;
  #stopping = false;
  #timer: NodeJS.Timeout | undefined;
  #run: Promise<void> | null = null;
  #again = false;
  #prunedAt = 0;

  constructor(options: EmailSenderOptions) {
    this.#db = options.db;
    this.#transport = options.transport;
    this.#log = options.log;
    this.#pollMs = options.pollMs ?? 5_000;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#batch = options.batch ?? 20;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.#retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
    this.#now = options.now ?? Date.now;
    this.#headersFor = options.headersFor ?? (() => undefined);
  }

  get running(): boolean {
    return this.#started && !this.#stopping;
  }

  /** True when mail is actually delivered (an SMTP server is configured). */
  get delivering(): boolean {
    return this.#transport !== null;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (!this.#transport) {
      this.#log.warn('SMTP_URL is not set: mail is not sent and stays queued in the outbox');
      return;
    }
    this.#log.info({ smtp: this.#transport.description }, 'email sender started');
    this.notify();
  }

  /** Look at the outbox now (after a commit that queued mail). Cheap; safe to call often. */
  notify(): void {
    if (!this.running || !this.#transport) return;
    if (this.#run) {
      this.#again = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#run = this.#drain().finally(() => {
      this.#run = null;
      if (this.running) this.#schedule();
    });
  }

  /** Resolves when no send is in flight and nothing is due (for tests and tools). */
  async idle(): Promise<void> {
    while (this.#run) await this.#run;
  }

  /** Stops the loop; waits for the send in flight at most `stopTimeoutMs`. Safe to call twice. */
  async stop(): Promise<void> {
    if (!this.#started || this.#stopping) return;
    this.#stopping = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const run = this.#run;
    if (run) {
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        run.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.#stopTimeoutMs))),
      ]);
      clearTimeout(timer);
      // Its row stays queued (or is marked later if the DB is still open), so it is retried after a restart.
      if (!finished) this.#log.warn('email send still in flight at the stop deadline');
    }
    this.#transport?.close();
    this.#log.info('email sender stopped');
  }

  async #drain(): Promise<void> {
    const transport = this.#transport!;
    try {
      do {
        this.#again = false;
        for (;;) {
          if (!this.running || !this.#db.open) return;
          const due = dueEmails(this.#db, this.#now(), this.#batch);
          if (due.length === 0) break;
          for (const mail of due) {
            if (!this.running) return;
            const headers = this.#headersFor(mail);
            const result = await transport.send({ to: mail.to, subject: mail.subject, text: mail.text, html: mail.html, ...(headers && { headers }) });
            // stop() may have given up waiting and the DB been closed meanwhile; the row stays queued.
            if (!this.#db.open) return;
            const fields = { emailId: mail.id, template: mail.template, toDomain: domainOf(mail.to) };
            if (result.ok) {
              markSent(this.#db, mail.id, this.#now());
              this.#log.info({ ...fields, outcome: 'sent', attempt: mail.attempts + 1 }, 'email sent');
            } else {
              const error = redactAddresses(result.error);
              const outcome = markFailed(this.#db, mail.id, error, this.#now(), { permanent: result.permanent, retry: this.#retry });
              const level = outcome?.status === 'failed' ? 'error' : 'warn';
              this.#log[level](
                { ...fields, outcome: outcome?.status === 'failed' ? 'failed' : 'retry', attempt: mail.attempts + 1, error, ...(outcome?.status === 'queued' && { nextAttemptAt: outcome.nextAttemptAt }) },
                outcome?.status === 'failed' ? 'email delivery failed for good' : 'email delivery failed; will retry',
              );
            }
          }
        }
      } while (this.#again);
      this.#prune();
    } catch (err) {
      // A DB error (busy, disk full): nothing was lost, the next poll tries again.
      this.#log.error({ err }, 'email sender pass failed');
    }
  }

  #prune(): void {
    const now = this.#now();
    if (this.#retentionMs === 0 || now - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = now;
    const deleted = pruneEmails(this.#db, now - this.#retentionMs);
    if (deleted > 0) this.#log.info({ deleted }, 'pruned old outbox mail');
  }

  #schedule(): void {
    if (!this.#db.open) return;
    let delay = this.#pollMs;
    try {
      const next = nextDueAt(this.#db);
      if (next !== null) delay = Math.max(0, Math.min(delay, next - this.#now()));
    } catch (err) {
      this.#log.error({ err }, 'could not read the outbox');
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.notify();
    }, delay);
    // The HTTP server keeps the process alive; this timer alone never should.
    this.#timer.unref();
  }
}

function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '(none)' : address.slice(at + 1).toLowerCase();
}

/** SMTP errors often quote the recipient ("<alice@example.com>: mailbox unavailable"); keep only the domain. */
export function redactAddresses(text: string): string {
  return text.replace(/[^\s<>"'(),;:@]+@([A-Za-z0-9.-]+)/g, '***@$1');
}
