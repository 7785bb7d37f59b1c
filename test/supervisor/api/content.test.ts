// The content API over real HTTP, real tenant threads and real SQLite: compose (approval mode or the
// schedule), X's weighted length, scheduled items and drafts through their state machine, what was
// posted with its measured performance, and the calendar in the tenant's zone across a DST change.
import Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import t, { type Test } from 'tap';
import { NO_PLAN_CEILINGS } from '../../../supervisor/billing/state.js';
import { addContentRoutes } from '../../../supervisor/routes/content.js';
import { addSettingsRoutes } from '../../../supervisor/routes/settings.js';
import type { TenantEvent } from '../../../protocol/index.js';
import { startAuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';
import { serveTemp } from '../../helpers/process.js';
import { eventually, readyUser } from '../../helpers/sandbox-user.js';
import { until } from '../../helpers/tenants.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function setup(t: Test) {
  const server = await startAuthServer({
    register: (router, deps) => {
      addContentRoutes(router, { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 });
      addSettingsRoutes(router, { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 });
    },
  });
  t.teardown(() => server.close());
  const ada = new Browser(server.base);
  t.equal((await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' })).status, 201);
  const tenantId = (server.db.prepare('SELECT tenant_id FROM users').get() as { tenant_id: string }).tenant_id;
  const events: TenantEvent[] = [];
  server.host.on('event', (id: string, event: TenantEvent) => {
    if (id === tenantId) events.push(event);
  });
  /** Opens the tenant's DB while it is hibernated (an active tenant holds it exclusively). */
  const withDb = async (work: (db: Database.Database) => void) => {
    await until(() => server.host.state(tenantId) === 'hibernated');
    const db = new Database(server.registry.dbPath(tenantId));
    try {
      work(db);
    } finally {
      db.close();
    }
  };
  return { server, ada, tenantId, events, withDb };
}

t.test('compose: approval mode queues, otherwise it schedules; X weighted length with URLs and emoji; field paths; read-only', async (t) => {
  const { server, ada, tenantId, events } = await setup(t);
  const at = Date.now() + 2 * HOUR;

  const queued = await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'Shipping invoices today', scheduledFor: at, media: ['m_1'] });
  t.equal(queued.status, 201, 'approval mode is on by default');
  t.match(queued.body, { outcome: 'queued_for_approval', item: { kind: 'tweet', status: 'pending', source: 'compose', content: 'Shipping invoices today', notBefore: at, media: ['m_1'] } });
  await until(() => events.some((e) => e.kind === 'runtime.approval_queued'));

  t.equal((await ada.json('PATCH', '/api/settings', { approval_mode: false })).status, 200);
  const scheduled = await ada.json('POST', '/api/content/compose', { kind: 'thread', content: ['  One  ', 'Two'], scheduledFor: at, media: ['m_2'], topic: 'invoicing' });
  t.equal(scheduled.status, 201);
  t.match(scheduled.body, { outcome: 'scheduled', item: { kind: 'thread', status: 'scheduled', content: ['One', 'Two'], scheduledFor: at, media: ['m_2'], topic: 'invoicing' } });
  await until(() => events.some((e) => e.kind === 'runtime.content_scheduled'));
  const nextSlot = await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'Whenever there is room', scheduledFor: null });
  t.equal(nextSlot.status, 201);
  t.ok(nextSlot.body.item.scheduledFor >= Date.now() - 60_000, 'null takes the next free slot: a time is resolved');

  t.setTimeout(120_000);
  // twitter-text: every URL counts 23 however long it is, an emoji counts 2.
  const url = `https://example.com/${'p'.repeat(200)}`;
  t.equal((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: `${'a'.repeat(256)} ${url}` })).status, 201, '256 + 1 + 23 = 280 fits');
  const longUrl = await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: `${'a'.repeat(257)} ${url}` });
  t.equal(longUrl.status, 422);
  t.match(longUrl.body.error.fields, { content: /281 weighted characters/ });
  t.equal((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: `${'a'.repeat(270)}${'😀'.repeat(5)}` })).status, 201, '270 + 5 × 2 = 280 fits');
  t.match((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: `${'a'.repeat(270)}${'😀'.repeat(6)}` })).body.error.fields, { content: /282 weighted/ });
  const thread = await ada.json('POST', '/api/content/compose', { kind: 'thread', content: ['fine', `${'b'.repeat(250)} ${'😀'.repeat(20)}`, ' '] });
  t.equal(thread.status, 422);
  t.match(thread.body.error.fields, { 'content.1': /291 weighted/, 'content.2': /empty/ }, 'each part by its path');
  t.notOk('content.0' in thread.body.error.fields);

  t.match((await ada.json('POST', '/api/content/compose', { kind: 'thread', content: ['only one'] })).body.error.fields, { content: String });
  t.match((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: ['a', 'b'] })).body.error.fields, { content: /one text/ });
  t.match((await ada.json('POST', '/api/content/compose', { kind: 'poem', content: 'x' })).body.error.fields, { kind: /tweet or thread/ });
  t.match((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'x', scheduledFor: Date.now() - DAY })).body.error.fields, { scheduledFor: /past/ });
  t.match((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'x', scheduledFor: '9am' })).body.error.fields, { scheduledFor: /epoch/ });
  t.match((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'x', media: ['../etc'] })).body.error.fields, { 'media.0': /media id/ });
  t.equal((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'x', text: 'legacy' })).status, 422, 'unknown fields are refused');
  t.equal((await ada.json('GET', '/api/content/scheduled')).body.items.length, 4, 'nothing refused was stored');

  t.equal((await ada.json('PATCH', '/api/settings', { mode: 'composer' })).status, 200);
  t.match((await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'Composer mode reviews everything' })).body, { outcome: 'queued_for_approval', item: { status: 'pending' } }, 'composer mode queues even with approval off');

  server.host.setCeilings(tenantId, { ...NO_PLAN_CEILINGS, plan: 'growth', readOnly: true });
  const refused = await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'after the end' });
  t.equal(refused.status, 409);
  t.equal(refused.body.error.code, 'read_only');
  t.equal((await ada.json('POST', '/api/content/drafts', { kind: 'tweet', content: 'a draft' })).body.error.code, 'read_only');
  t.equal((await ada.json('DELETE', `/api/content/scheduled/${scheduled.body.item.id}`)).body.error.code, 'read_only');
  t.equal((await ada.json('GET', '/api/content/scheduled')).status, 200, 'still readable');
});

