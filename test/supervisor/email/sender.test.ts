import t from 'tap';
import { getEmail, listEmails, queueEmail } from '../../../supervisor/email/outbox.js';
import { EmailSender, type EmailSenderOptions } from '../../../supervisor/email/sender.js';
import { createEmailTransport } from '../../../supervisor/email/transport.js';
import { startSmtpSink, type SmtpSink } from '../../helpers/smtp-sink.js';
import { captureLog, tempManagementDb, until, type TestDb } from './fixtures/db.js';

const TOKEN = 'tokensecretabcdefghijklmnop';
const LINK = `https://app.example.com/verify-email?token=${TOKEN}`;
const PASSWORD = 'sup3r-s3cret-pa$$word';
const FROM = 'TuitBot Test <no-reply@tuitbot.test>';

async function setup(t: { teardown(fn: () => void | Promise<void>): void }, overrides: Partial<EmailSenderOptions> = {}) {
  const h = tempManagementDb();
  const sink = await startSmtpSink();
  const { log, lines, entries } = captureLog();
  const transport = createEmailTransport({ smtpUrl: sink.url('mailer', PASSWORD), from: FROM, timeoutMs: 2_000 });
  const sender = new EmailSender({ db: h.db, transport, log, pollMs: 50, ...overrides });
  t.teardown(async () => {
    await sender.stop();
    await sink.close();
    h.cleanup();
  });
  return { h, sink, sender, lines, entries };
}

function queueVerify(h: TestDb, to = 'alice@example.com'): number {
  return queueEmail(h.db, { to, template: 'verify_email', data: { link: LINK } });
}

t.test('a queued mail is delivered with the right from, to, subject, text and html, then marked sent', async (t) => {
  const { h, sink, sender } = await setup(t);
  sender.start();
  const id = h.db.transaction(() => queueVerify(h))();
  sender.notify();
  const [mail] = await sink.waitFor(1);
  t.same(mail!.parsed.from?.value, [{ name: 'TuitBot Test', address: 'no-reply@tuitbot.test' }]);
  t.equal(mail!.to, 'alice@example.com');
  t.same(mail!.envelope, { from: 'no-reply@tuitbot.test', to: ['alice@example.com'] });
  t.same(mail!.auth, { username: 'mailer', password: PASSWORD }, 'logged in with the URL credentials');
  t.equal(mail!.subject, 'Confirm your email address');
  t.ok(mail!.text.includes(LINK), 'text body carries the link');
  t.ok(mail!.html.includes('href="https://app.example.com/verify-email?token='), 'html body carries the link');
  await until(() => getEmail(h.db, id)?.status === 'sent', 2_000, 'status sent');
  t.match(getEmail(h.db, id), { status: 'sent', attempts: 1, lastError: null });
  t.type(getEmail(h.db, id)!.sentAt, 'number');
});

t.test('without notify(), the poll timer still finds queued mail', async (t) => {
  const { h, sink, sender } = await setup(t);
  sender.start();
  queueVerify(h);
  await sink.waitFor(1, 2_000);
  t.pass('delivered by the poll');
});

t.test('a mail queued inside a transaction that rolls back is never sent', async (t) => {
  const { h, sink, sender } = await setup(t);
  sender.start();
  t.throws(
    h.db.transaction(() => {
      queueVerify(h, 'ghost@example.com');
      throw new Error('signup failed');
    }),
  );
  sender.notify();
  queueVerify(h, 'bob@example.com');
  sender.notify();
  await sink.waitFor(1);
  await new Promise((resolve) => setTimeout(resolve, 200));
  await sender.idle();
  t.same(
    sink.inbox.map((m) => m.to),
    ['bob@example.com'],
    'only the committed mail went out',
  );
});

t.test('refused by the server: attempts count up, the next attempt backs off, a later attempt delivers', async (t) => {
  const { h, sink, sender, entries } = await setup(t, { retry: { baseMs: 150, maxMs: 1_000, maxAttempts: 8 } });
  sink.rejectNext(2, { code: 451 });
  sender.start();
  const before = Date.now();
  const id = queueVerify(h);
  sender.notify();
  await until(() => getEmail(h.db, id)!.attempts === 1, 3_000, 'first attempt');
  const first = getEmail(h.db, id)!;
  t.match(first, { status: 'queued', attempts: 1, lastError: /451/ });
  t.ok(first.nextAttemptAt >= before + 150, 'first retry after the base delay');
  await until(() => getEmail(h.db, id)!.attempts === 2, 3_000, 'second attempt');
  const second = getEmail(h.db, id)!;
  t.ok(second.nextAttemptAt - first.nextAttemptAt >= 300, 'the second delay is twice the first');
  await sink.waitFor(1, 5_000);
  await until(() => getEmail(h.db, id)!.status === 'sent', 2_000, 'sent');
  t.match(getEmail(h.db, id), { status: 'sent', attempts: 3 });
  t.equal(sink.rejected, 2);
  t.equal(sink.inbox.length, 1, 'delivered exactly once');
  const outcomes = entries().filter((e) => e['emailId'] === id).map((e) => e['outcome']);
  t.same(outcomes, ['retry', 'retry', 'sent']);
});

