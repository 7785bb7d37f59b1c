/**
 * Periodic mail end to end: real tenant threads run the strategy and approval-reminder jobs on their own
 * data, their events go through the supervisor's mailer into the real outbox, the real sender delivers them
 * over SMTP to a real sink, and the unsubscribe links in those mails work over real HTTP without a session.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { keyringOf, NOTIFY_EVENTS } from '../../../protocol/index.js';
import { createMailQueue } from '../../../supervisor/email/mail-queue.js';
import { EmailSender } from '../../../supervisor/email/sender.js';
import { createEmailTransport } from '../../../supervisor/email/transport.js';
import { listUnsubscribeHeaders } from '../../../supervisor/notifications/headers.js';
import { NotificationMailer } from '../../../supervisor/notifications/mailer.js';
import { UnsubscribeTokens } from '../../../supervisor/notifications/unsubscribe-token.js';
import { addUnsubscribeRoutes } from '../../../supervisor/routes/unsubscribe.js';
import { RUNTIME_JOB_NAMES } from '../../../tenant-worker/runtime/loops/names.js';
import { weekToReport } from '../../../tenant-worker/runtime/loops/strategy.js';
import { setRuntimeState } from '../../../tenant-worker/runtime/state.js';
import { previousWeek } from '../../../tenant-worker/runtime/strategy.js';
import { startAuthServer, type AuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';
import { startSmtpSink, type ReceivedMail, type SmtpSink } from '../../helpers/smtp-sink.js';
import { captureLog, until } from '../../helpers/tenants.js';

const HOUR = 3_600_000;
const PASSWORD = 'correct horse battery staple';
const TIMEOUT = 20_000;

interface Env {
  server: AuthServer;
  sink: SmtpSink;
  sender: EmailSender;
  mailer: NotificationMailer;
  tokens: UnsubscribeTokens;
  logs: Record<string, unknown>[];
}

/** The supervisor's periodic-mail wiring (as supervisor/app.ts does it) around the account routes. */
async function setUp(t: Test): Promise<Env> {
  const sink = await startSmtpSink();
  const { log, logs } = captureLog();
  const tokens = new UnsubscribeTokens(keyringOf(randomBytes(32)));
  const server = await startAuthServer({
    register: (router, deps) => addUnsubscribeRoutes(router, { db: deps.db, host: deps.host, tokens, requestTimeoutMs: TIMEOUT }),
  });
  const sender = new EmailSender({ db: server.db, transport: createEmailTransport({ smtpUrl: sink.url() }), log, pollMs: 100, headersFor: listUnsubscribeHeaders(tokens) });
  sender.start();
  const mailer = new NotificationMailer({ db: server.db, mail: createMailQueue(server.db, sender), tokens, appUrl: () => server.base, log });
  server.host.on('event', (tenantId, event) => mailer.onTenantEvent(tenantId, event));
  t.teardown(async () => {
    await sender.stop();
    await server.close();
    await sink.close();
  });
  return { server, sink, sender, mailer, tokens, logs };
}

/** A confirmed account; returns its user and tenant ids once the tenant has hibernated. */
async function confirmedUser(env: Env, email: string): Promise<{ userId: string; tenantId: string }> {
  const browser = new Browser(env.server.base);
  t.equal((await browser.json('POST', '/auth/signup', { email, password: PASSWORD })).status, 201);
  t.equal((await browser.json('POST', '/auth/verify-email', { token: env.server.tokenFor(email, 'verify_email') })).status, 200);
  const row = env.server.db.prepare('SELECT id, tenant_id FROM users WHERE email = ?').get(email) as { id: string; tenant_id: string };
  await env.server.host.request(row.tenant_id, 'ping', {}, TIMEOUT);
  await until(() => env.server.host.state(row.tenant_id) === 'hibernated', TIMEOUT);
  return { userId: row.id, tenantId: row.tenant_id };
}

/**
 * Last week's work in the tenant's DB (written while it hibernates): 3 measured tweets, 2 replies,
 * followers 100 → 112, and 5 approval items pending for 6 hours. The runtime is started with active hours
 * all day; the strategy and reminder jobs are due now, every other job tomorrow.
 */