t.test('scheduled items and drafts: edit and move while scheduled, cancel, 404 and 409, schedule and publish drafts', async (t) => {
  const { ada, events } = await setup(t);
  await ada.json('PATCH', '/api/settings', { approval_mode: false });
  const at = Date.now() + 3 * HOUR;
  const { id } = (await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'First take', scheduledFor: at })).body.item;

  const edited = await ada.json('PATCH', `/api/content/scheduled/${id}`, { content: 'Second take', scheduledFor: at + HOUR });
  t.equal(edited.status, 200);
  t.match(edited.body, { id, status: 'scheduled', content: 'Second take', scheduledFor: at + HOUR });
  const tooLong = await ada.json('PATCH', `/api/content/scheduled/${id}`, { content: 'z'.repeat(281), scheduledFor: at });
  t.equal(tooLong.status, 422);
  t.match(tooLong.body.error.fields, { content: /281 weighted/ });
  t.match((await ada.json('GET', '/api/content/scheduled')).body.items[0], { content: 'Second take', scheduledFor: at + HOUR }, 'all or nothing: the time did not move');
  t.match((await ada.json('PATCH', `/api/content/scheduled/${id}`, { content: ['a', 'b'] })).body.error.fields, { content: /one text/ });
  t.match((await ada.json('PATCH', `/api/content/scheduled/${id}`, {})).body.error.fields, { '(body)': /must change/ });
  t.equal((await ada.json('PATCH', '/api/content/scheduled/999', { content: 'x' })).status, 404);
  t.equal((await ada.json('PATCH', '/api/content/scheduled/abc', { content: 'x' })).status, 404);
  t.equal((await ada.json('DELETE', '/api/content/scheduled/999')).status, 404);

  const cancelled = await ada.json('DELETE', `/api/content/scheduled/${id}`);
  t.match(cancelled, { status: 200, body: { id, status: 'cancelled' } });
  const late = await ada.json('PATCH', `/api/content/scheduled/${id}`, { content: 'Third take' });
  t.match(late, { status: 409, body: { error: { code: 'invalid_state' } } }, 'only while scheduled');
  t.equal((await ada.json('DELETE', `/api/content/scheduled/${id}`)).status, 409);
  t.same((await ada.json('GET', '/api/content/scheduled')).body.items, [], 'cancelled items leave the default list');
  t.equal((await ada.json('GET', '/api/content/scheduled?statuses=cancelled')).body.items[0].id, id);
  t.match((await ada.json('GET', '/api/content/scheduled?statuses=gone')).body.error.fields, { 'statuses.0': String });

  // Drafts.
  const tweetDraft = await ada.json('POST', '/api/content/drafts', { kind: 'tweet', content: 'Half an idea' });
  t.match(tweetDraft, { status: 201, body: { status: 'draft', scheduledFor: null, content: 'Half an idea' } });
  const threadDraft = (await ada.json('POST', '/api/content/drafts', { kind: 'thread', content: ['Part one', 'Part two'], topic: 'pricing' })).body;
  t.match((await ada.json('POST', '/api/content/drafts', { kind: 'tweet', content: 'y'.repeat(300) })).body.error.fields, { content: /300 weighted/ }, 'never more than X would take');
  const page1 = await ada.json('GET', '/api/content/drafts?limit=1');
  t.same(page1.body.items.map((d: { id: number }) => d.id), [threadDraft.id], 'newest first');
  t.equal(page1.body.nextCursor, threadDraft.id);
  const page2 = await ada.json('GET', `/api/content/drafts?limit=1&before=${page1.body.nextCursor}`);
  t.same(page2.body.items.map((d: { id: number }) => d.id), [tweetDraft.body.id]);
  t.equal(page2.body.nextCursor, null);
  t.equal((await ada.json('GET', '/api/content/drafts?page=2')).status, 422, 'unknown query parameters are refused');

  t.match((await ada.json('PATCH', `/api/content/drafts/${threadDraft.id}`, { content: ['Part one', 'Part two, better'] })).body, { content: ['Part one', 'Part two, better'], status: 'draft' });
  t.match((await ada.json('PATCH', `/api/content/drafts/${threadDraft.id}`, { content: 'not a thread' })).body.error.fields, { content: /2 to 25 parts/ });
  t.equal((await ada.json('PATCH', '/api/content/drafts/999', { content: 'x' })).status, 404);

  const moved = await ada.json('POST', `/api/content/drafts/${threadDraft.id}/schedule`, { scheduledFor: at });
  t.match(moved, { status: 200, body: { id: threadDraft.id, status: 'scheduled', scheduledFor: at } });
  await until(() => events.some((e) => e.kind === 'runtime.content_scheduled' && (e.data as { id: number }).id === threadDraft.id));
  t.equal((await ada.json('PATCH', `/api/content/drafts/${threadDraft.id}`, { content: ['a', 'b'] })).status, 409, 'no longer a draft');
  t.equal((await ada.json('POST', `/api/content/drafts/${threadDraft.id}/schedule`, { scheduledFor: at })).status, 409);
  t.equal((await ada.json('DELETE', `/api/content/drafts/${threadDraft.id}`)).status, 409);
  t.match((await ada.json('POST', `/api/content/drafts/${tweetDraft.body.id}/schedule`, {})).body.error.fields, { scheduledFor: String });
  t.same((await ada.json('GET', '/api/content/scheduled')).body.items.map((i: { id: number }) => i.id), [threadDraft.id]);

  const published = await ada.json('POST', `/api/content/drafts/${tweetDraft.body.id}/publish`);
  t.equal(published.status, 200);
  t.match(published.body, { id: tweetDraft.body.id, status: 'scheduled' });
  t.ok(Math.abs(published.body.scheduledFor - Date.now()) < 60_000, 'publish schedules it for now: the poster paces it');
  t.equal((await ada.json('POST', `/api/content/drafts/${tweetDraft.body.id}/publish`)).status, 409);
  t.equal((await ada.json('POST', '/api/content/drafts/999/publish')).status, 404);

  const spare = (await ada.json('POST', '/api/content/drafts', { kind: 'tweet', content: 'Spare' })).body;
  t.match((await ada.json('DELETE', `/api/content/drafts/${spare.id}`)).body, { status: 'cancelled' });
  t.same((await ada.json('GET', '/api/content/drafts')).body.items, [], 'deleted and scheduled drafts are no longer drafts');
});

