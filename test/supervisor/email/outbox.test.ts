import t from 'tap';
import {
  DEFAULT_RETRY,
  dueEmails,
  getEmail,
  listEmails,
  markFailed,
  markSent,
  nextDueAt,
  pruneEmails,
  queueEmail,
  queueEmailUnchecked,
  retryDelayMs,
} from '../../../supervisor/email/outbox.js';
import { createMailQueue } from '../../../supervisor/email/mail-queue.js';
import { tempManagementDb } from './fixtures/db.js';

const LINK = 'https://app.example.com/verify-email?token=abcdefghijklmnopqrstuvwx';

t.test('queueEmail renders and stores a queued row due now', async (t) => {
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  const id = queueEmail(h.db, { to: ' Alice@Example.com ', template: 'verify_email', data: { link: LINK } }, 1_000);
  const mail = getEmail(h.db, id)!;
  t.match(mail, { id, to: 'Alice@Example.com', template: 'verify_email', subject: 'Confirm your email address', status: 'queued', attempts: 0, nextAttemptAt: 1_000, createdAt: 1_000, sentAt: null, lastError: null });
  t.ok(mail.text.includes(LINK) && mail.html.includes('href="https://app.example.com/'));
  t.same(dueEmails(h.db, 999, 10), [], 'not due before its time');
  t.same(dueEmails(h.db, 1_000, 10).map((m) => m.id), [id]);
  t.equal(nextDueAt(h.db), 1_000);
});

t.test('a recipient must be one bare address, and bad data fails the whole transaction', async (t) => {
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  for (const to of ['a@example.com, b@example.com', 'Eve <eve@example.com>', 'a@example.com\r\nBcc: b@example.com', 'nobody']) {
    t.throws(() => queueEmail(h.db, { to, template: 'password_changed', data: {} }), /single email address/, JSON.stringify(to));
  }
  const tx = h.db.transaction(() => {
    queueEmail(h.db, { to: 'a@example.com', template: 'password_changed', data: {} });
    queueEmailUnchecked(h.db, { to: 'a@example.com', template: 'verify_email', data: { link: 'javascript:alert(1)' } });
  });
  t.throws(tx);
  t.same(listEmails(h.db, { limit: 10 }), [], 'the first mail was rolled back with the failure');
});

t.test('a mail queued inside a transaction that rolls back does not exist', async (t) => {
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  const tx = h.db.transaction(() => {
    queueEmail(h.db, { to: 'a@example.com', template: 'password_changed', data: {} });
    throw new Error('the change failed');
  });
  t.throws(tx, /the change failed/);
  t.same(listEmails(h.db, { limit: 10 }), []);
  t.equal(nextDueAt(h.db), null);
});

t.test('failures back off 30 s, 1 min, 2 min … and the 8th attempt marks the mail failed', async (t) => {
  t.same([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelayMs(n)), [30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000, 3_600_000]);
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  const id = queueEmail(h.db, { to: 'a@example.com', template: 'password_changed', data: {} }, 0);
  let now = 0;
  for (let attempt = 1; attempt < DEFAULT_RETRY.maxAttempts; attempt++) {
    const outcome = markFailed(h.db, id, '451 try later', now);
    t.same(outcome, { status: 'queued', attempts: attempt, nextAttemptAt: now + retryDelayMs(attempt) });
    t.same(dueEmails(h.db, outcome!.status === 'queued' ? outcome!.nextAttemptAt - 1 : 0, 10), [], 'not due during the backoff');
    now = (outcome as { nextAttemptAt: number }).nextAttemptAt;
  }
  t.same(markFailed(h.db, id, '451 try later', now), { status: 'failed', attempts: 8 });
  t.match(getEmail(h.db, id), { status: 'failed', attempts: 8, lastError: '451 try later' });
  t.same(dueEmails(h.db, Number.MAX_SAFE_INTEGER, 10), [], 'a failed mail is never due again');
  t.equal(markFailed(h.db, id, 'again', now), null, 'a finished mail is left alone');
});

t.test('a permanent refusal fails at once; markSent records the delivery', async (t) => {
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  const a = queueEmail(h.db, { to: 'a@example.com', template: 'password_changed', data: {} }, 0);
  const b = queueEmail(h.db, { to: 'b@example.com', template: 'password_changed', data: {} }, 0);
  t.same(markFailed(h.db, a, '550 no such user', 5, { permanent: true }), { status: 'failed', attempts: 1 });
  markSent(h.db, b, 7);
  t.match(getEmail(h.db, b), { status: 'sent', attempts: 1, sentAt: 7 });
  t.same(dueEmails(h.db, 100, 10), []);
});

t.test('listEmails is newest first and bounded; pruneEmails deletes only old finished mail', async (t) => {
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  const ids = [1, 2, 3, 4].map((n) => queueEmail(h.db, { to: `u${n}@example.com`, template: 'password_changed', data: {} }, n * 100));
  t.same(listEmails(h.db, { limit: 3 }).map((m) => m.id), [ids[3], ids[2], ids[1]]);
  markSent(h.db, ids[0]!, 150);
  markFailed(h.db, ids[1]!, 'x', 250, { permanent: true });
  t.equal(pruneEmails(h.db, 1_000), 2, 'the sent and the failed mail');
  t.same(listEmails(h.db, { limit: 10 }).map((m) => m.id), [ids[3], ids[2]], 'queued mail is never pruned');
});

t.test('createMailQueue queues by template name and flush wakes the sender', async (t) => {
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  let notified = 0;
  const mail = createMailQueue(h.db, { notify: () => void notified++ });
  h.db.transaction(() => mail.queue({ to: 'a@example.com', template: 'email_changed', data: { newEmail: 'b@example.com' } }))();
  mail.flush();
  t.equal(notified, 1);
  t.match(listEmails(h.db, { limit: 10 }), [{ template: 'email_changed', to: 'a@example.com' }]);
  t.throws(() => mail.queue({ to: 'a@example.com', template: 'nope', data: {} }), /unknown email template/);
});
