/** Shared setup for the LLM tests: a sandbox LLM on loopback, a real tenant DB with its ledger, and clients on a test clock. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Test } from 'tap';
import { openDatabase } from '../../migrations/runner.js';
import { keyringOf, SecretBox, TenantSecrets } from '../../protocol/index.js';
import { startFakeLlm, type FakeLlm, type FakeLlmOptions } from '../../sandbox/llm/index.js';
import { LlmClient, type LlmClientOptions } from '../../tenant-worker/llm/client.js';
import type { LlmProvider } from '../../tenant-worker/llm/providers.js';
import { LlmUsageLedger } from '../../tenant-worker/llm/usage.js';

export const TENANT = '7c9e6679-7425-40de-944b-e07dc1f0d5a1';

export interface LlmHarness {
  fake: FakeLlm;
  db: Database.Database;
  dbPath: string;
  ledger: LlmUsageLedger;
  secrets: TenantSecrets;
  box: SecretBox;
  clock: { now: number };
  /** Sleeps the client asked for (ms); they move the test clock instead of waiting. */
  sleeps: number[];
  client(provider?: LlmProvider, options?: Partial<LlmClientOptions> & { model?: string; apiKey?: string | null }): LlmClient;
  /** The llm_usage rows, oldest first. */
  rows(): Array<{ provider: string; model: string; purpose: string; input_units: number; output_units: number; cost_micros: number; priced: number; status: string; http_status: number | null }>;
}

export async function llmHarness(t: Test, options: FakeLlmOptions = {}): Promise<LlmHarness> {
  const fake = await startFakeLlm(options);
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-llm-'));
  const dbPath = join(dir, 'tenant.db');
  const db = openDatabase(dbPath, 'tenant');
  t.teardown(async () => {
    await fake.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const box = new SecretBox(keyringOf(randomBytes(32)));
  const secrets = new TenantSecrets(TENANT, box.tenantKeys(TENANT));
  const ledger = new LlmUsageLedger(db);
  const clock = { now: Date.UTC(2026, 10, 26, 12) };
  const sleeps: number[] = [];
  return {
    fake,
    db,
    dbPath,
    ledger,
    secrets,
    box,
    clock,
    sleeps,
    client(provider = 'openai', overrides = {}) {
      const { model, apiKey, ...rest } = overrides;
      return new LlmClient({
        settings: {
          provider,
          baseUrl: provider === 'anthropic' ? fake.anthropicBaseUrl : fake.openaiBaseUrl,
          apiKey: apiKey === undefined ? fake.apiKey : apiKey,
          model: model ?? (provider === 'anthropic' ? 'claude-sonnet-4-6' : provider === 'openai' ? 'gpt-4o-mini' : 'llama3.2'),
        },
        onCall: (call) => ledger.record(call),
        now: () => clock.now,
        random: () => 0.5,
        sleep: async (ms) => {
          sleeps.push(ms);
          clock.now += ms;
        },
        ...rest,
      });
    },
    rows: () => db.prepare('SELECT provider, model, purpose, input_units, output_units, cost_micros, priced, status, http_status FROM llm_usage ORDER BY id').all() as ReturnType<LlmHarness['rows']>,
  };
}

/** POSTs a raw body to the fake, as a provider's client would. */
export async function post(url: string, headers: Record<string, string>, body: unknown) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}