t.test('what was posted: tweets and threads with X ids, status, error and measured performance, paged', async (t) => {
  const { ada, withDb } = await setup(t);
  await ada.json('GET', '/api/content/tweets'); // creates the tenant DB
  const base = Date.now() - 3 * DAY;
  await withDb((db) => {
    db.prepare("INSERT INTO original_tweets (tweet_id, content, topic, format, source, posted_at) VALUES ('1001', 'Old tweet', 'pricing', 'tip', 'content', ?), ('1002', 'New tweet', NULL, NULL, 'manual', ?)").run(base, base + HOUR);
    db.prepare("INSERT INTO post_metrics (tweet_id, kind, likes, retweets, replies, quotes, impressions, score, measured_at) VALUES ('1001', 'tweet', 12, 3, 2, 1, 900, 41.5, ?)").run(base + DAY);
    db.prepare("INSERT INTO threads (id, topic, structure, source, status, tweet_count, posted_count, root_tweet_id, last_error, created_at, updated_at) VALUES (1, 'onboarding', 'listicle', 'content', 'partial', 3, 2, '2001', 'X said 503', ?, ?)").run(base, base);
    db.prepare("INSERT INTO thread_tweets (thread_id, position, content, tweet_id, posted_at) VALUES (1, 0, 'Intro', '2001', ?), (1, 1, 'Middle', '2002', ?), (1, 2, 'End', NULL, NULL)").run(base, base + 60_000);
    db.prepare("INSERT INTO post_metrics (tweet_id, kind, likes, retweets, replies, quotes, impressions, score, measured_at) VALUES ('2001', 'thread', 30, 5, 4, 0, 2000, 77, ?)").run(base + DAY);
  });

  const first = await ada.json('GET', '/api/content/tweets?limit=1');
  t.equal(first.status, 200);
  t.match(first.body.items, [{ tweetId: '1002', status: 'posted', content: 'New tweet', source: 'manual', postedAt: base + HOUR, performance: null }]);
  const second = await ada.json('GET', `/api/content/tweets?limit=1&before=${first.body.nextCursor}`);
  t.match(second.body.items, [{ tweetId: '1001', topic: 'pricing', format: 'tip', performance: { score: 41.5, likes: 12, impressions: 900, measuredAt: base + DAY } }]);
  t.equal(second.body.nextCursor, null);
  t.match((await ada.json('GET', '/api/content/tweets?limit=0')).body.error.fields, { limit: /at least 1/ });

  const threads = await ada.json('GET', '/api/content/threads');
  t.match(threads.body.items, [
    {
      id: 1,
      status: 'partial',
      topic: 'onboarding',
      rootTweetId: '2001',
      error: 'X said 503',
      postedCount: 2,
      parts: [
        { position: 0, content: 'Intro', tweetId: '2001' },
        { position: 1, content: 'Middle', tweetId: '2002' },
        { position: 2, content: 'End', tweetId: null },
      ],
      performance: { score: 77 },
    },
  ]);
});

