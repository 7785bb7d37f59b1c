// The tenant's LLM client against the sandbox LLM over real HTTP: both wire formats and an
// OpenAI-compatible server without a key, 429/529 retried after retry-after within the budget,
// auth errors, timeouts, and one ledger row per call with its cost.
import t from 'tap';
import { LlmApiError, LlmAuthError, LlmNetworkError, LlmRateLimitedError } from '../../../tenant-worker/llm/errors.js';
import { LlmClient, retryAfter } from '../../../tenant-worker/llm/client.js';
import { llmHarness } from '../../helpers/llm.js';

const ASK = { system: "You are Shipfast's social media voice. A boilerplate. Your audience: founders.", user: 'Write a tweet about: pricing', maxTokens: 150, temperature: 0.8, purpose: 'tweet' };

t.test('OpenAI, Anthropic and an OpenAI-compatible server behind one interface', async (t) => {
  const h = await llmHarness(t);
  const openai = await h.client('openai').complete(ASK);
  t.match(openai, { provider: 'openai', model: 'gpt-4o-mini', text: /pricing/i, truncated: false });
  t.ok(openai.usage.inputTokens > 0 && openai.usage.outputTokens > 0);
  const anthropic = await h.client('anthropic').complete(ASK);
  t.match(anthropic, { provider: 'anthropic', model: 'claude-sonnet-4-6', text: /pricing/i });
  const keyless = await llmHarness(t, { keyless: true });
  const local = await keyless.client('openai-compatible', { apiKey: null }).complete(ASK);
  t.match(local, { provider: 'openai-compatible', model: 'llama3.2' });
  const withoutKey = await h.client('openai-compatible', { apiKey: null }).complete(ASK).catch((e: unknown) => e);
  t.ok(withoutKey instanceof LlmAuthError, 'no Authorization header was sent');

  const [o, a] = h.fake.requests;
  t.match(o, { provider: 'openai', path: '/v1/chat/completions', system: ASK.system, user: ASK.user, maxTokens: 150, temperature: 0.8 });
  t.match(a, { provider: 'anthropic', path: '/v1/messages', system: ASK.system, user: ASK.user, maxTokens: 150, anthropicVersion: '2023-06-01' });
  t.equal(a!.temperature, 1, 'no temperature is sent to Anthropic (its newer models refuse it), so the default applies');
});

t.test('OpenAI reasoning models get max_completion_tokens and no temperature', async (t) => {
  const h = await llmHarness(t);
  const bodies: unknown[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    bodies.push(JSON.parse(String(init?.body)));
    return realFetch(input, init);
  };
  t.teardown(() => void (globalThis.fetch = realFetch));
  await h.client('openai', { model: 'gpt-5-mini' }).complete(ASK);
  await h.client('openai').complete(ASK);
  t.match(bodies[0], { model: 'gpt-5-mini', max_completion_tokens: Number });
  t.notOk('temperature' in (bodies[0] as object) || 'max_tokens' in (bodies[0] as object));
  t.match(bodies[1], { max_tokens: 150, temperature: 0.8 });
});

t.test('a 429 is retried after retry-after, a 529 after 30 s, within the budget', async (t) => {
  const h = await llmHarness(t);
  h.fake.inject({ status: 429, retryAfterSeconds: 2 });
  const result = await h.client('openai').complete(ASK);
  t.ok(result.text);
  t.same(h.sleeps, [2000]);
  t.same(h.rows().map((r) => [r.status, r.http_status]), [['rate_limited', 429], ['ok', 200]]);

  h.sleeps.length = 0;
  h.fake.inject({ status: 529, provider: 'anthropic' });
  await h.client('anthropic', { retryBudgetMs: 60_000 }).complete(ASK);
  t.same(h.sleeps, [30_000], "Anthropic's overload waits 30 s when it names no time");
});

t.test('past the budget or the attempts, the typed error reaches the caller with its wait', async (t) => {
  const h = await llmHarness(t);
  h.fake.inject({ status: 429 });
  const noHeader = await h.client('openai').complete(ASK).catch((e: unknown) => e);
  t.ok(noHeader instanceof LlmRateLimitedError);
  t.equal((noHeader as LlmRateLimitedError).retryAfterMs, 60_000, 'a 429 without retry-after means 60 s, more than the 30 s budget');
  t.same(h.sleeps, [], 'nothing was waited for in vain');

  h.fake.inject({ status: 529, provider: 'anthropic' });
  const overloaded = await h.client('anthropic', { retryBudgetMs: 10_000 }).complete(ASK).catch((e: unknown) => e);
  t.match(overloaded, { status: 529, retryAfterMs: 30_000 });

  h.fake.inject({ status: 429, retryAfterSeconds: 1, times: 3 });
  const exhausted = await h.client('openai').complete(ASK).catch((e: unknown) => e);
  t.ok(exhausted instanceof LlmRateLimitedError);
  t.same(h.sleeps, [1000, 1000], 'three attempts, two waits');
});

