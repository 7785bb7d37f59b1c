import t from 'tap';
import {
  approvalStats,
  approve,
  approveAll,
  deferApproval,
  editApproval,
  enqueueApproval,
  expireStaleReplies,
  getApproval,
  listApprovals,
  nextApprovedDue,
  reject,
  retryApproval,
} from '../../../tenant-worker/runtime/approvals.js';
import { beginIntent, recordFailed, recordPosted } from '../../../tenant-worker/runtime/intents.js';
import { retryDelayMs } from '../../../tenant-worker/runtime/retry.js';
import { runtimeContext } from './helpers.js';

const reply = (tweetId: string, content = `Reply to ${tweetId}`) =>
  ({ kind: 'reply', content, source: 'discovery', target: { tweetId, authorId: `a${tweetId}`, authorUsername: `user${tweetId}`, text: 'the post' }, score: 72, topic: null }) as const;

t.test('queued items keep score, author and topic; the list runs oldest first with a cursor', async (t) => {
  const { db, context, events } = runtimeContext(t);
  const first = enqueueApproval(context, reply('1'));
  enqueueApproval(context, { kind: 'tweet', content: 'A tweet', source: 'content', topic: 'sqlite', format: 'tip' });
  enqueueApproval(context, { kind: 'thread', content: ['one', 'two', 'three'], source: 'thread', topic: 'wal' });
  t.match(first, { ok: true, value: { status: 'pending', score: 72, target: { authorUsername: 'user1' } } });
  t.match(events[0], { kind: 'runtime.approval_queued', data: { kind: 'reply', targetAuthor: 'user1', score: 72 } });
  const page = listApprovals(db, { limit: 2 });
  t.same(page.items.map((i) => i.kind), ['reply', 'tweet']);
  const rest = listApprovals(db, { limit: 2, after: page.nextCursor });
  t.same(rest.items.map((i) => i.content), [['one', 'two', 'three']]);
  t.equal(rest.nextCursor, null);
  t.same(listApprovals(db, { kinds: ['thread'] }).items.length, 1);
});

t.test('content is checked with X weighting; a reply needs its target; threads need parts', async (t) => {
  const { context } = runtimeContext(t);
  t.match(enqueueApproval(context, { kind: 'tweet', content: 'x'.repeat(281), source: 'compose' }), { ok: false, code: 'invalid_content', message: /281/ });
  t.match(enqueueApproval(context, { kind: 'reply', content: 'hi', source: 'compose' }), { ok: false, code: 'invalid_content' });
  t.match(enqueueApproval(context, { kind: 'thread', content: ['only one'], source: 'compose' }), { ok: false, code: 'invalid_content' });
});

t.test('pending → approved (with an edit) or rejected; approve-all; the wrong state is refused', async (t) => {
  const { db, context, clock, events } = runtimeContext(t);
  const a = enqueueApproval(context, reply('1'));
  const b = enqueueApproval(context, reply('2'));
  const c = enqueueApproval(context, reply('3'));
  if (!a.ok || !b.ok || !c.ok) throw new Error('setup');
  clock.now += 1000;
  t.match(approve(context, a.value.id, { content: 'Edited reply' }), { ok: true, value: { status: 'approved', content: 'Edited reply', reviewedAt: clock.now } });
  t.match(approve(context, a.value.id), { ok: false, code: 'invalid_state' });
  t.match(reject(context, b.value.id), { ok: true, value: { status: 'rejected' } });
  t.match(editApproval(context, b.value.id, { content: 'too late' }), { ok: false, code: 'invalid_state' });
  t.match(approve(context, 999), { ok: false, code: 'not_found' });
  t.same(approveAll(context), [c.value.id]);
  t.match(events.at(-1), { kind: 'runtime.approval_updated', data: { ids: [c.value.id], status: 'approved' } });
  t.match(approvalStats(db), { pending: 0, approved: 2, rejected: 1 });
});

t.test('approved → posted records the reply with its X id, claims the limit and logs one vocabulary', async (t) => {
  const { db, context, events } = runtimeContext(t);
  const item = enqueueApproval(context, reply('10'));
  if (!item.ok) throw new Error('setup');
  approve(context, item.value.id);
  const due = nextApprovedDue(db, context.now())!;
  const intent = beginIntent(context, {
    kind: 'reply', text: due.content as string, inReplyTo: '10', source: 'discovery', approvalId: due.id,
    claim: { kind: 'reply', userSetting: 5 }, details: { targetAuthorId: 'a10', targetAuthorUsername: 'user10', score: 72 },
  });
  if (!intent.ok) throw new Error(intent.message);
  t.equal(getApproval(db, due.id)!.status, 'posting');
  t.equal(nextApprovedDue(db, context.now()), null, 'an item being posted is not picked again');
  recordPosted(context, intent.value.id, '1900000000000000010');
  t.match(getApproval(db, due.id), { status: 'posted', postedTweetId: '1900000000000000010' });
  t.match(db.prepare('SELECT tweet_id, target_tweet_id, target_author_id, source, approval_id FROM replies').get(), {
    tweet_id: '1900000000000000010', target_tweet_id: '10', target_author_id: 'a10', source: 'discovery', approval_id: due.id,
  });
  t.same(context.limits.usage('reply', 5), { used: 1, limit: 5, window: 'day' }, 'the approval poster counts against the cap');
  t.match(db.prepare('SELECT action, status, source, tweet_id FROM action_log').all(), [{ action: 'reply', status: 'success', source: 'discovery', tweet_id: '1900000000000000010' }]);
  t.match(events.slice(-2), [{ kind: 'runtime.approval_updated', data: { status: 'posted' } }, { kind: 'runtime.action_performed', data: { action: 'reply', targetAuthor: 'user10' } }]);
});

