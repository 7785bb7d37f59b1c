/**
 * The tenant's LLM settings (`llm_config`, one row): provider, model, base URL and the API key,
 * sealed with the tenant's key under the field name `llm_api_key`.
 *
 * The key is write-only: `view()` says only whether it is set. Changing the provider or the base
 * URL without giving a key again forgets the stored one, so nobody holding a session can point the
 * tenant at their own server and have it send them the key. Values sealed under an older master key
 * are re-sealed as they are read (key rotation), as the X tokens are.
 */
import type Database from 'better-sqlite3';
import * as v from 'valibot';
import { RemoteError, type TenantSecrets } from '../../protocol/index.js';
import { LLM_PROVIDERS, PROVIDER_DEFAULTS, type LlmProvider, type LlmSettings } from './providers.js';

export const LLM_KEY_FIELD = 'llm_api_key';

export interface LlmConfigView {
  configured: boolean;
  provider: LlmProvider | null;
  model: string | null;
  baseUrl: string | null;
  apiKey: 'set' | 'not set';
  updatedAt: number | null;
}

/** What the settings API accepts: `apiKey` absent keeps the key, null clears it, a string replaces it. */
export const LlmConfigUpdate = v.object({
  provider: v.picklist(LLM_PROVIDERS),
  model: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(200), v.regex(/^[\w.:/@+-]+$/, 'is not a model name'))),
  baseUrl: v.optional(v.nullable(v.pipe(v.string(), v.trim(), v.maxLength(500), v.url()))),
  apiKey: v.optional(v.nullable(v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(500), v.regex(/^[\x21-\x7e]+$/, 'has characters an API key cannot have')))),
});
export type LlmConfigUpdate = v.InferOutput<typeof LlmConfigUpdate>;

export interface UpdatePolicy {
  /**
   * Whether the base URL may name loopback or private addresses (an Ollama on the same machine).
   * Self-host and sandbox: yes; the cloud: no, or a tenant could make our servers call inside our network.
   */
  allowPrivateNetwork: boolean;
}

interface Row {
  provider: LlmProvider;
  model: string;
  base_url: string;
  api_key: string | null;
  updated_at: number;
}

export class LlmConfig {
  readonly #db: Database.Database;
  readonly #secrets: TenantSecrets | null;
  readonly #now: () => number;

  constructor(db: Database.Database, secrets: TenantSecrets | null, now: () => number = Date.now) {
    this.#db = db;
    this.#secrets = secrets;
    this.#now = now;
  }

  #row(): Row | undefined {
    return this.#db.prepare<[], Row>('SELECT provider, model, base_url, api_key, updated_at FROM llm_config WHERE id = 1').get();
  }

  #box(): TenantSecrets {
    if (!this.#secrets) throw new RemoteError('secrets_unavailable', 'This tenant was started without its secret keys.');
    return this.#secrets;
  }

  view(): LlmConfigView {
    const row = this.#row();
    if (!row) return { configured: false, provider: null, model: null, baseUrl: null, apiKey: 'not set', updatedAt: null };
    return { configured: true, provider: row.provider, model: row.model, baseUrl: row.base_url, apiKey: row.api_key === null ? 'not set' : 'set', updatedAt: row.updated_at };
  }

  update(input: LlmConfigUpdate, policy: UpdatePolicy): LlmConfigView {
    const current = this.#row();
    const provider = input.provider;
    const baseUrl = (input.baseUrl ?? PROVIDER_DEFAULTS[provider].baseUrl).replace(/\/+$/, '');
    const problem = baseUrlProblem(baseUrl, policy);
    if (problem) throw new RemoteError('invalid_params', 'The request parameters are invalid.', { baseUrl: problem });
    const model = input.model ?? (current?.provider === provider ? current.model : PROVIDER_DEFAULTS[provider].model);
    const sameEndpoint = current !== undefined && current.provider === provider && current.base_url === baseUrl;
    // A key given for one endpoint is never sent to another: a new endpoint needs the key again.
    const apiKey = input.apiKey === undefined ? (sameEndpoint ? current.api_key : null) : input.apiKey === null ? null : this.#box().seal(LLM_KEY_FIELD, input.apiKey);
    this.#db
      .prepare(
        `INSERT INTO llm_config (id, provider, model, base_url, api_key, updated_at) VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, model = excluded.model, base_url = excluded.base_url,
           api_key = excluded.api_key, updated_at = excluded.updated_at`,
      )
      .run(provider, model, baseUrl, apiKey, this.#now());
    return this.view();
  }

  /** Forgets the whole configuration, key included. */
  clear(): LlmConfigView {
    this.#db.prepare('DELETE FROM llm_config WHERE id = 1').run();
    return this.view();
  }

  /**
   * The settings to build a client from, key opened; null when nothing usable is configured (no row,
   * or OpenAI/Anthropic without a key).
   */
  settings(): LlmSettings | null {
    const row = this.#row();
    if (!row) return null;
    if (row.api_key === null) return row.provider === 'openai-compatible' ? { provider: row.provider, baseUrl: row.base_url, apiKey: null, model: row.model } : null;
    const box = this.#box();
    const apiKey = box.open(LLM_KEY_FIELD, row.api_key);
    if (box.isStale(row.api_key)) {
      this.#db.prepare('UPDATE llm_config SET api_key = ? WHERE id = 1 AND api_key = ?').run(box.seal(LLM_KEY_FIELD, apiKey), row.api_key);
    }
    return { provider: row.provider, baseUrl: row.base_url, apiKey, model: row.model };
  }
}

/**
 * The tenant's own LLM when it has one, else the fallback the host offers (the sandbox LLM in
 * sandbox mode), else null: the runtime then skips generation and says why.
 */
export function effectiveLlmSettings(configured: LlmSettings | null, fallback: LlmSettings | null): LlmSettings | null {
  return configured ?? fallback;
}

/** Why a base URL is refused, or null. Literal addresses only: a hostname's DNS is the caller's to pin. */
export function baseUrlProblem(baseUrl: string, policy: UpdatePolicy): string | null {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    return 'must be a URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (use the API key field)';
  if (url.search !== '' || url.hash !== '') return 'must not have a query or fragment';
  if (!policy.allowPrivateNetwork && isPrivateHost(url.hostname)) return 'must not point at a loopback or private network address';
  return null;
}

function isPrivateHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal')) return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127);
  }
  if (host.includes(':')) return host === '::' || host === '::1' || /^f[cd]/.test(host) || /^fe[89ab]/.test(host) || host.startsWith('::ffff:');
  return false;
}