function seed(env: Env, tenantId: string, settings: Record<string, unknown> = {}): void {
  const db = new Database(env.server.registry.dbPath(tenantId));
  const now = Date.now();
  const setting = (key: string, value: unknown) =>
    db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  setting('schedule.active_hours_start', 0);
  setting('schedule.active_hours_end', 0);
  for (const [key, value] of Object.entries(settings)) setting(key, value);
  setRuntimeState(db, 'started', now);
  for (const name of RUNTIME_JOB_NAMES) {
    const due = name === 'strategy' || name === 'approval-reminder' ? 0 : now + 24 * HOUR;
    db.prepare('INSERT INTO jobs (name, next_run_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET next_run_at = excluded.next_run_at').run(name, due);
  }
  const week = weekToReport(now, 'UTC');
  for (let i = 0; i < 3; i++) {
    db.prepare("INSERT INTO original_tweets (tweet_id, content, topic, format, source, posted_at) VALUES (?, ?, 'saas pricing', 'list', 'content', ?)").run(`90${i}`, `pricing lesson ${i}`, week.weekStart + (i + 1) * HOUR);
    db.prepare("INSERT INTO post_metrics (tweet_id, kind, likes, retweets, replies, quotes, impressions, score, measured_at) VALUES (?, 'tweet', ?, 1, 2, 0, 500, ?, 0)").run(`90${i}`, 4 + i, 10 + i);
  }
  for (let i = 0; i < 2; i++) {
    db.prepare("INSERT INTO replies (tweet_id, target_tweet_id, target_author_id, target_author_username, source, content, posted_at) VALUES (?, ?, '7', 'someone', 'target', 'hi', ?)").run(`80${i}`, `70${i}`, week.weekStart + 2 * HOUR);
  }
  db.prepare('INSERT INTO follower_snapshots (day, followers, following, tweets, at) VALUES (?, 100, 0, 0, 0), (?, 112, 0, 0, 0)').run(previousWeek(week).lastDay, week.lastDay);
  const queued = now - 6 * HOUR;
  for (let i = 0; i < 3; i++) {
    db.prepare("INSERT INTO approval_queue (kind, content, source, created_at, updated_at) VALUES ('tweet', ?, 'content', ?, ?)").run(`draft ${i}`, queued + i, queued + i);
  }
  for (let i = 0; i < 2; i++) {
    db.prepare("INSERT INTO approval_queue (kind, content, source, target_tweet_id, created_at, updated_at) VALUES ('reply', 'nice', 'discovery', ?, ?, ?)").run(`60${i}`, queued, queued);
  }
  db.close();
}