t.test('a 5xx refusal of the recipient fails the mail at once; the others still go', async (t) => {
  const { h, sink, sender } = await setup(t);
  sink.rejectNext(1, { code: 550, stage: 'rcpt' });
  const bad = queueVerify(h, 'nobody@example.com');
  const good = queueVerify(h, 'carol@example.com');
  sender.start();
  await sink.waitFor(1);
  await until(() => getEmail(h.db, good)!.status === 'sent', 2_000, 'sent');
  t.match(getEmail(h.db, bad), { status: 'failed', attempts: 1, lastError: /550/ });
  t.notMatch(getEmail(h.db, bad)!.lastError!, /nobody@/, 'the stored error does not quote the address');
});

t.test('the outbox survives a restart: queued with no sender, reopened, delivered exactly once', async (t) => {
  const h = tempManagementDb();
  const sink = await startSmtpSink();
  t.teardown(async () => {
    await sink.close();
    h.cleanup();
  });
  const { log } = captureLog();
  // A first life with no SMTP configured: mail is queued and stays so.
  const down = new EmailSender({ db: h.db, transport: null, log, pollMs: 20 });
  down.start();
  const id = h.db.transaction(() => queueVerify(h))();
  down.notify();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await down.stop();
  t.equal(getEmail(h.db, id)!.status, 'queued');

  const db = h.reopen();
  const transport = createEmailTransport({ smtpUrl: sink.url(), from: FROM });
  const sender = new EmailSender({ db, transport, log, pollMs: 20 });
  sender.start();
  await sink.waitFor(1);
  await until(() => getEmail(db, id)!.status === 'sent', 2_000, 'sent');
  await new Promise((resolve) => setTimeout(resolve, 150));
  await sender.stop();
  t.equal(sink.inbox.length, 1, 'exactly once');
  t.match(getEmail(db, id), { status: 'sent', attempts: 1 });

  // And a third life sends nothing more.
  const again = new EmailSender({ db, transport: createEmailTransport({ smtpUrl: sink.url(), from: FROM }), log, pollMs: 20 });
  again.start();
  await new Promise((resolve) => setTimeout(resolve, 100));
  await again.stop();
  t.equal(sink.inbox.length, 1, 'still once after another restart');
});

t.test('with no SMTP configured nothing is sent and mail stays queued', async (t) => {
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  const { log, entries } = captureLog();
  const sender = new EmailSender({ db: h.db, transport: null, log, pollMs: 10 });
  sender.start();
  t.equal(sender.delivering, false);
  const id = queueVerify(h);
  sender.notify();
  await new Promise((resolve) => setTimeout(resolve, 60));
  await sender.stop();
  t.match(getEmail(h.db, id), { status: 'queued', attempts: 0 });
  t.match(entries(), [{ level: 40, msg: /SMTP_URL is not set/ }]);
});

t.test('stop() waits for the send in flight, bounded; then nothing more is sent', async (t) => {
  const { h, sink, sender } = await setup(t, { stopTimeoutMs: 2_000 });
  queueVerify(h, 'one@example.com');
  queueVerify(h, 'two@example.com');
  sender.start();
  const stopping = sender.stop();
  await stopping;
  await new Promise((resolve) => setTimeout(resolve, 150));
  t.equal(sink.inbox.length, 1, 'the mail in flight at stop() finished, the next one was not started');
  t.equal(listEmails(h.db, { limit: 10 }).filter((m) => m.status === 'sent').length, 1, 'and it was marked sent');
  sender.notify();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(sink.inbox.length, 1, 'notify after stop does nothing');
});

t.test("the sender's logs never contain the body, the token, the recipient's local part or the SMTP password", async (t) => {
  const { h, sink, sender, lines, entries } = await setup(t, { retry: { baseMs: 20, maxMs: 100, maxAttempts: 3 } });
  sink.rejectNext(1, { code: 451 });
  sender.start();
  const id = queueVerify(h, 'secret-person@example.com');
  sender.notify();
  await sink.waitFor(1);
  await until(() => getEmail(h.db, id)!.status === 'sent', 2_000, 'sent');
  await sender.stop();
  const all = lines.join('\n');
  t.ok(lines.length >= 3, 'it did log');
  for (const secret of [TOKEN, PASSWORD, encodeURIComponent(PASSWORD), 'secret-person', 'Please confirm', 'Confirm email address']) {
    t.notOk(all.includes(secret), `no ${secret}`);
  }
  t.match(entries().find((e) => e['outcome'] === 'sent'), { emailId: id, template: 'verify_email', toDomain: 'example.com' });
  t.match(entries().find((e) => e['msg'] === 'email sender started'), { smtp: `smtp://127.0.0.1:${sink.port} (with login)` });
});

t.test('an unreachable server is a failed attempt, with the password scrubbed from the error', async (t) => {
  const h = tempManagementDb();
  t.teardown(h.cleanup);
  const { log, lines } = captureLog();
  // A port nobody listens on: grab one from a sink and close it.
  const gone: SmtpSink = await startSmtpSink();
  await gone.close();
  const transport = createEmailTransport({ smtpUrl: gone.url('mailer', PASSWORD), timeoutMs: 500 });
  const sender = new EmailSender({ db: h.db, transport, log, pollMs: 20 });
  const id = queueVerify(h);
  sender.start();
  await until(() => getEmail(h.db, id)!.attempts === 1, 3_000, 'first attempt');
  await sender.stop();
  t.match(getEmail(h.db, id), { status: 'queued', lastError: /ECONNREFUSED|ECONNECTION/ });
  t.notOk(lines.join('\n').includes(PASSWORD));
});
