import t from 'tap';
import { enqueueApproval, getApproval, nextApprovedDue } from '../../../tenant-worker/runtime/approvals.js';
import { checkCandidate } from '../../../tenant-worker/runtime/guards.js';
import { beginIntent, isPermanentXError, matchIntent, mayHavePosted, openIntents, recordFailed, recordPosted, reconcileIntent } from '../../../tenant-worker/runtime/intents.js';
import { createScheduled, getScheduled, nextScheduledDue } from '../../../tenant-worker/runtime/scheduled.js';
import { createThread, getThread, nextThreadPart } from '../../../tenant-worker/runtime/threads.js';
import { XApiError, XForbiddenError, XNetworkError } from '../../../tenant-worker/x/errors.js';
import type { XPost } from '../../../tenant-worker/x/types.js';
import { runtimeContext } from './helpers.js';

const iso = (ms: number) => new Date(ms).toISOString();

t.test('a crash after X posted: the restart finds the post and records it instead of posting again', async (t) => {
  const { db, context, clock } = runtimeContext(t);
  const item = enqueueApproval(context, { kind: 'reply', content: 'Cursor pagination & keyset queries scale better: https://example.com/a', source: 'discovery', approved: true, target: { tweetId: '77', authorId: 'a77', authorUsername: 'carol' } });
  if (!item.ok) throw new Error('setup');
  const begun = beginIntent(context, {
    kind: 'reply', text: (item.value.content as string), inReplyTo: '77', source: 'discovery', approvalId: item.value.id,
    claim: { kind: 'reply', userSetting: 5 }, details: { targetAuthorId: 'a77', targetAuthorUsername: 'carol' },
  });
  if (!begun.ok) throw new Error('setup');
  // …the thread dies here, after X created the post and before recordPosted ran.
  clock.now += 60_000;
  const [open] = openIntents(db);
  t.equal(open!.id, begun.value.id);
  t.equal(nextApprovedDue(db, clock.now), null, 'the item stays held while its intent is open');
  t.match(checkCandidate(db, { tweetId: '77', authorId: 'a99', authorUsername: 'x', source: 'discovery' }, { self: { id: '1', username: 'me' }, maxRepliesPerAuthorPerDay: 9, maxTargetRepliesPerDay: 9, timezone: 'UTC' }, clock.now), { reason: 'already_replied' });
  const timeline: XPost[] = [
    { id: '300', text: 'Cursor pagination &amp; keyset queries scale better: https://t.co/abc123', referenced: [{ type: 'replied_to', id: '77' }], createdAt: iso(clock.now - 59_000) },
    { id: '299', text: 'something older', createdAt: iso(clock.now - 3_600_000) },
  ];
  t.equal(reconcileIntent(context, open!, timeline), 'posted');
  t.match(getApproval(db, item.value.id), { status: 'posted', postedTweetId: '300' });
  t.equal(db.prepare<[], { tweet_id: string }>("SELECT tweet_id FROM replies WHERE target_tweet_id = '77'").get()!.tweet_id, '300');
  t.same(openIntents(db), []);
  t.equal(context.limits.usage('reply', 5).used, 1, 'the claim stays: the reply exists');
});

t.test('a crash before X posted: the restart releases the claim and the item is posted later, once', async (t) => {
  const { db, context, clock } = runtimeContext(t);
  const item = enqueueApproval(context, { kind: 'tweet', content: 'WAL mode, explained', source: 'content', approved: true, topic: 'sqlite' });
  if (!item.ok) throw new Error('setup');
  const begun = beginIntent(context, { kind: 'tweet', text: 'WAL mode, explained', source: 'content', approvalId: item.value.id, claim: { kind: 'tweet', userSetting: 6 }, details: { topic: 'sqlite' } });
  if (!begun.ok) throw new Error('setup');
  t.equal(reconcileIntent(context, openIntents(db)[0]!, [{ id: '1', text: 'WAL mode, explained', createdAt: iso(clock.now - 86_400_000) }]), 'not_posted', 'an older twin is not ours');
  t.match(getApproval(db, item.value.id), { status: 'approved', attempts: 1, lastError: /stopped before X answered/ });
  t.equal(context.limits.usage('tweet', 6).used, 0);
  clock.now += 60_000;
  const again = beginIntent(context, { kind: 'tweet', text: 'WAL mode, explained', source: 'content', approvalId: nextApprovedDue(db, clock.now)!.id, claim: { kind: 'tweet', userSetting: 6 }, details: { topic: 'sqlite' } });
  if (!again.ok) throw new Error(again.message);
  recordPosted(context, again.value.id, '500');
  recordPosted(context, again.value.id, '501');
  t.same(db.prepare('SELECT tweet_id, topic FROM original_tweets').all(), [{ tweet_id: '500', topic: 'sqlite' }], 'settling twice changes nothing');
});

t.test('matching undoes X rewriting and respects the reply target', async (t) => {
  const intent = { text: 'A < B && ok', inReplyTo: '5', createdAt: 1_000_000 };
  t.equal(matchIntent(intent, [{ id: '1', text: 'A &lt; B &amp;&amp; ok', referenced: [{ type: 'replied_to', id: '6' }] }]), null, 'another target');
  t.equal(matchIntent(intent, [{ id: '2', text: 'A  &lt; B &amp;&amp; ok\n', referenced: [{ type: 'replied_to', id: '5' }] }]), '2');
  t.equal(matchIntent({ ...intent, inReplyTo: null }, [{ id: '3', text: 'A < B && ok', referenced: [{ type: 'replied_to', id: '5' }] }]), null, 'a standalone tweet is not a reply');
});

