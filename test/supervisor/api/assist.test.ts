import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { keyringOf, SecretBox } from '../../../protocol/index.js';
import { startFakeLlm } from '../../../sandbox/llm/index.js';
import { addAssistRoutes } from '../../../supervisor/routes/assist.js';
import { addLlmSettingsRoutes } from '../../../supervisor/routes/llm-settings.js';
import { addReportRoutes } from '../../../supervisor/routes/reports.js';
import { fitsTweet } from '../../../tenant-worker/llm/content/length.js';
import { startAuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';
import { until } from '../../helpers/tenants.js';

async function setup(t: Test, mode: 'sandbox' | 'cloud') {
  const sandboxLlm = await startFakeLlm({ sampling: 'per-call' });
  const server = await startAuthServer({
    tenants: {
      secrets: new SecretBox(keyringOf(randomBytes(32))),
      mode,
      llmFallback: mode === 'sandbox' ? { provider: 'openai', baseUrl: sandboxLlm.openaiBaseUrl, apiKey: sandboxLlm.apiKey, model: 'gpt-4o-mini' } : null,
    },
    register: (router, deps) => {
      const common = { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 };
      addAssistRoutes(router, common);
      addReportRoutes(router, common);
      addLlmSettingsRoutes(router, { ...common, limits: deps.limits });
    },
  });
  t.teardown(async () => {
    await server.close();
    await sandboxLlm.close();
  });
  const ada = new Browser(server.base);
  await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' });
  const tenantId = (server.db.prepare("SELECT tenant_id FROM users WHERE email = 'ada@example.com'").get() as { tenant_id: string }).tenant_id;
  return { server, sandboxLlm, ada, tenantId };
}

const setting = (db: Database.Database, key: string, value: unknown) =>
  db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));

t.test('assist in sandbox mode: tweet, reply, thread and improve from the sandbox LLM, each in the costs under its purpose', async (t) => {
  const { server, sandboxLlm, ada, tenantId } = await setup(t, 'sandbox');
  await ada.json('GET', '/api/assist/mode'); // creates the tenant DB
  await until(() => server.host.state(tenantId) === 'hibernated');
  const db = new Database(server.registry.dbPath(tenantId));
  setting(db, 'business.product_name', 'Acme Pricing');
  setting(db, 'business.product_description', 'Pricing pages that convert for SaaS founders.');
  db.close();

  const tweet = await ada.json('POST', '/api/assist/tweet', { topic: 'saas pricing' });
  t.equal(tweet.status, 200);
  t.match(tweet.body, { content: String, topic: 'saas pricing', format: String, truncated: Boolean });
  t.ok(fitsTweet(tweet.body.content), 'the tweet fits X');
  const reply = await ada.json('POST', '/api/assist/reply', { tweetText: 'How do you price a SaaS in its first year?', tweetAuthor: '@founder', mentionProduct: true });
  t.equal(reply.status, 200);
  t.match(reply.body, { content: String, archetype: String, mentionProduct: true });
  t.ok(fitsTweet(reply.body.content));
  t.match(sandboxLlm.requests.at(-1)!.user, /How do you price a SaaS/, 'the post to answer went to the model');
  const thread = await ada.json('POST', '/api/assist/thread', { topic: 'pricing pages' });
  t.equal(thread.status, 200);
  t.ok(thread.body.tweets.length >= 5 && thread.body.tweets.length <= 8, `5–8 tweets (${thread.body.tweets.length})`);
  t.ok(thread.body.tweets.every(fitsTweet));
  const draft = 'pricing is hard and most founders charge to little for there product';
  const improved = await ada.json('POST', '/api/assist/improve', { draft, context: 'for indie founders' });
  t.equal(improved.status, 200);
  t.ok(improved.body.content.length > 0 && improved.body.content !== draft, 'a rewritten text');
  t.match(sandboxLlm.requests.at(-1)!.user, /most founders charge to little/, 'the draft went to the model');

  const costs = await ada.json('GET', '/api/costs');
  const purposes = Object.fromEntries(costs.body.llm.byPurpose.map((p: { purpose: string; calls: number }) => [p.purpose, p.calls]));
  for (const purpose of ['assist.tweet', 'assist.reply', 'assist.thread', 'assist.improve']) t.ok(purposes[purpose] >= 1, `${purpose} is in the costs (${purposes[purpose]})`);

  // The model never writes a thread in the shape asked for: a clear 502 with the reason, not a 500.
  sandboxLlm.inject({ content: 'One long paragraph with no separators at all.', times: 3 });
  const failed = await ada.json('POST', '/api/assist/thread', { topic: 'pricing pages' });
  t.equal(failed.status, 502);
  t.match(failed.body.error, { code: 'llm_error', message: /valid thread/ });

  // A provider asking for two minutes of patience is an answer now, not a hung request.
  sandboxLlm.inject({ status: 429, retryAfterSeconds: 120 });
  const started = Date.now();
  const limited = await ada.json('POST', '/api/assist/tweet', { topic: 'pricing pages' });
  t.equal(limited.status, 502);
  t.match(limited.body.error, { code: 'llm_error', message: /LLM failed: .*(429|rate|limit)/i });
  t.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);

  t.match((await ada.json('POST', '/api/assist/tweet', {})).body.error, { fields: { topic: String } });
  t.equal((await ada.json('POST', '/api/assist/tweet', { topic: 'x', style: 'loud' })).status, 422, 'unknown fields are refused');
  t.match((await ada.json('POST', '/api/assist/reply', { tweetText: 'hi', tweetAuthor: 'not a name!' })).body.error, { fields: { tweetAuthor: /username/ } });
  t.match((await ada.json('POST', '/api/assist/improve', { draft: '' })).body.error, { fields: { draft: /empty/ } });
  t.match((await ada.json('POST', '/api/assist/tweet', { topic: '   ' })).body.error, { code: 'invalid_params', fields: { topic: /empty/ } }, 'blank after trimming: the tenant refuses it');
  t.equal((await new Browser(server.base).json('POST', '/api/assist/tweet', { topic: 'x' })).status, 401);
});