t.test('calendar: posts, replies with the real author, threads as parts, approvals and scheduled items, in Europe/Paris across a DST change', async (t) => {
  const { ada, withDb } = await setup(t);
  t.equal((await ada.json('PATCH', '/api/settings', { timezone: 'Europe/Paris', 'schedule.preferred_times': ['09:00'], approval_mode: false })).status, 200);
  // Paris springs forward on 28 March 2027: 09:00 is 08:00 UTC the day before and 07:00 UTC the day after.
  const paris = (iso: string) => DateTime.fromISO(iso, { zone: 'Europe/Paris' }).toMillis();
  const before = paris('2027-03-27T09:00');
  const after = paris('2027-03-29T09:00');
  t.equal(before, Date.UTC(2027, 2, 27, 8));
  t.equal(after, Date.UTC(2027, 2, 29, 7));
  const a = (await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'Before the change', scheduledFor: before })).body.item;
  const b = (await ada.json('POST', '/api/content/compose', { kind: 'thread', content: ['After', 'the change'], scheduledFor: after, topic: 'time' })).body.item;

  const week = await ada.json('GET', `/api/content/calendar?from=${paris('2027-03-27T00:00')}&to=${paris('2027-03-30T00:00')}`);
  t.equal(week.status, 200);
  t.equal(week.body.timeZone, 'Europe/Paris');
  t.same(
    week.body.days.map((d: { date: string; start: number; end: number }) => [d.date, (d.end - d.start) / HOUR]),
    [['2027-03-27', 24], ['2027-03-28', 23], ['2027-03-29', 24]],
    'the DST day has 23 hours',
  );
  t.same(week.body.days.map((d: { slots: number[] }) => d.slots), [[before], [paris('2027-03-28T09:00')], [after]], 'slots at 09:00 local on each side of the change');
  t.match(week.body.entries, [
    { origin: 'scheduled', id: a.id, kind: 'tweet', source: 'manual', status: 'scheduled', at: before, local: '2027-03-27T09:00', content: 'Before the change' },
    { origin: 'scheduled', id: b.id, kind: 'thread', at: after, local: '2027-03-29T09:00', content: ['After', 'the change'], topic: 'time', performanceScore: null },
  ]);
  t.equal(week.body.entries.length, 2);

  // What was posted, and what waits for approval, a few days ago.
  const base = Date.now() - 3 * DAY;
  await withDb((db) => {
    db.prepare("INSERT INTO original_tweets (tweet_id, content, topic, source, posted_at) VALUES ('1001', 'A posted tweet', 'pricing', 'content', ?)").run(base);
    db.prepare("INSERT INTO post_metrics (tweet_id, kind, likes, retweets, replies, quotes, impressions, score, measured_at) VALUES ('1001', 'tweet', 1, 0, 0, 0, 10, 12.25, ?)").run(base + DAY);
    db.prepare("INSERT INTO replies (tweet_id, target_tweet_id, target_author_id, target_author_username, source, content, posted_at) VALUES ('3001', '9001', '77', 'grace', 'discovery', 'Good point', ?)").run(base + HOUR);
    db.prepare("INSERT INTO threads (id, topic, source, status, tweet_count, posted_count, root_tweet_id, created_at, updated_at, posted_at) VALUES (1, 'onboarding', 'content', 'posted', 2, 2, '2001', ?, ?, ?)").run(base, base, base + 2 * HOUR + 1000);
    db.prepare("INSERT INTO thread_tweets (thread_id, position, content, tweet_id, posted_at) VALUES (1, 0, 'Intro', '2001', ?), (1, 1, 'Outro', '2002', ?)").run(base + 2 * HOUR, base + 2 * HOUR + 1000);
    db.prepare("INSERT INTO approval_queue (kind, status, content, source, target_tweet_id, target_author_id, target_author_username, created_at, updated_at) VALUES ('reply', 'pending', 'Pending answer', 'mention', '9002', '78', 'linus', ?, ?)").run(base + 3 * HOUR, base + 3 * HOUR);
  });
  const past = await ada.json('GET', `/api/content/calendar?from=${base}&to=${base + DAY}`);
  t.equal(past.status, 200);
  t.match(past.body.entries, [
    { origin: 'posted', kind: 'tweet', source: 'content', status: 'posted', at: base, tweetId: '1001', topic: 'pricing', performanceScore: 12.25 },
    { origin: 'posted', kind: 'reply', source: 'discovery', at: base + HOUR, content: 'Good point', targetAuthor: 'grace', targetTweetId: '9001', tweetId: '3001', performanceScore: null },
    { origin: 'posted', kind: 'thread', status: 'posted', at: base + 2 * HOUR, content: ['Intro', 'Outro'], topic: 'onboarding', tweetId: '2001' },
    { origin: 'approval', kind: 'reply', status: 'pending', source: 'mention', at: base + 3 * HOUR, content: 'Pending answer', targetAuthor: 'linus' },
  ]);
  t.equal(past.body.entries.length, 4);

  const f = (query: string) => ada.json('GET', `/api/content/calendar?${query}`);
  t.match((await f(`from=${base}`)).body.error.fields, { to: /required/ });
  t.match((await f(`from=${base}&to=${base}`)).body.error.fields, { to: /after from/ });
  t.match((await f(`from=${base}&to=${base + 63 * DAY}`)).body.error.fields, { to: /62 days/ });
  t.match((await f('from=2027-03-27&to=2027-03-30')).body.error.fields, { from: /epoch/, to: /epoch/ }, 'ISO strings are not accepted: times are epoch ms');
  t.match((await f(`from=${base}&to=${base + DAY}&zone=UTC`)).body.error.fields, { zone: /not a known parameter/ }, 'unknown query parameters are refused');
});