t.test('5xx is retried with backoff; auth errors and other 4xx are not', async (t) => {
  const h = await llmHarness(t, { apiKey: 'sk-right' });
  h.fake.inject({ status: 500 });
  await h.client('openai').complete(ASK);
  t.same(h.sleeps, [750], 'half the 1 s backoff fixed, a random share (0.5 here) of the other half');
  const wrong = await h.client('anthropic', { apiKey: 'sk-wrong' }).complete(ASK).catch((e: unknown) => e);
  t.ok(wrong instanceof LlmAuthError);
  t.equal((wrong as LlmAuthError).status, 401);
  t.notMatch((wrong as Error).message, /sk-wrong/, 'the key is not echoed');
  const badModel = await h.client('openai', { model: '' }).complete(ASK).catch((e: unknown) => e);
  t.ok(badModel instanceof LlmApiError);
  t.equal((badModel as LlmApiError).status, 400);
  t.equal(h.sleeps.length, 1, 'no retries for 401 or 400');
});

t.test('every call has a timeout; a timed-out call is not repeated', async (t) => {
  const h = await llmHarness(t);
  h.fake.inject({ delayMs: 5_000 });
  const started = Date.now();
  const error = await h.client('openai', { timeoutMs: 150 }).complete(ASK).catch((e: unknown) => e);
  t.ok(error instanceof LlmNetworkError);
  t.equal((error as LlmNetworkError).timedOut, true);
  t.ok(Date.now() - started < 2_000);
  t.same(h.rows().map((r) => [r.status, r.http_status]), [['timeout', null]]);

  // Nothing listens on port 9 (discard): the connection is refused at once.
  const nobody = new LlmClient({ settings: { provider: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'k', model: 'gpt-4o-mini' }, sleep: async () => {}, maxAttempts: 2 });
  const refused = await nobody.complete(ASK).catch((e: unknown) => e);
  t.ok(refused instanceof LlmNetworkError);
  t.equal((refused as LlmNetworkError).timedOut, false);
});

t.test('usage and cost are recorded per call, failures at cost 0, unknown models flagged', async (t) => {
  const h = await llmHarness(t);
  const result = await h.client('openai').complete(ASK);
  await h.client('anthropic', { model: 'claude-haiku-4-5-20251001' }).complete({ ...ASK, purpose: 'reply' });
  await h.client('openai', { model: 'my-finetune' }).complete({ ...ASK, purpose: 'thread' });
  h.fake.inject({ status: 500, times: 3 });
  await h.client('openai', { retryBudgetMs: 0 }).complete(ASK).catch(() => {});
  const rows = h.rows();
  t.match(rows[0], { provider: 'openai', model: 'gpt-4o-mini', purpose: 'tweet', status: 'ok', input_units: result.usage.inputTokens, output_units: result.usage.outputTokens, priced: 1 });
  t.equal(rows[0]!.cost_micros, Math.round(result.usage.inputTokens * 0.15 + result.usage.outputTokens * 0.6));
  t.match(rows[1], { provider: 'anthropic', model: 'claude-haiku-4-5-20251001', purpose: 'reply', priced: 1 });
  t.equal(rows[1]!.cost_micros, rows[1]!.input_units * 1 + rows[1]!.output_units * 5, 'a dated snapshot costs what its model does');
  t.match(rows[2], { model: 'my-finetune', cost_micros: 0, priced: 0 });
  t.match(rows[3], { status: 'api_error', http_status: 500, cost_micros: 0, input_units: 0 });
});

t.test('testConnection: "Say OK" with max_tokens 10, failures as values', async (t) => {
  const h = await llmHarness(t, { apiKey: 'sk-right' });
  const ok = await h.client('anthropic', { apiKey: 'sk-right' }).testConnection();
  t.match(ok, { ok: true, provider: 'anthropic', reply: 'OK' });
  t.match(h.fake.requests.at(-1), { user: 'Say OK', maxTokens: 10 });
  t.match(h.rows().at(-1), { purpose: 'test', status: 'ok' });
  t.match(await h.client('openai', { apiKey: 'sk-wrong' }).testConnection(), { ok: false, code: 'auth' });
  h.fake.inject({ delayMs: 2_000 });
  t.match(await h.client('openai', { apiKey: 'sk-right', timeoutMs: 100 }).testConnection(), { ok: false, code: 'timeout' });
});

t.test('retry-after: milliseconds, seconds or an HTTP date', async (t) => {
  const now = Date.UTC(2026, 10, 26, 12);
  t.equal(retryAfter(new Headers({ 'retry-after-ms': '1500' }), now), 1500);
  t.equal(retryAfter(new Headers({ 'retry-after': '7' }), now), 7000);
  t.equal(retryAfter(new Headers({ 'retry-after': new Date(now + 20_000).toUTCString() }), now), 20_000);
  t.equal(retryAfter(new Headers({ 'retry-after': 'soon' }), now), null);
  t.equal(retryAfter(new Headers(), now), null);
});
