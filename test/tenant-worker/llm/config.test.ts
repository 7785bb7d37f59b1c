// The tenant's LLM settings: the key sealed at rest (never plaintext in the DB file, never in a
// view), write-only, forgotten when the endpoint changes, re-sealed after a key rotation; the base
// URL policy; and the sandbox default when nothing is configured.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as v from 'valibot';
import t from 'tap';
import { keyringOf, SecretBox, TenantSecrets } from '../../../protocol/index.js';
import { resealTenant } from '../../../tenant-worker/sealed-columns.js';
import { LlmConfig, LlmConfigUpdate, baseUrlProblem, effectiveLlmSettings } from '../../../tenant-worker/llm/config.js';
import { LlmClient } from '../../../tenant-worker/llm/client.js';
import { llmHarness, TENANT } from '../../helpers/llm.js';

const KEY = 'sk-proj-THIS-IS-THE-SECRET-0123456789';
const OPEN = { allowPrivateNetwork: true };
const CLOUD = { allowPrivateNetwork: false };

t.test('the key is sealed at rest and never shown', async (t) => {
  const h = await llmHarness(t);
  const config = new LlmConfig(h.db, h.secrets);
  t.match(config.view(), { configured: false, apiKey: 'not set' });
  t.equal(config.settings(), null);
  const view = config.update({ provider: 'openai', apiKey: KEY }, OPEN);
  t.same(view, { configured: true, provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1', apiKey: 'set', updatedAt: view.updatedAt });
  t.notMatch(JSON.stringify(view), KEY);
  const stored = h.db.prepare<[], { api_key: string }>('SELECT api_key FROM llm_config').get()!.api_key;
  t.match(stored, /^v1\.[0-9a-f]{8}\./);
  h.db.pragma('wal_checkpoint(TRUNCATE)');
  t.notOk(readFileSync(h.dbPath).includes(KEY), 'no plaintext key in the DB file');
  t.same(config.settings(), { provider: 'openai', baseUrl: 'https://api.openai.com/v1', apiKey: KEY, model: 'gpt-4o-mini' });

  const other = new TenantSecrets('00000000-0000-4000-8000-000000000000', h.box.tenantKeys('00000000-0000-4000-8000-000000000000'));
  t.throws(() => new LlmConfig(h.db, other).settings(), { name: 'SecretBoxError' }, 'another tenant cannot open it');
});

t.test('write-only: absent keeps, null clears, a new endpoint forgets the key', async (t) => {
  const h = await llmHarness(t);
  const config = new LlmConfig(h.db, h.secrets);
  config.update({ provider: 'anthropic', apiKey: KEY }, OPEN);
  t.match(config.update({ provider: 'anthropic', model: 'claude-haiku-4-5' }, OPEN), { model: 'claude-haiku-4-5', apiKey: 'set' });
  t.match(config.update({ provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: 'https://attacker.example/v1' }, OPEN), { apiKey: 'not set' }, 'the key is never sent to an endpoint it was not given for');
  config.update({ provider: 'anthropic', apiKey: KEY }, OPEN);
  t.match(config.update({ provider: 'openai' }, OPEN), { provider: 'openai', model: 'gpt-4o-mini', apiKey: 'not set' });
  t.equal(config.settings(), null, 'OpenAI without a key is not usable');
  config.update({ provider: 'openai', apiKey: KEY }, OPEN);
  t.match(config.update({ provider: 'openai', apiKey: null }, OPEN), { apiKey: 'not set' });
  t.match(config.update({ provider: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1/' }, OPEN), { baseUrl: 'http://127.0.0.1:11434/v1', apiKey: 'not set' });
  t.same(config.settings(), { provider: 'openai-compatible', baseUrl: 'http://127.0.0.1:11434/v1', apiKey: null, model: 'llama3.2' }, 'a local server needs no key');
  t.match(config.clear(), { configured: false });
});

t.test('the API schema: providers, model names, URLs and keys', async (t) => {
  t.ok(v.safeParse(LlmConfigUpdate, { provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-x' }).success);
  t.ok(v.safeParse(LlmConfigUpdate, { provider: 'openai-compatible', model: 'qwen2.5:7b', baseUrl: 'http://localhost:11434/v1' }).success);
  for (const bad of [{ provider: 'gemini' }, { provider: 'openai', model: '' }, { provider: 'openai', baseUrl: 'not a url' }, { provider: 'openai', apiKey: 'sk x' }, { provider: 'openai', apiKey: '' }]) {
    t.notOk(v.safeParse(LlmConfigUpdate, bad).success, JSON.stringify(bad));
  }
});

t.test('base URLs: http(s) only, no credentials; private addresses only where allowed', async (t) => {
  t.equal(baseUrlProblem('https://api.openai.com/v1', CLOUD), null);
  t.match(baseUrlProblem('ftp://example.com/v1', OPEN), /http/);
  t.match(baseUrlProblem('https://user:pw@example.com/v1', OPEN), /credentials/);
  t.match(baseUrlProblem('https://example.com/v1?x=1', OPEN), /query/);
  for (const url of ['http://localhost:11434/v1', 'http://127.0.0.1/v1', 'http://2130706433/v1', 'http://10.0.0.5/v1', 'http://169.254.169.254/v1', 'http://[::1]:8080/v1', 'http://192.168.1.2/v1', 'http://ollama.internal/v1']) {
    t.match(baseUrlProblem(url, CLOUD), /private/, url);
    t.equal(baseUrlProblem(url, OPEN), null, url);
  }
  const h = await llmHarness(t);
  t.throws(() => new LlmConfig(h.db, h.secrets).update({ provider: 'openai-compatible', baseUrl: 'http://10.1.2.3/v1' }, CLOUD), { code: 'invalid_params', fields: { baseUrl: /private/ } });
});

t.test('a key rotation re-seals the LLM key, and reading it re-seals it too', async (t) => {
  const h = await llmHarness(t);
  new LlmConfig(h.db, h.secrets).update({ provider: 'openai', apiKey: KEY }, OPEN);
  const oldKey = randomBytes(32);
  const old = new TenantSecrets(TENANT, new SecretBox(keyringOf(oldKey)).tenantKeys(TENANT));
  const rotated = new TenantSecrets(TENANT, new SecretBox(keyringOf(randomBytes(32), oldKey)).tenantKeys(TENANT));
  h.db.prepare('UPDATE llm_config SET api_key = ?').run(old.seal('llm_api_key', KEY));
  t.equal(resealTenant(h.db, rotated), 1);
  const stored = () => h.db.prepare<[], { api_key: string }>('SELECT api_key FROM llm_config').get()!.api_key;
  t.notOk(rotated.isStale(stored()));
  h.db.prepare('UPDATE llm_config SET api_key = ?').run(old.seal('llm_api_key', KEY));
  t.equal(new LlmConfig(h.db, rotated).settings()?.apiKey, KEY);
  t.notOk(rotated.isStale(stored()), 're-sealed on read');
});

t.test('the sandbox default applies only when the tenant has no usable LLM of its own', async (t) => {
  const h = await llmHarness(t);
  const config = new LlmConfig(h.db, h.secrets);
  const sandbox = { provider: 'openai' as const, baseUrl: h.fake.openaiBaseUrl, apiKey: h.fake.apiKey, model: 'gpt-4o-mini' };
  t.same(effectiveLlmSettings(config.settings(), sandbox), sandbox);
  t.equal(effectiveLlmSettings(config.settings(), null), null, 'outside sandbox mode: no LLM');
  const answer = await new LlmClient({ settings: effectiveLlmSettings(config.settings(), sandbox)! }).testConnection();
  t.match(answer, { ok: true, reply: 'OK' });
  config.update({ provider: 'anthropic', apiKey: KEY }, OPEN);
  t.match(effectiveLlmSettings(config.settings(), sandbox), { provider: 'anthropic', apiKey: KEY });
});