t.test('schedule: the settings in the tenant zone and the next free slots, which compose fills in turn', async (t) => {
  const { ada } = await setup(t);
  await ada.json('PATCH', '/api/settings', { approval_mode: false, 'pacing.min_delay_seconds': 60, 'pacing.max_delay_seconds': 120 });
  const interval = (await ada.json('GET', '/api/content/schedule')).body;
  t.match(interval, { timeZone: 'UTC', activeHours: { start: 8, end: 22 }, slotMode: false, approvalMode: false, threadDay: null, threadTime: '10:00' });
  t.equal(interval.nextFreeSlots.length, 5);
  for (let i = 1; i < 5; i++) t.ok(interval.nextFreeSlots[i] - interval.nextFreeSlots[i - 1] >= 120_000, 'interval mode: a pacing pause apart');

  t.equal((await ada.json('PATCH', '/api/settings', { timezone: 'America/New_York', 'schedule.preferred_times': ['09:00', '13:00'], 'schedule.thread_preferred_day': 'tue' })).status, 200);
  const slots = (await ada.json('GET', '/api/content/schedule')).body;
  t.match(slots, { timeZone: 'America/New_York', slotMode: true, preferredTimes: ['09:00', '13:00'], threadDay: 'tue' });
  const local = (at: number) => DateTime.fromMillis(at, { zone: 'America/New_York' }).toFormat('HH:mm');
  t.ok(slots.nextFreeSlots.every((at: number) => ['09:00', '13:00'].includes(local(at)) || at <= Date.now() + 15 * 60_000), 'preferred times in the tenant zone');
  const first = slots.nextFreeSlots[0] as number;

  const composed = (await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'Next slot please' })).body.item;
  t.ok(Math.abs(composed.scheduledFor - first) <= 15 * 60_000 + 5_000, 'placed in the first free slot (±15 min)');
  const after = (await ada.json('GET', '/api/content/schedule')).body;
  t.notOk(after.nextFreeSlots.includes(first), 'the slot it took is no longer free');
  t.equal(after.nextFreeSlots[0], slots.nextFreeSlots[1]);
});

