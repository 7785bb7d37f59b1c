// The discovery feed and replying from it, over real HTTP, on posts the runtime's discovery, mentions
// and targets loops found, scored and answered against the sandbox X for two hours; the
// suggested reply comes from the sandbox LLM through the tenant's own LLM path.
import twitter from 'twitter-text';
import t, { type Test } from 'tap';
import { startFakeLlm } from '../../../sandbox/llm/index.js';
import { NO_PLAN_CEILINGS } from '../../../supervisor/billing/state.js';
import { addDiscoveryRoutes } from '../../../supervisor/routes/discovery.js';
import { startAuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';
import { installTenantDb, seedThroughRuntime, type SeededTenant } from '../../helpers/seeded-tenant.js';

interface FeedItem {
  tweetId: string;
  source: string;
  author: { id: string; username: string };
  text: string;
  score: number | null;
  scoreBreakdown: Record<string, number> | null;
  status: string;
  discoveredAt: number;
  reply: { tweetId: string } | null;
  queuedApprovalId: number | null;
}

const BANNED = 'guaranteed growth';

/** One stored post as the feed shows it, found by paging. */
async function feedItem(user: Browser, tweetId: string): Promise<FeedItem | undefined> {
  let cursor: number | null = null;
  do {
    const page: { items: FeedItem[]; nextCursor: number | null } = (await user.json('GET', `/api/discovery?limit=200${cursor ? `&before=${cursor}` : ''}`)).body;
    const found = page.items.find((item) => item.tweetId === tweetId);
    if (found) return found;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return undefined;
}

async function serverWith(t: Test, h: SeededTenant, llm: { provider: 'openai'; baseUrl: string; apiKey: string; model: string } | null) {
  const server = await startAuthServer({
    register: (router, deps) => addDiscoveryRoutes(router, { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 }),
    tenants: { llmFallback: llm },
  });
  t.teardown(() => server.close());
  const user = new Browser(server.base);
  await user.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' });
  const tenantId = (server.db.prepare("SELECT tenant_id FROM users WHERE email = 'ada@example.com'").get() as { tenant_id: string }).tenant_id;
  t.same((await user.json('GET', '/api/discovery')).body.items, [], 'a new tenant has found nothing');
  await installTenantDb(server.host, server.registry, tenantId, h);
  return { server, user, tenantId };
}

t.test('feed with scores and cursor pages; compose a reply with the LLM; queue a reply through the guards', async (t) => {
  const h = await seedThroughRuntime(t, {
    // Every loop for two hours yesterday evening: the same amount of data at any time of day.
    days: 2,
    active: [[0, 20, 22]],
    targets: ['AdaBuilds0'],
    settings: { 'limits.banned_phrases': [BANNED] },
  });
  const llm = await startFakeLlm({ sampling: 'per-call' });
  t.teardown(() => llm.close());
  const { server, user, tenantId } = await serverWith(t, h, { provider: 'openai', baseUrl: llm.openaiBaseUrl, apiKey: llm.apiKey, model: 'gpt-4o-mini' });

  // ── the feed: every stored post, newest found first, in cursor pages ──
  const feed: FeedItem[] = [];
  let cursor: number | null = null;
  let pages = 0;
  do {
    const page: { items: FeedItem[]; nextCursor: number | null } = (await user.json('GET', `/api/discovery?limit=100${cursor ? `&before=${cursor}` : ''}`)).body;
    feed.push(...page.items);
    cursor = page.nextCursor;
    pages++;
  } while (cursor !== null && pages < 50);
  t.ok(feed.length > 100, `${feed.length} stored posts in ${pages} pages`);
  t.equal(new Set(feed.map((item) => item.tweetId)).size, feed.length, 'pages do not overlap');
  t.same(feed.map((item) => item.discoveredAt), [...feed.map((item) => item.discoveredAt)].sort((a, b) => b - a), 'newest found first');
  for (const item of feed.slice(0, 30)) t.equal(h.x.world.post(item.tweetId)?.text, item.text, `post ${item.tweetId} is at X as stored`);
  const searched = feed.filter((item) => item.source === 'search');
  t.ok(searched.length > 0 && searched.every((item) => item.score !== null), 'search results are scored');
  t.same(Object.keys(searched[0]!.scoreBreakdown!).sort(), ['contentType', 'engagement', 'followers', 'keyword', 'recency', 'replies'], 'the six signals');
  for (const item of searched.slice(0, 20)) {
    const sum = Object.values(item.scoreBreakdown!).reduce((a, b) => a + b, 0);
    t.ok(Math.abs(sum - item.score!) < 0.5, `score ${item.score} is the sum of its signals`);
  }
  const own = h.ownPosts();
  const answered = feed.filter((item) => item.reply !== null);
  t.ok(answered.length > 0, `${answered.length} answered`);
  for (const item of answered) t.match(own.find((post) => post.id === item.reply!.tweetId), { inReplyTo: item.tweetId }, 'our reply at X answers it');

  const good = (await user.json('GET', '/api/discovery?minScore=50&limit=200')).body.items as FeedItem[];
  t.same(
    good.map((item) => item.tweetId),
    feed.filter((item) => item.score !== null && item.score >= 50).slice(0, 200).map((item) => item.tweetId),
    'minScore keeps scored posts at or above it',
  );
  const mentions = (await user.json('GET', '/api/discovery?sources=mention,target&limit=200')).body.items as FeedItem[];
  t.same(mentions.map((item) => item.tweetId), feed.filter((item) => item.source !== 'search').slice(0, 200).map((item) => item.tweetId));
  t.match((await user.json('GET', '/api/discovery?sources=dance')).body.error, { code: 'invalid_params', fields: { 'sources.0': /must be one of/ } });
  t.equal((await user.json('GET', '/api/discovery?minScore=101')).status, 422);
  t.equal((await user.json('GET', '/api/discovery?min_score=50')).status, 422, 'unknown query parameters are refused');

  // ── compose: a suggestion written by the tenant's LLM, nothing queued ──
  const open = feed.filter((item) => item.reply === null && item.queuedApprovalId === null && item.author.id !== '');
  const chosen = open.find((item) => item.source === 'search')!;
  const calls = llm.requests.length;
  const composed = await user.json('POST', `/api/discovery/${chosen.tweetId}/compose-reply`, {});
  t.equal(composed.status, 200);
  t.equal(composed.body.tweetId, chosen.tweetId);
  t.ok(composed.body.content.length > 0 && twitter.parseTweet(composed.body.content).valid, `a postable reply: ${composed.body.content}`);
  t.equal(llm.requests.length, calls + 1, 'one LLM call');
  t.ok(llm.requests.at(-1)!.user?.includes(chosen.text), 'the prompt carries the post');
  t.match(await feedItem(user, chosen.tweetId), { status: chosen.status, queuedApprovalId: null }, 'nothing was queued');
  t.equal((await user.json('POST', '/api/discovery/123/compose-reply', {})).status, 404);
  t.match((await user.json('POST', '/api/discovery/abc/compose-reply', {})).body.error, { code: 'invalid_params', fields: { tweetId: String } });
  llm.inject({ status: 429, retryAfterSeconds: 600 });
  t.match((await user.json('POST', `/api/discovery/${chosen.tweetId}/compose-reply`, {})), { status: 502, body: { error: { code: 'llm_error', message: /LLM/ } } }, 'a failing LLM is told, not hidden');

  // ── queue: the user's reply, approved at once, through the guards ──
  const queued = await user.json('POST', `/api/discovery/${chosen.tweetId}/queue-reply`, { content: 'Pricing pages are where most indie SaaS founders leave money on the table.' });
  t.equal(queued.status, 201);
  t.match(queued.body, { status: 'approved', approval: { kind: 'reply', status: 'approved', target: { tweetId: chosen.tweetId, authorUsername: chosen.author.username } } });
  t.match(await feedItem(user, chosen.tweetId), { status: 'queued', queuedApprovalId: queued.body.approval.id }, 'the feed shows it queued');
  t.match((await user.json('POST', `/api/discovery/${chosen.tweetId}/queue-reply`, { content: 'Another take on the same post.' })).body.error, { code: 'guard_refused', fields: { tweetId: 'already_replied' } }, 'never twice');
  t.match((await user.json('POST', `/api/discovery/${answered[0]!.tweetId}/queue-reply`, { content: 'A second reply to a post we answered.' })).body.error, { code: 'guard_refused', fields: { tweetId: 'already_replied' } });
  const sameAuthor = open.find((item) => item.tweetId !== chosen.tweetId && item.author.id === chosen.author.id);
  if (sameAuthor) t.match((await user.json('POST', `/api/discovery/${sameAuthor.tweetId}/queue-reply`, { content: 'One more for this author today.' })).body.error, { fields: { tweetId: 'author_daily_cap' } });
  const other = open.find((item) => item.author.id !== chosen.author.id && !answered.some((a) => a.author.id === item.author.id))!;
  t.match((await user.json('POST', `/api/discovery/${other.tweetId}/queue-reply`, { content: `Try this: ${BANNED} in a week.` })).body.error, { code: 'invalid_params', fields: { content: 'banned_phrase' } });
  t.match((await user.json('POST', `/api/discovery/${other.tweetId}/queue-reply`, { content: 'x'.repeat(300) })).body.error, { fields: { content: 'too_long' } });
  t.match((await user.json('POST', `/api/discovery/${other.tweetId}/queue-reply`, { content: '   ' })).body.error, { fields: { content: /empty/ } });
  t.equal((await user.json('POST', '/api/discovery/123/queue-reply', { content: 'Hello there.' })).status, 404);

  // ── read-only after the subscription ended ──
  server.host.setCeilings(tenantId, { ...NO_PLAN_CEILINGS, readOnly: true });
  t.match((await user.json('POST', `/api/discovery/${other.tweetId}/queue-reply`, { content: 'Fine words.' })).body.error, { code: 'read_only' });
  t.match((await user.json('POST', `/api/discovery/${other.tweetId}/compose-reply`, {})).body.error, { code: 'read_only' });
  t.equal((await user.json('GET', '/api/discovery?limit=1')).status, 200, 'the feed still reads');

  // ── no LLM at all: a clear refusal ──
  const bare = await serverWith(t, h, null);
  t.match((await bare.user.json('POST', `/api/discovery/${other.tweetId}/compose-reply`, {})), { status: 409, body: { error: { code: 'llm_not_configured' } } });
});
