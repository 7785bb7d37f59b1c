// The sandbox LLM speaks OpenAI's chat completions and Anthropic's messages as the providers
// document them: the answer keys and types, the error envelopes per status, auth per provider,
// validation, the model lists, injected faults and recorded requests without keys. The official SDKs
// (dev dependencies) are the contract check: they must parse every answer and map every error.
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import t from 'tap';
import { startFakeLlm } from '../../sandbox/llm/index.js';
import { post } from '../helpers/llm.js';

const SYSTEM = "You are Shipfast's social media voice. A boilerplate for indie makers. Your audience: founders.";

t.test('OpenAI chat completions: the documented answer shape', async (t) => {
  const fake = await startFakeLlm();
  t.teardown(() => fake.close());
  const res = await post(`${fake.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer sk-anything' }, {
    model: 'gpt-4o-mini',
    messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'Write a tweet about: cold email' }],
    max_tokens: 150,
    temperature: 0.8,
  });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/json/);
  const body = res.body;
  t.same(Object.keys(body).sort(), ['choices', 'created', 'id', 'model', 'object', 'system_fingerprint', 'usage']);
  t.match(body, { id: /^chatcmpl-/, object: 'chat.completion', created: Number, model: 'gpt-4o-mini' });
  t.ok(Number.isInteger(body.created) && Math.abs(body.created - Date.now() / 1000) < 60, 'created is in seconds');
  t.equal(body.choices.length, 1);
  t.match(body.choices[0], { index: 0, message: { role: 'assistant', content: String, refusal: null }, logprobs: null, finish_reason: 'stop' });
  const { prompt_tokens, completion_tokens, total_tokens } = body.usage;
  t.ok(prompt_tokens > 0 && completion_tokens > 0);
  t.equal(total_tokens, prompt_tokens + completion_tokens);
  t.equal(completion_tokens, Math.ceil(body.choices[0].message.content.length / 4), 'usage follows the text length');
});

t.test('Anthropic messages: the documented answer shape', async (t) => {
  const fake = await startFakeLlm();
  t.teardown(() => fake.close());
  const res = await post(`${fake.anthropicBaseUrl}/messages`, { 'x-api-key': 'sk-ant-anything', 'anthropic-version': '2023-06-01' }, {
    model: 'claude-sonnet-4-6',
    max_tokens: 150,
    system: SYSTEM,
    messages: [{ role: 'user', content: 'Write a tweet about: cold email' }],
    temperature: 0.8,
  });
  t.equal(res.status, 200);
  t.ok(res.headers.get('request-id'));
  const body = res.body;
  t.same(Object.keys(body).sort(), ['content', 'id', 'model', 'role', 'stop_reason', 'stop_sequence', 'type', 'usage']);
  t.match(body, { id: /^msg_/, type: 'message', role: 'assistant', model: 'claude-sonnet-4-6', stop_reason: 'end_turn', stop_sequence: null });
  t.same(body.content.map((b: { type: string }) => b.type), ['text']);
  t.type(body.content[0].text, 'string');
  t.match(body.usage, { input_tokens: Number, output_tokens: Number });
  t.equal(body.usage.output_tokens, Math.ceil(body.content[0].text.length / 4));
});

t.test('max_tokens cuts the answer and says so in each format', async (t) => {
  const fake = await startFakeLlm();
  t.teardown(() => fake.close());
  const messages = [{ role: 'user', content: 'Write a thread about: onboarding' }];
  const openai = await post(`${fake.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer k' }, { model: 'gpt-4o-mini', messages, max_tokens: 5 });
  t.equal(openai.body.choices[0].finish_reason, 'length');
  t.equal(openai.body.usage.completion_tokens, 5);
  const anthropic = await post(`${fake.anthropicBaseUrl}/messages`, { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }, { model: 'claude-haiku-4-5', messages, max_tokens: 5 });
  t.equal(anthropic.body.stop_reason, 'max_tokens');
  t.equal(anthropic.body.usage.output_tokens, 5);
});

t.test('auth: any non-empty key, or exactly the configured one; each provider answers in its own shape', async (t) => {
  const open = await startFakeLlm();
  const strict = await startFakeLlm({ apiKey: 'sk-right' });
  t.teardown(() => Promise.all([open.close(), strict.close()]));
  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say OK' }], max_tokens: 10 };
  const message = { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Say OK' }], max_tokens: 10 };

  const none = await post(`${open.openaiBaseUrl}/chat/completions`, {}, chat);
  t.equal(none.status, 401);
  t.match(none.body, { error: { message: /API key/, type: 'invalid_request_error', code: null, param: null } });
  t.equal((await post(`${open.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer whatever' }, chat)).status, 200);
  const wrong = await post(`${strict.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer sk-wrong' }, chat);
  t.equal(wrong.status, 401);
  t.match(wrong.body, { error: { type: 'invalid_request_error', code: 'invalid_api_key' } });
  t.equal((await post(`${strict.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer sk-right' }, chat)).status, 200);
  t.equal(strict.apiKey, 'sk-right');

  const noKey = await post(`${open.anthropicBaseUrl}/messages`, { 'anthropic-version': '2023-06-01' }, message);
  t.equal(noKey.status, 401);
  t.same(noKey.body, { type: 'error', error: { type: 'authentication_error', message: 'x-api-key header is required' } });
  const badKey = await post(`${strict.anthropicBaseUrl}/messages`, { 'x-api-key': 'sk-wrong', 'anthropic-version': '2023-06-01' }, message);
  t.equal(badKey.status, 401);
  t.match(badKey.body, { type: 'error', error: { type: 'authentication_error' } });
  const noVersion = await post(`${open.anthropicBaseUrl}/messages`, { 'x-api-key': 'k' }, message);
  t.equal(noVersion.status, 400);
  t.match(noVersion.body, { type: 'error', error: { type: 'invalid_request_error', message: /anthropic-version/ } });
});

t.test('invalid requests are 400 in the provider error shape', async (t) => {
  const fake = await startFakeLlm();
  t.teardown(() => fake.close());
  const openai = (body: unknown) => post(`${fake.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer k' }, body);
  const anthropic = (body: unknown) => post(`${fake.anthropicBaseUrl}/messages`, { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }, body);
  for (const body of ['{not json', {}, { model: 'm' }, { model: 'm', messages: [] }, { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 3 }]) {
    const res = await openai(body);
    t.equal(res.status, 400, JSON.stringify(body));
    t.match(res.body, { error: { message: String, type: 'invalid_request_error' } });
  }
  for (const body of ['{not json', { model: 'm', messages: [{ role: 'user', content: 'x' }] }, { model: 'm', max_tokens: 10 }, { model: 'm', max_tokens: 10, messages: [{ role: 'system', content: 'x' }] }, { model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }], temperature: 1.5 }]) {
    const res = await anthropic(body);
    t.equal(res.status, 400, JSON.stringify(body));
    t.match(res.body, { type: 'error', error: { type: 'invalid_request_error', message: String } });
  }
  t.match((await anthropic({ model: 'm', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })).status, 200);
  const unknownPath = await post(`${fake.url}/v1/completions`, { authorization: 'Bearer k' }, {});
  t.equal(unknownPath.status, 404);
});

t.test('GET /v1/models answers in the format of the caller', async (t) => {
  const fake = await startFakeLlm({ models: ['gpt-4o-mini', 'claude-haiku-4-5'] });
  t.teardown(() => fake.close());
  const openai = (await (await fetch(`${fake.openaiBaseUrl}/models`, { headers: { authorization: 'Bearer k' } })).json()) as any;
  t.match(openai, { object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model', created: Number, owned_by: String }, { id: 'claude-haiku-4-5' }] });
  const anthropic = (await (await fetch(`${fake.anthropicBaseUrl}/models`, { headers: { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' } })).json()) as any;
  t.match(anthropic, { data: [{ type: 'model', id: 'gpt-4o-mini', display_name: String, created_at: String }], has_more: false, first_id: 'gpt-4o-mini', last_id: 'claude-haiku-4-5' });
  const unknown = await post(`${fake.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer k' }, { model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] });
  t.equal(unknown.status, 404);
  t.match(unknown.body, { error: { code: 'model_not_found' } });
});

t.test('injected faults: 429 with retry-after, 529 overloaded, 500, per provider and count', async (t) => {
  const fake = await startFakeLlm();
  t.teardown(() => fake.close());
  const chat = () => post(`${fake.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer k' }, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say OK' }] });
  const message = () => post(`${fake.anthropicBaseUrl}/messages`, { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' }, { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Say OK' }] });

  fake.inject({ status: 429, retryAfterSeconds: 7, times: 2 });
  const first = await chat();
  t.equal(first.status, 429);
  t.equal(first.headers.get('retry-after'), '7');
  t.match(first.body, { error: { type: 'requests', code: 'rate_limit_exceeded' } });
  const second = await message();
  t.equal(second.status, 429);
  t.match(second.body, { type: 'error', error: { type: 'rate_limit_error' } });
  t.equal((await chat()).status, 200, 'the fault was used up');

  fake.inject({ status: 529, provider: 'anthropic' });
  t.equal((await chat()).status, 200, 'only Anthropic calls take it');
  const overloaded = await message();
  t.equal(overloaded.status, 529);
  t.same(overloaded.body, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
  t.equal(overloaded.headers.get('retry-after'), null);

  fake.inject({ status: 500 });
  t.match((await chat()).body, { error: { type: 'server_error' } });
  fake.inject({ status: 500 });
  t.match((await message()).body, { type: 'error', error: { type: 'api_error' } });
});

t.test('requests are recorded with their prompt, never their key', async (t) => {
  const fake = await startFakeLlm({ apiKey: 'sk-very-secret-key' });
  t.teardown(() => fake.close());
  await post(`${fake.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer sk-very-secret-key' }, { model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'rules' }, { role: 'user', content: 'Say OK' }], max_tokens: 10, temperature: 0 });
  await post(`${fake.anthropicBaseUrl}/messages`, { 'x-api-key': 'sk-very-secret-key', 'anthropic-version': '2023-06-01' }, { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'Say OK' }] });
  t.match(fake.requests, [
    { provider: 'openai', path: '/v1/chat/completions', status: 200, model: 'gpt-4o-mini', system: 'rules', user: 'Say OK', maxTokens: 10, temperature: 0, text: 'OK' },
    { provider: 'anthropic', path: '/v1/messages', status: 200, anthropicVersion: '2023-06-01', text: 'OK' },
  ]);
  t.notMatch(JSON.stringify(fake.requests), /sk-very-secret-key/);
});

t.test('latency and a hung provider', async (t) => {
  const fake = await startFakeLlm({ latencyMs: 60 });
  t.teardown(() => fake.close());
  const started = Date.now();
  await post(`${fake.openaiBaseUrl}/chat/completions`, { authorization: 'Bearer k' }, { model: 'm', messages: [{ role: 'user', content: 'Say OK' }] });
  t.ok(Date.now() - started >= 55);
  fake.inject({ delayMs: 60_000 });
  const hung = fetch(`${fake.openaiBaseUrl}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer k' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Say OK' }] }),
    signal: AbortSignal.timeout(200),
  });
  await t.rejects(hung, { name: 'TimeoutError' });
});

t.test('contract: the official OpenAI SDK reads every answer and maps every error', async (t) => {
  const fake = await startFakeLlm({ apiKey: 'sk-right' });
  t.teardown(() => fake.close());
  const sdk = new OpenAI({ apiKey: 'sk-right', baseURL: fake.openaiBaseUrl, maxRetries: 0 });
  const completion = await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: 'Write a tweet about: pricing' }], max_tokens: 150, temperature: 0.8 });
  t.equal(completion.object, 'chat.completion');
  t.ok(completion.choices[0]?.message.content);
  t.ok(completion.usage?.total_tokens);
  const models = await sdk.models.list();
  t.ok(models.data.some((m) => m.id === 'gpt-4o-mini'));

  t.ok((await new OpenAI({ apiKey: 'sk-wrong', baseURL: fake.openaiBaseUrl, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) instanceof OpenAI.AuthenticationError);
  fake.inject({ status: 429, retryAfterSeconds: 3 });
  const limited = await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
  t.ok(limited instanceof OpenAI.RateLimitError);
  t.equal((limited as InstanceType<typeof OpenAI.RateLimitError>).code, 'rate_limit_exceeded');
  fake.inject({ status: 500 });
  t.ok((await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) instanceof OpenAI.InternalServerError);
  t.ok((await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }).catch((e: unknown) => e)) instanceof OpenAI.BadRequestError);
});

t.test('contract: the official Anthropic SDK reads every answer and maps every error', async (t) => {
  const fake = await startFakeLlm({ apiKey: 'sk-ant-right' });
  t.teardown(() => fake.close());
  // The SDK's base URL is the host; it adds /v1/messages itself.
  const sdk = new Anthropic({ apiKey: 'sk-ant-right', baseURL: fake.url, maxRetries: 0 });
  const message = await sdk.messages.create({ model: 'claude-sonnet-4-6', max_tokens: 1500, system: SYSTEM, messages: [{ role: 'user', content: 'Write a thread about: pricing' }] });
  t.match(fake.requests.at(-1), { anthropicVersion: /^\d{4}-\d{2}-\d{2}$/, status: 200 });
  t.equal(message.type, 'message');
  t.equal(message.content[0]?.type, 'text');
  t.ok(message.usage.output_tokens > 0);
  const models = await sdk.models.list();
  t.ok(models.data.length > 0);

  t.ok((await new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 0 }).messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e)) instanceof Anthropic.AuthenticationError);
  fake.inject({ status: 429, retryAfterSeconds: 3 });
  const limited = await sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
  t.ok(limited instanceof Anthropic.RateLimitError);
  t.equal((limited as InstanceType<typeof Anthropic.RateLimitError>).type, 'rate_limit_error');
  fake.inject({ status: 529 });
  const overloaded = await sdk.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
  t.ok(overloaded instanceof Anthropic.InternalServerError, 'the SDK sees 529 as a server error');
  t.equal((overloaded as InstanceType<typeof Anthropic.APIError>).status, 529);
  t.equal((overloaded as InstanceType<typeof Anthropic.APIError>).type, 'overloaded_error');
});

t.test('Anthropic API version 2026-10-21 refuses sampling parameters; 2023-06-01 takes them', async (t) => {
  const fake = await startFakeLlm();
  t.teardown(() => fake.close());
  const body = { model: 'claude-sonnet-4-6', max_tokens: 10, messages: [{ role: 'user', content: 'Say OK' }], temperature: 0.7 };
  const send = (version: string) => post(`${fake.anthropicBaseUrl}/messages`, { 'x-api-key': 'k', 'anthropic-version': version }, body);
  t.equal((await send('2023-06-01')).status, 200);
  const refused = await send('2026-10-21');
  t.equal(refused.status, 400);
  t.match(refused.body, { error: { type: 'invalid_request_error', message: 'temperature: Extra inputs are not permitted' } });
});