t.test('a failing post backs off with its error shown, becomes failed after 5 attempts, and the user can retry', async (t) => {
  const { db, context, clock, events } = runtimeContext(t);
  const item = enqueueApproval(context, { kind: 'tweet', content: 'Hello X', source: 'content', approved: true });
  if (!item.ok) throw new Error('setup');
  const attempt = () => {
    const due = nextApprovedDue(db, clock.now);
    if (!due) return null;
    const intent = beginIntent(context, { kind: 'tweet', text: 'Hello X', source: 'content', approvalId: due.id, claim: { kind: 'tweet', userSetting: 6 } });
    if (!intent.ok) throw new Error(intent.message);
    recordFailed(context, intent.value.id, 'X answered 503 Service Unavailable', { permanent: false });
    return getApproval(db, due.id)!;
  };
  const first = attempt()!;
  t.match(first, { status: 'approved', attempts: 1, lastError: /503/, nextAttemptAt: clock.now + 60_000 });
  t.equal(nextApprovedDue(db, clock.now), null, 'not retried every 15 s');
  t.same(context.limits.usage('tweet', 6).used, 0, 'the claim was given back');
  for (const n of [2, 3, 4]) {
    clock.now += retryDelayMs(n - 1);
    t.match(attempt(), { status: 'approved', attempts: n });
  }
  clock.now += retryDelayMs(4);
  t.match(attempt(), { status: 'failed', attempts: 5, nextAttemptAt: null, lastError: /503/ });
  t.match(events.at(-1), { kind: 'runtime.approval_updated', data: { status: 'failed', error: /503/ } });
  t.equal(db.prepare<[], { n: number }>("SELECT count(*) AS n FROM action_log WHERE action = 'tweet' AND status = 'failure'").get()!.n, 5);
  t.match(retryApproval(context, item.value.id), { ok: true, value: { status: 'approved', attempts: 0, nextAttemptAt: null } });
  t.ok(nextApprovedDue(db, clock.now));
});

t.test('an error no retry can fix fails at once; a deferral waits without spending an attempt', async (t) => {
  const { db, context, clock } = runtimeContext(t);
  const a = enqueueApproval(context, { kind: 'tweet', content: 'Duplicate', source: 'compose', approved: true });
  if (!a.ok) throw new Error('setup');
  const intent = beginIntent(context, { kind: 'tweet', text: 'Duplicate', source: 'manual', approvalId: a.value.id });
  if (!intent.ok) throw new Error('setup');
  recordFailed(context, intent.value.id, 'X answered 403 Forbidden: duplicate content', { permanent: true });
  t.match(getApproval(db, a.value.id), { status: 'failed', attempts: 1 });
  const b = enqueueApproval(context, { kind: 'tweet', content: 'Later', source: 'compose', approved: true });
  if (!b.ok) throw new Error('setup');
  deferApproval(context, b.value.id, clock.now + 3_600_000, "Today's tweet limit is reached.");
  t.match(getApproval(db, b.value.id), { status: 'approved', attempts: 0, lastError: /limit/ });
  t.equal(nextApprovedDue(db, clock.now), null);
  t.ok(nextApprovedDue(db, clock.now + 3_600_000));
});

t.test('an approved item with a time waits for it; stale pending replies expire, tweets do not', async (t) => {
  const { db, context, clock } = runtimeContext(t);
  enqueueApproval(context, { kind: 'tweet', content: 'At nine', source: 'compose', approved: true, notBefore: clock.now + 7_200_000 });
  t.equal(nextApprovedDue(db, clock.now), null);
  t.ok(nextApprovedDue(db, clock.now + 7_200_000));
  const old = enqueueApproval(context, reply('20'));
  enqueueApproval(context, { kind: 'tweet', content: 'Evergreen', source: 'content' });
  clock.now += 25 * 3_600_000;
  t.same(expireStaleReplies(context), [old.ok ? old.value.id : -1]);
  t.match(approvalStats(db), { pending: 1, expired: 1 });
});

t.test('the limit is claimed when posting: a full day refuses without changing the item', async (t) => {
  const { db, context } = runtimeContext(t);
  const item = enqueueApproval(context, { kind: 'tweet', content: 'One more', source: 'compose', approved: true });
  if (!item.ok) throw new Error('setup');
  context.limits.claim('tweet', 1);
  const refused = beginIntent(context, { kind: 'tweet', text: 'One more', source: 'manual', approvalId: item.value.id, claim: { kind: 'tweet', userSetting: 1 } });
  t.match(refused, { ok: false, code: 'limit_reached' });
  t.equal(getApproval(db, item.value.id)!.status, 'approved', 'rolled back with the refused claim');
  t.equal(db.prepare<[], { n: number }>('SELECT count(*) AS n FROM post_intents').get()!.n, 0);
});
