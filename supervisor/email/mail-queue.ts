/**
 * The outbox as route code sees it: `queue()` inside the transaction that causes a mail, `flush()` after the
 * commit. Matches the `MailQueue` that supervisor/routes/auth.ts asks for, so routes never import the sender.
 */
import type Database from 'better-sqlite3';
import { queueEmailUnchecked } from './outbox.js';

export interface OutboxQueue {
  /** Renders and inserts the mail; throws on an unknown template or bad data, rolling the transaction back. */
  queue(message: { to: string; template: string; data: Record<string, unknown> }): void;
  /** Wakes the sender; call once the transaction that queued mail committed. */
  flush(): void;
}

export function createMailQueue(db: Database.Database, sender: { notify(): void }, now: () => number = Date.now): OutboxQueue {
  return {
    queue: (message) => void queueEmailUnchecked(db, message, now()),
    flush: () => sender.notify(),
  };
}