t.test('assist hints: best topics, best hours in the tenant zone, the mode', async (t) => {
  const { server, ada, tenantId } = await setup(t, 'sandbox');
  t.same((await ada.json('GET', '/api/assist/topics')).body, { topics: [] });
  t.same((await ada.json('GET', '/api/assist/optimal-times')).body, { timeZone: 'UTC', times: [] });
  t.same((await ada.json('GET', '/api/assist/mode')).body, { mode: 'autopilot', approvalMode: true, approvalModeSetting: true });
  await until(() => server.host.state(tenantId) === 'hibernated');
  const db = new Database(server.registry.dbPath(tenantId));
  setting(db, 'timezone', 'Asia/Tokyo');
  setting(db, 'mode', 'composer');
  setting(db, 'approval_mode', false);
  const scores = db.prepare('INSERT INTO content_scores (topic, format, posts, avg_score, updated_at) VALUES (?, ?, ?, ?, 0)');
  scores.run('pricing', 'list', 2, 10);
  scores.run('pricing', 'story', 2, 20); // pricing: 15 over 4 posts
  scores.run('growth', 'list', 1, 30);
  scores.run('hiring', 'list', 5, 1);
  // Posted at 00:30 UTC = 09:30 in Tokyo (score 40, 20), and 10:30 UTC = 19:30 there (score 10).
  const post = (id: string, at: number, score: number) => {
    db.prepare("INSERT INTO original_tweets (tweet_id, content, source, posted_at) VALUES (?, 'x', 'content', ?)").run(id, at);
    db.prepare("INSERT INTO post_metrics (tweet_id, kind, likes, retweets, replies, quotes, impressions, score, measured_at) VALUES (?, 'tweet', 0, 0, 0, 0, 1, ?, 0)").run(id, score);
  };
  post('1', Date.UTC(2026, 10, 2, 0, 30), 40);
  post('2', Date.UTC(2026, 10, 3, 0, 30), 20);
  post('3', Date.UTC(2026, 10, 3, 10, 30), 10);
  db.close();

  t.same((await ada.json('GET', '/api/assist/topics')).body.topics, [
    { topic: 'growth', score: 30, posts: 1 },
    { topic: 'pricing', score: 15, posts: 4 },
    { topic: 'hiring', score: 1, posts: 5 },
  ]);
  t.same((await ada.json('GET', '/api/assist/optimal-times')).body, {
    timeZone: 'Asia/Tokyo',
    times: [
      { hour: 9, avgScore: 30, posts: 2 },
      { hour: 19, avgScore: 10, posts: 1 },
    ],
  });
  t.same((await ada.json('GET', '/api/assist/mode')).body, { mode: 'composer', approvalMode: true, approvalModeSetting: false }, 'composer mode always queues');
  t.equal((await ada.json('GET', '/api/assist/topics?limit=3')).status, 422, 'unknown query parameters are refused');
});

t.test('without an LLM assist answers 409 llm_not_configured; a refused key is a 502 llm_error with the provider\'s reason, metered', async (t) => {
  const { server, ada, tenantId } = await setup(t, 'cloud');
  const missing = await ada.json('POST', '/api/assist/tweet', { topic: 'saas pricing' });
  t.equal(missing.status, 409);
  t.match(missing.body.error, { code: 'llm_not_configured', message: /LLM settings/ });
  t.equal((await ada.json('POST', '/api/assist/improve', { draft: 'a draft' })).status, 409);
  t.equal((await ada.json('GET', '/api/assist/mode')).status, 200, 'the hints need no LLM');

  const provider = await startFakeLlm({ apiKey: 'sk-right-key' });
  t.teardown(() => provider.close());
  // Cloud refuses loopback LLM URLs, so the wrong key is stored in the DB the way the route would.
  const put = await ada.json('PUT', '/api/settings/llm', { provider: 'openai', baseUrl: 'https://llm.example.com/v1', apiKey: 'sk-wrong', model: 'gpt-4o-mini' });
  t.equal(put.status, 200);
  await until(() => server.host.state(tenantId) === 'hibernated');
  const db = new Database(server.registry.dbPath(tenantId));
  db.prepare('UPDATE llm_config SET base_url = ?').run(provider.openaiBaseUrl);
  db.close();

  const refused = await ada.json('POST', '/api/assist/tweet', { topic: 'saas pricing' });
  t.equal(refused.status, 502);
  t.match(refused.body.error, { code: 'llm_error', message: /The LLM failed: .+/ });
  t.notOk(JSON.stringify(refused.body).includes('sk-wrong'), 'the key is never echoed');
  const costs = await ada.json('GET', '/api/costs');
  t.match(costs.body.llm.byPurpose, [{ purpose: 'assist.tweet', calls: 1, failedCalls: 1, costMicros: 0 }], 'the failed call is metered at no cost');
});