t.test('X errors: refusals are final, network failures may have posted', async (t) => {
  t.equal(isPermanentXError(new XForbiddenError(403, 'Forbidden', 'duplicate')), true);
  t.equal(isPermanentXError(new XApiError(400, 'Invalid Request', 'too long')), true);
  t.equal(isPermanentXError(new XApiError(429, 'Too Many Requests', '')), false);
  t.equal(isPermanentXError(new XNetworkError('reset')), false);
  t.equal(mayHavePosted(new XNetworkError('reset')), true);
  t.equal(mayHavePosted(new XApiError(503, 'Unavailable', '')), true);
  t.equal(mayHavePosted(new XForbiddenError(403, 'Forbidden', '')), false);
});

t.test('two replies to one post cannot be in flight at once', async (t) => {
  const { context } = runtimeContext(t);
  const first = beginIntent(context, { kind: 'reply', text: 'one', inReplyTo: '9', source: 'mention', details: { targetAuthorId: 'a' } });
  t.ok(first.ok);
  t.match(beginIntent(context, { kind: 'reply', text: 'two', inReplyTo: '9', source: 'discovery' }), { ok: false, code: 'already_replied' });
  if (first.ok) recordPosted(context, first.value.id, '10');
  t.match(beginIntent(context, { kind: 'reply', text: 'three', inReplyTo: '9', source: 'discovery' }), { ok: false, code: 'already_replied' });
});

t.test('a thread posts as a reply chain; a failure leaves it partial and it resumes where it stopped', async (t) => {
  const { db, context, clock, events } = runtimeContext(t);
  const item = enqueueApproval(context, { kind: 'thread', content: ['Hook', 'Middle', 'CTA'], source: 'thread', approved: true, topic: 'sqlite' });
  if (!item.ok) throw new Error('setup');
  const thread = createThread(context, { parts: item.value.content as string[], topic: 'sqlite', source: 'content', approvalId: item.value.id, weeklyLimit: 1 });
  if (!thread.ok) throw new Error('setup');
  t.match(createThread(context, { parts: ['a', 'b'], source: 'content', weeklyLimit: 1 }), { ok: false, code: 'limit_reached' }, 'the weekly limit is claimed with the thread');
  const post = (id: string) => {
    const part = nextThreadPart(db, thread.value)!;
    const intent = beginIntent(context, { kind: 'thread_tweet', text: part.content, inReplyTo: part.replyTo, source: 'content', approvalId: item.value.id, threadId: part.threadId, position: part.position });
    if (!intent.ok) throw new Error(intent.message);
    if (id === 'fail') recordFailed(context, intent.value.id, 'X answered 503', { permanent: false });
    else recordPosted(context, intent.value.id, id);
    return part;
  };
  t.match(post('100'), { position: 0, replyTo: null });
  t.match(post('fail'), { position: 1, replyTo: '100' });
  t.match(getThread(db, thread.value), { status: 'partial', postedCount: 1, rootTweetId: '100', lastError: /503/ });
  t.match(getApproval(db, item.value.id), { status: 'approved', attempts: 1 });
  t.match(db.prepare("SELECT status FROM action_log WHERE action = 'thread'").get(), { status: 'partial' });
  clock.now += 60_000;
  t.match(post('101'), { position: 1, replyTo: '100' }, 'resumes at the failed part, replying to the last live one');
  t.match(getApproval(db, item.value.id), { status: 'posting' }, 'not posted until every part is');
  t.match(post('102'), { position: 2, replyTo: '101' });
  t.equal(nextThreadPart(db, thread.value), null);
  t.match(getThread(db, thread.value), { status: 'posted', postedCount: 3, parts: [{ tweetId: '100' }, { tweetId: '101' }, { tweetId: '102' }] });
  t.match(getApproval(db, item.value.id), { status: 'posted', postedTweetId: '100' });
  t.match(events.at(-1), { kind: 'runtime.action_performed', data: { action: 'thread', tweetId: '100', content: 'Hook' } });
});

t.test('a thread that never started gives its weekly place back when it fails for good', async (t) => {
  const { context } = runtimeContext(t);
  const thread = createThread(context, { parts: ['a', 'b'], source: 'content', weeklyLimit: 1 });
  if (!thread.ok) throw new Error('setup');
  const intent = beginIntent(context, { kind: 'thread_tweet', text: 'a', source: 'content', threadId: thread.value, position: 0 });
  if (!intent.ok) throw new Error('setup');
  recordFailed(context, intent.value.id, 'X answered 403', { permanent: true });
  t.equal(context.limits.usage('thread', 1).used, 0);
});

t.test('a scheduled tweet is posted at its time through an intent', async (t) => {
  const { db, context, clock } = runtimeContext(t);
  const item = createScheduled(context, { kind: 'tweet', content: 'Launch day' }, clock.now + 3_600_000);
  if (!item.ok) throw new Error('setup');
  t.equal(nextScheduledDue(db, clock.now), null);
  clock.now += 3_600_000;
  const due = nextScheduledDue(db, clock.now)!;
  const intent = beginIntent(context, { kind: 'tweet', text: due.content as string, source: 'scheduled', scheduledId: due.id, claim: { kind: 'tweet', userSetting: 6 } });
  if (!intent.ok) throw new Error('setup');
  t.equal(getScheduled(db, due.id)!.status, 'posting');
  recordPosted(context, intent.value.id, '4242');
  t.match(getScheduled(db, due.id), { status: 'posted', postedTweetId: '4242' });
  t.match(db.prepare('SELECT source, scheduled_id FROM original_tweets').get(), { source: 'scheduled', scheduled_id: due.id });
});
