import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { keyringOf, SecretBox } from '../../../protocol/index.js';
import { addLlmSettingsRoutes } from '../../../supervisor/routes/llm-settings.js';
import { startFakeLlm } from '../../../sandbox/llm/index.js';
import { startAuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';
import { until } from '../../helpers/tenants.js';

async function setup(t: Test, mode: 'sandbox' | 'cloud' = 'sandbox') {
  const fake = await startFakeLlm({ apiKey: 'sk-right-key', sampling: 'per-call' });
  const sandboxFake = await startFakeLlm({ sampling: 'per-call' });
  const server = await startAuthServer({
    tenants: {
      secrets: new SecretBox(keyringOf(randomBytes(32))),
      mode,
      llmFallback: mode === 'sandbox' ? { provider: 'openai', baseUrl: sandboxFake.openaiBaseUrl, apiKey: sandboxFake.apiKey, model: 'gpt-4o-mini' } : null,
    },
    register: (router, deps) => addLlmSettingsRoutes(router, { auth: deps.auth, limits: deps.limits, host: deps.host, requestTimeoutMs: 20_000 }),
  });
  t.teardown(async () => {
    await server.close();
    await fake.close();
    await sandboxFake.close();
  });
  const ada = new Browser(server.base);
  await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' });
  const tenantId = (server.db.prepare('SELECT tenant_id FROM users').get() as { tenant_id: string }).tenant_id;
  return { server, fake, sandboxFake, ada, tenantId };
}

t.test('LLM settings: the sandbox LLM until the user brings a key; the key is write-only and sealed; test uses what the runtime would', async (t) => {
  const { server, fake, sandboxFake, ada, tenantId } = await setup(t);
  t.match((await ada.json('GET', '/api/settings/llm')).body, { configured: false, apiKey: 'not set', using: 'sandbox', usingModel: 'gpt-4o-mini' });
  const sandboxTest = await ada.json('POST', '/api/settings/llm/test');
  t.match(sandboxTest.body, { ok: true, using: 'sandbox' });
  t.ok(sandboxFake.requests.length > 0, 'the sandbox LLM answered');

  const set = await ada.json('PUT', '/api/settings/llm', { provider: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-right-key', model: 'gpt-4o-mini' });
  t.equal(set.status, 200);
  t.match(set.body, { configured: true, provider: 'openai', apiKey: 'set', using: 'own' });
  t.notOk(JSON.stringify(set.body).includes('sk-right-key'), 'never returned');
  t.match((await ada.json('POST', '/api/settings/llm/test')).body, { ok: true, using: 'own' });
  t.ok(fake.requests.length > 0, "the user's endpoint answered");

  await until(() => server.host.state(tenantId) === 'hibernated');
  const db = new Database(server.registry.dbPath(tenantId), { readonly: true });
  const row = db.prepare('SELECT api_key FROM llm_config').get() as { api_key: string };
  const usage = db.prepare('SELECT count(*) AS n FROM llm_usage').get() as { n: number };
  db.close();
  t.match(row.api_key, /^v1\./, 'sealed at rest');
  t.ok(usage.n >= 2, 'each test call is in the usage ledger');

  const moved = await ada.json('PUT', '/api/settings/llm', { provider: 'openai', baseUrl: 'https://llm.example.com/v1' });
  t.match(moved.body, { apiKey: 'not set' }, 'a key is never sent to another endpoint');
  const wrong = await ada.json('PUT', '/api/settings/llm', { provider: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: 'sk-wrong' });
  t.equal(wrong.status, 200);
  t.match((await ada.json('POST', '/api/settings/llm/test')).body, { ok: false, code: 'auth' });
  t.match((await ada.json('DELETE', '/api/settings/llm')).body, { configured: false, using: 'sandbox' });
});

t.test('LLM settings: bad input is refused by field; the cloud refuses private network endpoints', async (t) => {
  const { ada } = await setup(t, 'cloud');
  const bad = await ada.json('PUT', '/api/settings/llm', { provider: 'gemini', apiKey: 7, extra: true });
  t.equal(bad.status, 422);
  t.match(bad.body.error.fields, { provider: /must be one of/ });
  const ssrf = await ada.json('PUT', '/api/settings/llm', { provider: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1' });
  t.equal(ssrf.status, 422);
  t.ok(ssrf.body.error.fields.baseUrl, 'loopback refused in the cloud');
  t.match((await ada.json('POST', '/api/settings/llm/test')).body, { ok: false, code: 'not_configured' }, 'no sandbox LLM outside the sandbox');
  t.equal((await fetch(`${ada.base}/api/settings/llm`)).status, 401);
});
