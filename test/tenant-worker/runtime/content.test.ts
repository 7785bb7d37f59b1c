import t from 'tap';
import { countActions, listActions, logAction } from '../../../tenant-worker/runtime/action-log.js';
import { enqueueApproval } from '../../../tenant-worker/runtime/approvals.js';
import { calendar, cancelScheduled, createDraft, editScheduled, listDrafts, nextScheduledAt, retryScheduled, schedule, unschedule } from '../../../tenant-worker/runtime/scheduled.js';
import { dueForMeasurement, memorySize, performanceScore, pickTopic, recentTopics, recordMeasurement, topicScores } from '../../../tenant-worker/runtime/topics.js';
import { runtimeContext, sequence } from './helpers.js';

const HOUR = 3_600_000;

t.test('drafts: create, edit, schedule, unschedule, cancel; a scheduled item always has a time', async (t) => {
  const { db, context, clock, events } = runtimeContext(t);
  const draft = createDraft(context, { kind: 'thread', content: ['Part one', 'Part two'], source: 'assist' });
  if (!draft.ok) throw new Error('setup');
  t.same(listDrafts(db).map((d) => d.id), [draft.value.id]);
  t.match(editScheduled(context, draft.value.id, { content: ['Part one!', 'Part two', 'Part three'] }), { ok: true, value: { content: ['Part one!', 'Part two', 'Part three'] } });
  t.match(schedule(context, draft.value.id, clock.now + HOUR), { ok: true, value: { status: 'scheduled', scheduledFor: clock.now + HOUR } });
  t.match(events.at(-1), { kind: 'runtime.content_scheduled', data: { status: 'scheduled', kind: 'thread' } });
  t.equal(nextScheduledAt(db), clock.now + HOUR);
  t.match(unschedule(context, draft.value.id), { ok: true, value: { status: 'draft' } });
  t.throws(() => db.prepare("UPDATE scheduled_content SET status = 'scheduled', scheduled_for = NULL").run(), /CHECK/);
  t.match(cancelScheduled(context, draft.value.id), { ok: true, value: { status: 'cancelled' } });
  t.match(schedule(context, draft.value.id, clock.now), { ok: false, code: 'invalid_state' });
  t.match(editScheduled(context, draft.value.id, { content: ['x', 'y'] }), { ok: false, code: 'invalid_state' });
  t.match(retryScheduled(context, draft.value.id), { ok: false, code: 'invalid_state' }, 'only a failed item is retried');
});

t.test('the calendar merges posted, queued and scheduled items in a range, by time', async (t) => {
  const { db, context, clock } = runtimeContext(t);
  const start = clock.now;
  db.prepare("INSERT INTO original_tweets (tweet_id, content, topic, source, posted_at) VALUES ('1', 'posted tweet', 'wal', 'content', ?)").run(start + HOUR);
  db.prepare("INSERT INTO replies (tweet_id, target_tweet_id, target_author_id, target_author_username, source, content, posted_at) VALUES ('2', '20', 'a', 'dave', 'mention', 'a reply', ?)").run(start + 2 * HOUR);
  enqueueApproval(context, { kind: 'tweet', content: 'queued with a time', source: 'compose', notBefore: start + 3 * HOUR });
  const draft = createDraft(context, { kind: 'tweet', content: 'scheduled' });
  if (draft.ok) schedule(context, draft.value.id, start + 4 * HOUR);
  createDraft(context, { kind: 'tweet', content: 'a draft is not on the calendar' });
  const entries = calendar(db, start, start + 5 * HOUR);
  t.same(entries.map((e) => [e.kind, e.origin, e.content]), [
    ['tweet', 'posted', 'posted tweet'],
    ['reply', 'posted', 'a reply'],
    ['tweet', 'approval', 'queued with a time'],
    ['tweet', 'scheduled', 'scheduled'],
  ]);
  t.equal(entries[1]!.targetAuthor, 'dave');
  t.same(calendar(db, start + 2 * HOUR, start + 3 * HOUR).map((e) => e.kind), ['reply'], 'the range is [from, to)');
});

