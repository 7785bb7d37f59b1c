import t from 'tap';
import { defaultRuntimeConfig } from '../../../tenant-worker/runtime/config.js';
import { engagementFraction, followerFraction, keywordRelevance, recencyFraction, replyCountFraction, scoreTweet } from '../../../tenant-worker/runtime/scoring.js';

const weights = defaultRuntimeConfig().scoring;
const now = Date.UTC(2026, 2, 10, 12);
const MINUTE = 60_000;

t.test("the reference's worked example scores 64.85 and qualifies", async (t) => {
  const score = scoreTweet(
    { text: 'Anyone moved their side project to sqlite yet?', createdAt: new Date(now - 10 * MINUTE).toISOString(), authorFollowers: 2000, likes: 50, retweets: 10, replies: 0 },
    ['sqlite', 'postgres', 'rust', 'wasm'],
    weights,
    now,
  );
  t.same(score.breakdown, { keyword: 6.25, followers: 15, recency: 9.6, engagement: 9, replies: 15, contentType: 10 });
  t.equal(score.total, 64.85);
  t.equal(score.qualifies, true);
  t.same(score.matchedKeywords, ['sqlite']);
});

t.test('the default maxima sum to 90; the total is clamped to 100', async (t) => {
  const perfect = { text: 'rust', createdAt: now, authorFollowers: 5000, likes: 1000, retweets: 0, replies: 0 };
  t.equal(scoreTweet(perfect, ['rust'], weights, now).total, 90);
  t.equal(scoreTweet(perfect, ['rust'], { ...weights, keywordRelevanceMax: 50, followerCountMax: 50 }, now).total, 100);
});

t.test('followers: a bell curve peaking at 1k–10k', async (t) => {
  t.equal(followerFraction(0), 0);
  t.equal(followerFraction(50), 0.25);
  t.equal(followerFraction(100), 0.5);
  t.equal(followerFraction(1000), 1);
  t.equal(followerFraction(10_000), 1);
  t.equal(followerFraction(55_000), 0.625);
  t.equal(followerFraction(1_000_000), 0.25);
});

t.test('recency: full for 5 minutes, falling to 0 after 6 hours, 0 when unknown', async (t) => {
  t.equal(recencyFraction(now - 5 * MINUTE, now), 1);
  t.equal(recencyFraction(now - 30 * MINUTE, now), 0.8);
  t.equal(recencyFraction(now - 60 * MINUTE, now), 0.5);
  t.equal(recencyFraction(now - 360 * MINUTE, now), 0.25);
  t.equal(recencyFraction(now - 361 * MINUTE, now), 0);
  t.equal(recencyFraction(null, now), 0);
  t.equal(scoreTweet({ text: 'x', createdAt: 'not a date' }, [], weights, now).breakdown.recency, 0);
});

t.test('engagement: 5 % of followers or more scores full; reply count favours quiet threads', async (t) => {
  t.equal(engagementFraction(3, 1, 1, 100), 1);
  t.equal(engagementFraction(30, 0, 0, 2000), 0.3);
  t.equal(engagementFraction(1, 0, 0, 0), 1, 'no followers divides by one');
  t.equal(replyCountFraction(0), 1);
  t.equal(replyCountFraction(10), 0.5);
  t.equal(replyCountFraction(25), 0);
});

t.test('content type: a quote or a post with media scores 0', async (t) => {
  t.equal(scoreTweet({ text: 'x', isQuote: true }, [], weights, now).breakdown.contentType, 0);
  t.equal(scoreTweet({ text: 'x', hasMedia: true }, [], weights, now).breakdown.contentType, 0);
  t.equal(scoreTweet({ text: 'x' }, [], weights, now).breakdown.contentType, 10);
});

t.test('keywords match whole words; phrases weigh 2, half when their words are apart', async (t) => {
  t.same(keywordRelevance('He said so', ['ai']), { fraction: 0, matched: [] }, '"ai" is not in "said"');
  t.same(keywordRelevance('Ship #Rust today', ['rust']), { fraction: 1, matched: ['rust'] });
  t.same(keywordRelevance('I love social media tools', ['social media', 'seo']), { fraction: 2 / 3, matched: ['social media'] });
  t.same(keywordRelevance('media on social networks', ['social media']), { fraction: 0.5, matched: ['social media'] });
});

t.test('adding keywords no longer dilutes a match (the reference divided by every keyword)', async (t) => {
  const many = ['sqlite', 'postgres', 'rust', 'wasm', 'go', 'zig', 'deno', 'bun', 'node', 'python'];
  t.equal(keywordRelevance('sqlite rocks', many.slice(0, 4)).fraction, 0.25);
  t.equal(keywordRelevance('sqlite rocks', many).fraction, 0.25, 'same as with four keywords, not 0.1');
});
