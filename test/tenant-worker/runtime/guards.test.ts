import t from 'tap';
import type Database from 'better-sqlite3';
import { enqueueApproval } from '../../../tenant-worker/runtime/approvals.js';
import { recordSkip } from '../../../tenant-worker/runtime/action-log.js';
import {
  bannedPhraseIn,
  checkCandidate,
  checkText,
  drawProductMention,
  jaccard,
  limitVerdict,
  mentionAllowance,
  mostSimilar,
  queuedCount,
  similarityTokens,
  type CandidateRules,
  type ReplyTextRules,
} from '../../../tenant-worker/runtime/guards.js';
import { runtimeContext } from './helpers.js';

const rules: CandidateRules = { self: { id: '1', username: 'tuitbot' }, maxRepliesPerAuthorPerDay: 1, maxTargetRepliesPerDay: 2, timezone: 'UTC' };

let serial = 100;
function posted(db: Database.Database, reply: { target?: string; author?: string; source?: string; content?: string; at: number; mentions?: boolean }) {
  serial++;
  db.prepare(
    'INSERT INTO replies (tweet_id, target_tweet_id, target_author_id, target_author_username, source, content, mentions_product, posted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  ).run(`9${serial}`, reply.target ?? `t${serial}`, reply.author ?? `a${serial}`, 'someone', reply.source ?? 'discovery', reply.content ?? `reply number ${serial}`, reply.mentions ? 1 : 0, reply.at);
}

const candidate = (tweetId: string, authorId = '42', source: 'discovery' | 'target' = 'discovery') => ({ tweetId, authorId, authorUsername: 'alice', source });

t.test('never reply to ourselves, by id or by username', async (t) => {
  const { db, clock } = runtimeContext(t);
  t.match(checkCandidate(db, { tweetId: '5', authorId: '1', authorUsername: 'x', source: 'mention' }, rules, clock.now), { ok: false, reason: 'self_reply' });
  t.match(checkCandidate(db, { tweetId: '5', authorId: '7', authorUsername: 'TuitBot', source: 'mention' }, rules, clock.now), { ok: false, reason: 'self_reply' });
});

t.test('never reply twice: posted, queued, or being posted; a rejected reply is not proposed again', async (t) => {
  const { db, clock, context } = runtimeContext(t);
  t.same(checkCandidate(db, candidate('500'), rules, clock.now), { ok: true });
  posted(db, { target: '500', at: clock.now - 86_400_000 * 3 });
  t.match(checkCandidate(db, candidate('500'), rules, clock.now), { ok: false, reason: 'already_replied' });
  t.throws(() => posted(db, { target: '500', at: clock.now }), /UNIQUE/, 'the schema refuses a second reply too');

  const queued = enqueueApproval(context, { kind: 'reply', content: 'hi', source: 'discovery', target: { tweetId: '501', authorId: '43', authorUsername: 'bob' } });
  t.ok(queued.ok);
  t.match(checkCandidate(db, candidate('501', '44'), rules, clock.now), { ok: false, reason: 'already_replied' });
  t.match(enqueueApproval(context, { kind: 'reply', content: 'hello', source: 'discovery', target: { tweetId: '501', authorId: '43', authorUsername: 'bob' } }), { ok: false, code: 'already_queued' });

  db.prepare("INSERT INTO post_intents (kind, text, in_reply_to, source, context, created_at) VALUES ('reply', 'x', '502', 'mention', '{}', 0)").run();
  t.match(checkCandidate(db, candidate('502', '45'), rules, clock.now), { ok: false, reason: 'already_replied' });

  db.prepare("UPDATE approval_queue SET status = 'rejected'").run();
  t.match(checkCandidate(db, candidate('501', '46'), rules, clock.now), { ok: false, reason: 'rejected_before' });
});

t.test('per-author daily cap counts posted and queued replies in the tenant day', async (t) => {
  const { db, clock, context, setSetting } = runtimeContext(t, Date.UTC(2026, 2, 10, 22, 30));
  setSetting('timezone', 'Asia/Tokyo');
  // 22:30 UTC = 07:30 in Tokyo on the 11th; 14:30 UTC was 23:30 on the 10th there.
  posted(db, { author: '42', at: Date.UTC(2026, 2, 10, 14, 30) });
  const tokyo = { ...rules, timezone: 'Asia/Tokyo' };
  t.same(checkCandidate(db, candidate('600'), tokyo, clock.now), { ok: true }, "yesterday's reply in Tokyo does not count today");
  t.match(checkCandidate(db, candidate('600'), rules, clock.now), { ok: false, reason: 'author_daily_cap' }, 'same day in UTC');

  enqueueApproval(context, { kind: 'reply', content: 'hi', source: 'discovery', target: { tweetId: '601', authorId: '42', authorUsername: 'alice' } });
  t.match(checkCandidate(db, candidate('602'), tokyo, clock.now), { ok: false, reason: 'author_daily_cap', detail: /@alice/ }, 'a queued reply counts');
  t.same(checkCandidate(db, candidate('602'), { ...tokyo, maxRepliesPerAuthorPerDay: 2 }, clock.now), { ok: true });
});

t.test('target accounts have their own daily cap', async (t) => {
  const { db, clock } = runtimeContext(t);
  posted(db, { source: 'target', at: clock.now - 3_600_000 });
  posted(db, { source: 'target', at: clock.now - 1_800_000 });
  t.match(checkCandidate(db, candidate('700', '50', 'target'), rules, clock.now), { ok: false, reason: 'target_daily_cap' });
  t.same(checkCandidate(db, candidate('700', '50', 'discovery'), rules, clock.now), { ok: true }, 'discovery is not capped by it');
});

t.test('the action limit counts what is queued: approval mode never queues more than the day can post', async (t) => {
  const { db, context } = runtimeContext(t, Date.UTC(2026, 2, 10, 12), {
    plan: 'starter', repliesPerDay: 3, tweetsPerDay: 2, threadsPerWeek: 1, targets: 5, xCostAllowanceCents: null, xPeriodStart: null,
    xReadCentsPerDay: null, xUrlPostsPerDay: null, xOverageCapCents: null, automation: true, readOnly: false,
  });
  context.limits.claim('reply', 5);
  for (const id of ['801', '802']) enqueueApproval(context, { kind: 'reply', content: `hi ${id}`, source: 'discovery', target: { tweetId: id, authorId: id, authorUsername: 'u' } });
  t.equal(queuedCount(db, 'reply'), 2);
  const usage = context.limits.usage('reply', 5);
  t.same(usage, { used: 1, limit: 3, window: 'day' }, 'min(user 5, plan 3)');
  t.match(limitVerdict('reply', usage, queuedCount(db, 'reply')), { ok: false, reason: 'limit_reached', detail: /1 posted and 2 queued today, at most 3/ });
  t.same(limitVerdict('reply', context.limits.usage('reply', 10), 1), { ok: true });
  t.same(limitVerdict('reply', { used: 100, limit: null, window: 'day' }, 100), { ok: true }, 'no limit at all on self-host without a setting');
});

const replyRules = (over: Partial<ReplyTextRules> = {}): ReplyTextRules => ({
  kind: 'reply',
  bannedPhrases: ['check out', 'link in bio'],
  attempt: 0,
  business: { productName: 'TuitBot', productUrl: 'https://tuitbot.dev/pricing' },
  productMentionRatio: 0.2,
  mentionAllowed: true,
  ...over,
});

t.test('banned phrases: case-insensitive whole words; regenerate once, then drop', async (t) => {
  const { db } = runtimeContext(t);
  t.equal(bannedPhraseIn('You should CHECK OUT this!', ['check out']), 'check out');
  t.equal(bannedPhraseIn('checkout flows are hard', ['check out']), null);
  t.match(checkText(db, 'Check out the docs.', replyRules()), { ok: false, reason: 'banned_phrase', regenerate: true });
  t.match(checkText(db, 'Check out the docs.', replyRules({ attempt: 1 })), { ok: false, reason: 'banned_phrase', regenerate: false });
});

t.test('phrasing similarity: exact repeats, or Jaccard ≥ 0.8 against the last 20 replies', async (t) => {
  const { db, clock } = runtimeContext(t);
  t.equal(jaccard(similarityTokens('Great point, totally agree!'), similarityTokens('great POINT totally agree')), 1);
  t.equal(mostSimilar('Nice one', ['nice one']), 1, 'short texts still match exactly');
  t.equal(mostSimilar('Nice one!', ['nice one']), null, 'short texts skip the fuzzy check');
  posted(db, { content: 'SQLite in WAL mode handles this load easily for most apps', at: clock.now - 1000 });
  t.match(checkText(db, 'SQLite in WAL mode handles this load easily for most apps!', replyRules()), { ok: false, reason: 'similar_phrasing' });
  t.match(checkText(db, 'SQLite in WAL mode handles this load easily for many apps', replyRules()), { ok: false, reason: 'similar_phrasing' }, '9 of 11 words shared');
  t.same(checkText(db, 'Postgres would be my pick for heavy concurrent writes here', replyRules()), { ok: true });
  for (let i = 0; i < 20; i++) posted(db, { content: `filler reply ${i} about something else entirely different`, at: clock.now + i });
  t.same(checkText(db, 'SQLite in WAL mode handles this load easily for most apps', replyRules()), { ok: true }, 'only the last 20 count');
});

t.test('product mentions: only when the draw allowed it, and at most ratio × 20 of the last 20', async (t) => {
  const { db, clock } = runtimeContext(t);
  t.equal(mentionAllowance(0.2), 4);
  t.equal(mentionAllowance(0.01), 1);
  t.equal(mentionAllowance(0), 0);
  t.equal(drawProductMention(0.2, () => 0.1), true);
  t.equal(drawProductMention(0.2, () => 0.5), false);
  t.match(checkText(db, 'We built TuitBot for exactly this.', replyRules({ mentionAllowed: false })), { ok: false, reason: 'product_mention_ratio' });
  t.match(checkText(db, 'More at tuitbot.dev if useful.', replyRules({ mentionAllowed: false })), { ok: false, reason: 'product_mention_ratio' }, 'the URL counts');
  t.same(checkText(db, 'We built TuitBot for exactly this.', replyRules()), { ok: true });
  for (let i = 0; i < 4; i++) posted(db, { mentions: true, at: clock.now - i, content: `mention ${i} of the product with many words here` });
  t.match(checkText(db, 'We built TuitBot for exactly this.', replyRules()), { ok: false, reason: 'product_mention_ratio', detail: /4 of the last 20/ });
  t.same(checkText(db, 'Pagination by cursor is the way to go.', replyRules({ mentionAllowed: false })), { ok: true }, 'not mentioning is always fine');
});

t.test("length is X's weighted length (twitter-text), and an empty text is refused", async (t) => {
  const { db } = runtimeContext(t);
  t.same(checkText(db, '日'.repeat(140), replyRules()), { ok: true }, '140 CJK characters weigh 280');
  t.match(checkText(db, '日'.repeat(141), replyRules()), { ok: false, reason: 'too_long' });
  t.same(checkText(db, `${'a'.repeat(250)} https://example.com/${'x'.repeat(100)}`, replyRules()), { ok: true }, 'a URL weighs 23');
  t.match(checkText(db, '   ', replyRules()), { ok: false, reason: 'empty_text' });
});

t.test('a skip is logged with its reason and announced as ActionSkipped', async (t) => {
  const { db, context, events } = runtimeContext(t);
  recordSkip(context, { action: 'reply', source: 'discovery', reason: 'author_daily_cap', detail: 'Already 1 reply to @alice today', targetTweetId: '900' });
  t.match(events, [{ kind: 'runtime.action_skipped', data: { action: 'reply', reason: 'author_daily_cap', targetTweetId: '900' } }]);
  t.match(db.prepare('SELECT action, status, reason, target_tweet_id FROM action_log').get(), { action: 'reply', status: 'skipped', reason: 'author_daily_cap', target_tweet_id: '900' });
});