t.test('the activity feed pages newest first with filters; counts use one vocabulary', async (t) => {
  const { db, clock } = runtimeContext(t);
  for (let i = 0; i < 5; i++) logAction(db, clock.now + i, { action: 'reply', status: 'success', source: i % 2 ? 'mention' : 'discovery', message: `reply ${i}` });
  logAction(db, clock.now + 5, { action: 'reply', status: 'failure', source: 'approval', message: 'failed' });
  logAction(db, clock.now + 6, { action: 'search', status: 'success', source: 'discovery', message: 'searched' });
  const first = listActions(db, { actions: ['reply'], limit: 4 });
  t.same(first.items.map((i) => i.message), ['failed', 'reply 4', 'reply 3', 'reply 2']);
  const second = listActions(db, { actions: ['reply'], limit: 4, before: first.nextCursor });
  t.same(second.items.map((i) => i.message), ['reply 1', 'reply 0']);
  t.equal(second.nextCursor, null);
  t.same(listActions(db, { statuses: ['failure'] }).items.map((i) => i.message), ['failed']);
  t.same(listActions(db, { sources: ['mention'] }).items.length, 2);
  t.same(countActions(db, clock.now, clock.now + 100), { reply: { success: 5, failure: 1 }, search: { success: 1 } });
  t.throws(() => logAction(db, 0, { action: 'reply_posted' as 'reply', status: 'success', source: 'system', message: '' }), /CHECK/, 'the schema holds the vocabulary');
});

t.test('epsilon-greedy: exploit the best measured topic 80 % of the time, explore otherwise, skip recent ones', async (t) => {
  const topics = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
  const scores = new Map([['b', 5], ['c', 9], ['d', 1]]);
  t.equal(memorySize(8), 4);
  t.equal(memorySize(4), 3);
  t.equal(memorySize(2), 2);
  t.same(pickTopic({ topics, scores, recent: [], random: sequence(0.5) }), { topic: 'c', how: 'exploit' });
  t.same(pickTopic({ topics, scores, recent: ['c'], random: sequence(0.5) }), { topic: 'b', how: 'exploit' }, 'the best one was just used');
  t.same(pickTopic({ topics, scores, recent: [], random: sequence(0.1, 0) }), { topic: 'a', how: 'explore' });
  t.same(pickTopic({ topics, scores: new Map(), recent: ['a', 'b', 'c', 'd'], random: sequence(0.9, 0) }), { topic: 'e', how: 'explore' }, 'no data: explore among the fresh');
  t.same(pickTopic({ topics: ['x', 'y'], scores: new Map(), recent: ['x', 'y'], random: sequence(0.9, 0.6) }), { topic: 'y', how: 'explore' }, 'all used: memory cleared');
  t.equal(pickTopic({ topics: [], scores, recent: [] }), null);
});

t.test('measurements a day after posting feed content scores, which feed topic selection', async (t) => {
  const { db, clock } = runtimeContext(t);
  t.equal(performanceScore({ likes: 10, replies: 2, retweets: 1, impressions: 1000 }), 44);
  const posted = clock.now - 25 * HOUR;
  db.prepare("INSERT INTO original_tweets (tweet_id, content, topic, format, source, posted_at) VALUES ('11', 'x', 'wal', 'tip', 'content', ?), ('12', 'y', 'wal', 'list', 'content', ?), ('13', 'z', 'fts', NULL, 'content', ?)").run(posted, posted + 1, clock.now - HOUR);
  t.same(recentTopics(db), ['fts', 'wal', 'wal']);
  const due = dueForMeasurement(db, clock.now);
  t.same(due.map((d) => d.tweetId), ['11', '12'], 'the post of an hour ago waits');
  recordMeasurement(db, due[0]!, { likes: 10, replies: 2, retweets: 1, quotes: 0, impressions: 1000 }, clock.now);
  recordMeasurement(db, due[1]!, { likes: 0, replies: 0, retweets: 0, quotes: 0, impressions: 1000 }, clock.now);
  recordMeasurement(db, due[1]!, { likes: 99, replies: 0, retweets: 0, quotes: 0, impressions: 1 }, clock.now);
  t.same(dueForMeasurement(db, clock.now), []);
  t.same(topicScores(db), new Map([['wal', 22]]), 'mean over its formats; a second measurement is ignored');
});
