/**
 * The runtime's jobs on a test clock: a real tenant DB, the sandbox X (its world moves with the clock)
 * with a connected account, the sandbox LLM, and a JobRunner driven alarm by alarm — simulated hours
 * pass in a second, and every X post lands in the fake's world where the test can look for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Test } from 'tap';
import { openDatabase } from '../../migrations/runner.js';
import type { Ceilings, TenantEvent } from '../../protocol/index.js';
import { startFakeLlm, type FakeLlm } from '../../sandbox/llm/index.js';
import { startFakeX, type FakeX } from '../../sandbox/x/index.js';
import { ActionLimits } from '../../tenant-worker/action-limits.js';
import { JobRunner } from '../../tenant-worker/jobs.js';
import { LlmClient } from '../../tenant-worker/llm/client.js';
import { LlmUsageLedger } from '../../tenant-worker/llm/usage.js';
import { runtimeJobs, type LoopDeps } from '../../tenant-worker/runtime/loops/index.js';
import { setRuntimeState } from '../../tenant-worker/runtime/state.js';
import { XClient } from '../../tenant-worker/x/client.js';
import { TokenManager } from '../../tenant-worker/x/token-manager.js';
import { XBudget } from '../../tenant-worker/x-budget.js';
import type { XConnectionStatus } from '../../tenant-worker/x-connection.js';
import { connect, MemoryTokenStore } from './x-client.js';

export const USERNAME = 'acme_hq';

export interface RuntimeHarness {
  db: Database.Database;
  x: FakeX;
  llm: FakeLlm;
  clock: { now: number };
  ceilings: { value: Ceilings };
  connected: { value: boolean };
  events: TenantEvent[];
  deps: LoopDeps;
  runner: JobRunner;
  self: { id: string; username: string };
  setSetting(key: string, value: unknown): void;
  start(): void;
  /** Runs due jobs alarm by alarm until the clock reaches `until` (or `stop` says so after a tick). */
  runUntil(until: number, stop?: () => boolean): Promise<void>;
  /** A new activation over the same DB (what a restart after a crash does). */
  reactivate(): void;
  /** Our posts in the fake X's world. */
  ownPosts(): { id: string; text: string; inReplyTo: string | null; createdAt: number }[];
}

const SETUP: Record<string, unknown> = {
  'business.product_name': 'Acme Pricing',
  'business.product_description': 'Pricing pages that convert for SaaS founders.',
  'business.target_audience': 'indie SaaS founders',
  'business.product_keywords': ['saas pricing', 'indie hacking'],
  'business.competitor_keywords': ['build in public'],
  'business.industry_topics': ['saas pricing', 'startup marketing', 'indie hacking'],
  'scoring.threshold': 35,
};

export interface HarnessOptions {
  start?: number;
  settings?: Record<string, unknown>;
  ceilings?: Ceilings;
  /** A fleet shares one clock, one sandbox X and one sandbox LLM (each tenant its own X account). */
  shared?: { clock: { now: number }; x: FakeX; llm: FakeLlm };
  username?: string;
}

/** The sandbox X and LLM a fleet of harnesses shares, on one clock. */
export async function sharedSandbox(t: Test, start: number): Promise<NonNullable<HarnessOptions['shared']>> {
  const clock = { now: start };
  const now = () => clock.now;
  const x = await startFakeX({ now, world: { postsPerMinute: 4 } });
  const llm = await startFakeLlm({ sampling: 'per-call', now });
  t.teardown(async () => {
    await x.close();
    await llm.close();
  });
  return { clock, x, llm };
}

export async function runtimeHarness(t: Test, options: HarnessOptions = {}): Promise<RuntimeHarness> {
  const { clock, x, llm } = options.shared ?? (await sharedSandbox(t, options.start ?? Date.UTC(2026, 10, 23, 9)));
  const now = () => clock.now;
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-loops-'));
  const db = openDatabase(join(dir, 'tenant.db'), 'tenant');
  t.teardown(async () => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const setSetting = (key: string, value: unknown) =>
    db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  for (const [key, value] of Object.entries({ ...SETUP, ...options.settings })) setSetting(key, value);

  const username = options.username ?? USERNAME;
  const store = new MemoryTokenStore(await connect(x, { username, now }));
  const user = x.users.byUsername(username)!;
  const self = { id: user.id, username: user.username };
  const events: TenantEvent[] = [];
  const emit = (event: TenantEvent) => events.push(event);
  const ceilings = { value: options.ceilings ?? null };
  const connected = { value: true };
  const budget = new XBudget({ db, ceilings: () => ceilings.value, emit, now });
  const ledger = new LlmUsageLedger(db);
  const client = new XClient({
    apiUrl: x.settings.apiUrl,
    tokens: new TokenManager({ store, settings: x.settings, now }),
    budget,
    now,
    random: () => 0.5,
    sleep: async (ms) => {
      clock.now += ms;
    },
  });
  const status = (): XConnectionStatus => ({
    connected: connected.value,
    account: { ...self, name: 'Acme', connectedAt: 0 },
    disconnectedAt: null,
    disconnectedReason: null,
  });
  let seed = 7;
  const random = () => {
    // A small LCG: reproducible draws for jitter, topics and the product-mention coin.
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
    return seed / 2_147_483_648;
  };
  const makeDeps = (): LoopDeps => ({
    db,
    now,
    emit,
    limits: new ActionLimits(db, () => ceilings.value, now),
    ceilings: () => ceilings.value,
    x: () => ({ connection: { status }, budget, client: () => client }),
    llm: () =>
      new LlmClient({
        settings: { provider: 'openai', baseUrl: llm.openaiBaseUrl, apiKey: llm.apiKey, model: 'gpt-4o-mini' },
        onCall: (call) => ledger.record(call),
        now,
        random,
        sleep: async (ms) => {
          clock.now += ms;
        },
      }),
    random,
    sleep: async (ms) => {
      clock.now += ms;
    },
    activation: { reconciled: false },
  });
  const harness: RuntimeHarness = {
    db,
    x,
    llm,
    clock,
    ceilings,
    connected,
    events,
    deps: makeDeps(),
    runner: null as unknown as JobRunner,
    self,
    setSetting,
    start: () => setRuntimeState(db, 'started', clock.now),
    async runUntil(until, stop) {
      for (;;) {
        const next = harness.runner.nextAlarmAt();
        if (next === null || next > until) break;
        clock.now = Math.max(clock.now, next);
        await harness.runner.tick();
        if (stop?.()) return;
      }
      clock.now = Math.max(clock.now, until);
    },
    reactivate() {
      harness.deps = makeDeps();
      harness.runner = new JobRunner(db, runtimeJobs(harness.deps), { clock: now, random });
    },
    ownPosts: () =>
      x.world.posts
        .filter((post) => post.authorId === self.id)
        .map((post) => ({ id: post.id, text: post.text, inReplyTo: post.referenced?.find((ref) => ref.type === 'replied_to')?.id ?? null, createdAt: post.createdAt })),
  };
  harness.runner = new JobRunner(db, runtimeJobs(harness.deps), { clock: now, random });
  return harness;
}