t.test('in the sandbox: a published draft tweet and thread reach the simulated X through the scheduled poster and come back as posted', async (t) => {
  t.setTimeout(300_000);
  const server = await serveTemp(t);
  const { browser } = await readyUser(server.base, 'composer@example.com', 'pricekit_hq');
  // Composer mode: the autopilot writes nothing, so the only posts are ours; a short pacing keeps the test short.
  t.equal((await browser.json('PATCH', '/api/settings', { mode: 'composer', 'pacing.min_delay_seconds': 10, 'pacing.max_delay_seconds': 10 })).status, 200);
  t.equal((await browser.json('POST', '/api/runtime/start')).status, 200);

  const text = `Pricing pages that convert 🚀 ${Date.now()}`;
  const draft = (await browser.json('POST', '/api/content/drafts', { kind: 'tweet', content: text })).body;
  t.equal((await browser.json('POST', `/api/content/drafts/${draft.id}/publish`)).status, 200);
  // Publishing wakes the scheduled poster (it idles up to 5 minutes between looks otherwise).
  const tweet = await eventually(async () => (await browser.json('GET', '/api/content/tweets')).body.items.find((i: { scheduledId: number }) => i.scheduledId === draft.id), 90_000, 500);
  t.match(tweet, { status: 'posted', source: 'scheduled', content: text, tweetId: /^\d+$/, performance: null });
  t.match((await browser.json('GET', '/api/content/scheduled?statuses=posted')).body.items, [{ id: draft.id, status: 'posted', postedTweetId: tweet.tweetId }]);
  const day = await browser.json('GET', `/api/content/calendar?from=${tweet.postedAt}&to=${tweet.postedAt + 1}`);
  t.match(day.body.entries, [{ origin: 'posted', kind: 'tweet', source: 'scheduled', status: 'posted', tweetId: tweet.tweetId, scheduledId: draft.id }]);
  t.equal(day.body.entries.length, 1, 'once, as the post');

  const threadDraft = (await browser.json('POST', '/api/content/drafts', { kind: 'thread', content: [`Three pricing lessons ${Date.now()}`, 'One: charge more.', 'Two: fewer tiers.'], topic: 'saas pricing' })).body;
  t.equal((await browser.json('POST', `/api/content/drafts/${threadDraft.id}/publish`)).status, 200);
  const thread = await eventually(async () => (await browser.json('GET', '/api/content/threads')).body.items.find((i: { scheduledId: number; status: string }) => i.scheduledId === threadDraft.id && i.status === 'posted'), 120_000, 500);
  t.equal(thread.parts.length, 3);
  t.ok(thread.parts.every((part: { tweetId: string | null }) => part.tweetId), 'every part has its X id');
  t.equal(thread.rootTweetId, thread.parts[0].tweetId);
  t.match(thread, { topic: 'saas pricing', postedCount: 3, error: null });
});