/** Wakes the tenant and waits until both jobs have run and the outbox has nothing left to send. */
async function runJobs(env: Env, tenantId: string): Promise<void> {
  const since = Date.now();
  await until(() => env.server.host.state(tenantId) === 'hibernated', TIMEOUT);
  const ran = async () => {
    const status = (await env.server.host.request(tenantId, 'status', {}, TIMEOUT)) as { jobs: { name: string; lastRunAt: number | null }[] };
    return ['strategy', 'approval-reminder'].every((name) => (status.jobs.find((job) => job.name === name)?.lastRunAt ?? 0) >= since);
  };
  const end = Date.now() + TIMEOUT;
  while (!(await ran())) {
    if (Date.now() > end) throw new Error('the jobs did not run');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Events travel after the run; give them a turn, then let the sender finish.
  await new Promise((resolve) => setTimeout(resolve, 200));
  env.sender.notify();
  await env.sender.idle();
  await until(() => (env.server.db.prepare("SELECT count(*) AS n FROM email_outbox WHERE status = 'queued'").get() as { n: number }).n === 0, TIMEOUT);
}

const outboxCount = (env: Env, template: string) => (env.server.db.prepare('SELECT count(*) AS n FROM email_outbox WHERE template = ?').get(template) as { n: number }).n;
const linkIn = (mail: ReceivedMail) => /(http:\/\/127\.0\.0\.1:\d+\/unsubscribe\?token=[A-Za-z0-9_.-]+)/.exec(mail.text)?.[1];
const settingOf = async (env: Env, tenantId: string, key: string) => {
  try {
    return ((await env.server.host.request(tenantId, 'settings.get', { key }, TIMEOUT)) as { value: unknown }).value;
  } catch {
    return undefined; // not set: the default (on)
  }
};

/** Clears what makes both mails "already sent", as a new week and a new day would. */
async function forgetSent(env: Env, tenantId: string): Promise<void> {
  await until(() => env.server.host.state(tenantId) === 'hibernated', TIMEOUT);
  const db = new Database(env.server.registry.dbPath(tenantId));
  db.prepare('DELETE FROM strategy_reports').run();
  db.prepare("DELETE FROM notices_given WHERE key GLOB 'notify.*'").run();
  db.prepare("UPDATE jobs SET next_run_at = 0 WHERE name IN ('strategy', 'approval-reminder')").run();
  db.close();
  env.server.db.prepare('DELETE FROM billing_notices WHERE key GLOB ?').run(`*:${tenantId}:*`);
}

t.test('a week with a report and an old queue: one summary with its figures and one reminder, each with a working unsubscribe', async (t) => {
  const env = await setUp(t);
  const ada = await confirmedUser(env, 'ada@example.com');
  seed(env, ada.tenantId);
  await runJobs(env, ada.tenantId);

  const mails = await env.sink.waitFor(2, TIMEOUT);
  t.equal(mails.length, 2, 'two mails, no more');
  const summary = mails.find((m) => /Your week on X/.test(m.subject))!;
  const reminder = mails.find((m) => /waiting for your approval/.test(m.subject))!;
  t.ok(summary && reminder, 'a weekly summary and an approval reminder');
  for (const mail of [summary, reminder]) t.equal(mail.to, 'ada@example.com');

  // The figures are the report's: what the seeded week holds.
  t.match(summary.subject, /: 5 posts, \+12 followers$/);
  t.match(summary.text, /Posted: 5 posts of the \d+ your limits allowed \(2 replies, 3 tweets, 0 threads\)\./);
  t.match(summary.text, /Followers: 100 → 112 \(\+12\)\./);
  t.match(summary.text, /Average score: tweets and threads 11\.0\./);
  t.match(summary.text, /Best tweet: "pricing lesson 2" \(score 12\.0, 6 likes, 2 replies, 1 repost\)\./);
  t.match(summary.text, /5 items are waiting for your approval\./);
  t.match(summary.html, /Followers: 100 → 112/);
  const report = (await env.server.host.request(ada.tenantId, 'strategy.history', {}, TIMEOUT)) as { items: { output: { total: number }; complete: boolean }[] };
  t.match(report.items, [{ complete: true, output: { total: 5 } }], 'the tenant stored the same complete report');

  t.equal(reminder.subject, '5 items waiting for your approval');
  t.match(reminder.text, /5 items are waiting in your approval queue \(2 replies, 3 tweets\); the oldest has waited 6 hours\./);
  t.match(reminder.text, /\/dashboard\/approvals/);

  // RFC 8058 headers, naming the same link the body shows.
  for (const mail of [summary, reminder]) {
    const link = linkIn(mail);
    t.ok(link, 'the body carries an unsubscribe link');
    const head = mail.raw.split('\r\n\r\n')[0]!.replace(/\r\n(?=[ \t])/g, '');
    t.match(head, /^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    t.equal(/^List-Unsubscribe: <(.+)>$/m.exec(head)?.[1], link, 'List-Unsubscribe names the link');
  }

  // Not two in a day: the reminder job runs again today and sends nothing; a repeated event is ignored too.
  await until(() => env.server.host.state(ada.tenantId) === 'hibernated', TIMEOUT);
  const db = new Database(env.server.registry.dbPath(ada.tenantId));
  db.prepare("UPDATE jobs SET next_run_at = 0 WHERE name IN ('strategy', 'approval-reminder')").run();
  db.close();
  await runJobs(env, ada.tenantId);
  const day = new Date().toISOString().slice(0, 10);
  env.mailer.onTenantEvent(ada.tenantId, { kind: NOTIFY_EVENTS.ApprovalReminder, at: Date.now(), data: { day, pending: 5, oldestAt: Date.now() - 6 * HOUR, byKind: { reply: 2, tweet: 3, thread: 0 } } });
  await env.sender.idle();
  t.equal(outboxCount(env, 'approval_reminder'), 1, 'still one reminder today');
  t.equal(outboxCount(env, 'weekly_summary'), 1, 'still one summary for the week');

  // The weekly summary's link, opened in a browser without a session: a page (GET changes nothing), then the button.
  const anonymous = new Browser(env.server.base);
  const summaryLink = new URL(linkIn(summary)!);
  const page = await anonymous.request('GET', `${summaryLink.pathname}${summaryLink.search}`);
  t.equal(page.status, 200);
  const html = await page.text();
  t.match(html, /weekly performance summary/);
  t.match(html, /<form method="post" action="\/unsubscribe\?token=/);
  t.equal(page.headers.get('cache-control'), 'no-store');
  t.equal(page.headers.get('referrer-policy'), 'no-referrer');
  t.equal(await settingOf(env, ada.tenantId, 'notifications.weekly_summary'), undefined, 'GET alone changed nothing');
  const posted = await fetch(summaryLink, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  t.equal(posted.status, 200);
  t.match(await posted.text(), /You are unsubscribed/);
  t.equal(await settingOf(env, ada.tenantId, 'notifications.weekly_summary'), false, 'the tenant setting is off');
  t.equal(await settingOf(env, ada.tenantId, 'notifications.approval_reminders'), undefined, 'the other kind is untouched');

  // A new week and a new day: the reminder comes again, the summary does not.
  await forgetSent(env, ada.tenantId);
  await runJobs(env, ada.tenantId);
  t.equal(outboxCount(env, 'approval_reminder'), 2, 'the next day has its reminder');
  t.equal(outboxCount(env, 'weekly_summary'), 1, 'no summary after unsubscribing');

  // One-click from the mail client: a POST to the List-Unsubscribe URL, no page, no cookie, no Origin.
  const oneClick = await fetch(linkIn(reminder)!, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  t.equal(oneClick.status, 200);
  t.equal(await settingOf(env, ada.tenantId, 'notifications.approval_reminders'), false);
  await forgetSent(env, ada.tenantId);
  await runJobs(env, ada.tenantId);
  t.equal(outboxCount(env, 'approval_reminder'), 2, 'no reminder after unsubscribing');
  t.equal(outboxCount(env, 'weekly_summary'), 1);
  t.equal(env.sink.inbox.length, 3, 'three mails in all');

  // No token and no address in any log line (sender, mailer, tenant host).
  const logged = JSON.stringify([...env.logs, ...env.server.logs]);
  for (const mail of [summary, reminder]) t.notOk(logged.includes(new URL(linkIn(mail)!).searchParams.get('token')!), 'the token is not logged');
  t.notMatch(logged, /ada@example\.com/, 'the address is not logged');
  t.match(logged, /periodic mail queued/, 'but the mail is');
});

t.test('forged, altered, foreign and missing tokens are a clear 400 page and change nothing', async (t) => {
  const env = await setUp(t);
  const ada = await confirmedUser(env, 'ada@example.com');
  const bob = await confirmedUser(env, 'bob@example.com');
  const good = env.tokens.sign({ kind: 'weekly_summary', userId: ada.userId });
  const otherKey = new UnsubscribeTokens(keyringOf(randomBytes(32))).sign({ kind: 'weekly_summary', userId: ada.userId });
  const [kind, , keyId, mac] = good.split('.');
  const bad = {
    'another server key': otherKey,
    "Bob's id with Ada's signature": `${kind}.${bob.userId}.${keyId}.${mac}`,
    'another kind with the same signature': `approval_reminders.${ada.userId}.${keyId}.${mac}`,
    'one character changed': `${good.slice(0, -1)}${good.endsWith('A') ? 'B' : 'A'}`,
    'cut off': good.slice(0, -4),
    'garbage': '<script>alert(1)</script>',
    'empty': '',
  };
  for (const [name, token] of Object.entries(bad)) {
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`${env.server.base}/unsubscribe?token=${encodeURIComponent(token)}`, { method });
      t.equal(res.status, 400, `${name}: ${method} is 400`);
      t.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      const body = await res.text();
      t.match(body, /This unsubscribe link is not valid/, `${name}: says so`);
      t.notMatch(body, /<script>alert/, `${name}: nothing echoed unescaped`);
    }
  }
  t.equal((await fetch(`${env.server.base}/unsubscribe`)).status, 400, 'no token at all');
  for (const user of [ada, bob]) {
    t.equal(await settingOf(env, user.tenantId, 'notifications.weekly_summary'), undefined, 'nothing changed');
    t.equal(await settingOf(env, user.tenantId, 'notifications.approval_reminders'), undefined);
  }
  // The genuine token still works, for Ada only.
  t.equal((await fetch(`${env.server.base}/unsubscribe?token=${good}`, { method: 'POST' })).status, 200);
  t.equal(await settingOf(env, ada.tenantId, 'notifications.weekly_summary'), false);
  t.equal(await settingOf(env, bob.tenantId, 'notifications.weekly_summary'), undefined);
});

t.test('opted out from the start, or not confirmed: no mail at all', async (t) => {
  const env = await setUp(t);
  const ada = await confirmedUser(env, 'ada@example.com');
  seed(env, ada.tenantId, { 'notifications.weekly_summary': false, 'notifications.approval_reminders': false });
  await runJobs(env, ada.tenantId);
  const report = (await env.server.host.request(ada.tenantId, 'strategy.history', {}, TIMEOUT)) as { items: unknown[] };
  t.equal(report.items.length, 1, 'the report was still written');
  t.equal(outboxCount(env, 'weekly_summary') + outboxCount(env, 'approval_reminder'), 0, 'but nothing was mailed');

  // An unconfirmed address gets no periodic mail, even when its tenant asks.
  const browser = new Browser(env.server.base);
  await browser.json('POST', '/auth/signup', { email: 'unconfirmed@example.com', password: PASSWORD });
  const tenantId = (env.server.db.prepare("SELECT tenant_id FROM users WHERE email = 'unconfirmed@example.com'").get() as { tenant_id: string }).tenant_id;
  env.mailer.onTenantEvent(tenantId, { kind: NOTIFY_EVENTS.ApprovalReminder, at: Date.now(), data: { day: '2026-01-05', pending: 1, oldestAt: 0, byKind: { reply: 0, tweet: 1, thread: 0 } } });
  // A malformed event is ignored, not thrown.
  env.mailer.onTenantEvent(ada.tenantId, { kind: NOTIFY_EVENTS.WeeklySummary, at: Date.now(), data: { posts: 'many' } });
  t.equal(outboxCount(env, 'weekly_summary') + outboxCount(env, 'approval_reminder'), 0);
  t.match(JSON.stringify(env.logs), /ignored a malformed periodic-mail event/);

  // The once-per-cause keys do not pile up: a new reminder's key replaces those older than a week.
  const keys = () => env.server.db.prepare('SELECT key FROM billing_notices WHERE key GLOB ? ORDER BY key').pluck().all(`approval_reminder:${ada.tenantId}:*`);
  env.server.db.prepare('INSERT INTO billing_notices (key, user_id, sent_at) VALUES (?, ?, ?), (?, ?, ?)').run(
    `approval_reminder:${ada.tenantId}:2026-01-01`, ada.userId, Date.now() - 9 * 24 * HOUR,
    `approval_reminder:${ada.tenantId}:2026-01-04`, ada.userId, Date.now() - 2 * 24 * HOUR,
  );
  env.mailer.onTenantEvent(ada.tenantId, { kind: NOTIFY_EVENTS.ApprovalReminder, at: Date.now(), data: { day: '2026-01-06', pending: 1, oldestAt: 0, byKind: { reply: 0, tweet: 1, thread: 0 } } });
  t.equal(outboxCount(env, 'approval_reminder'), 1, 'a confirmed account gets the reminder its tenant asks for');
  t.same(keys(), [`approval_reminder:${ada.tenantId}:2026-01-04`, `approval_reminder:${ada.tenantId}:2026-01-06`], 'the 9-day-old key is gone');
});
