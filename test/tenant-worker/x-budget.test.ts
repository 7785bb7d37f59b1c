import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openDatabase } from '../../migrations/runner.js';
import type { Ceilings, TenantEvent } from '../../protocol/index.js';
import { MICROS_PER_CENT, X_PRICES, XBudget } from '../../tenant-worker/x-budget.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

const starter: NonNullable<Ceilings> = {
  plan: 'starter',
  repliesPerDay: 5,
  tweetsPerDay: 3,
  threadsPerWeek: 1,
  targets: 3,
  xCostAllowanceCents: 100, // $1: 200 post reads, or 66 posts
  xPeriodStart: T0 - 86_400_000,
  xReadCentsPerDay: 10, // 20 post reads a day
  xUrlPostsPerDay: 1,
  xOverageCapCents: null,
  automation: true,
  readOnly: false,
};

function setup(t: Test, initial: Ceilings = starter) {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-budget-'));
  const db = openDatabase(join(dir, 'tenant.db'), 'tenant');
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { now: T0, ceilings: initial, events: [] as TenantEvent[] };
  const budget = new XBudget({ db, ceilings: () => env.ceilings, emit: (event) => env.events.push(event), now: () => env.now });
  return { env, budget, db };
}

const ids = (from: number, n: number) => Array.from({ length: n }, (_, i) => String(from + i));

t.test('reads stop at the daily read budget, then resume the next UTC day', async (t) => {
  const { env, budget } = setup(t);
  t.equal(budget.recordRead('GET /2/tweets/search/recent', ids(0, 19)), 19 * X_PRICES.postRead);
  t.same(budget.check('read'), { allowed: true });
  budget.recordRead('GET /2/tweets/search/recent', ids(100, 1));
  const denied = budget.check('read');
  t.equal(denied.allowed, false);
  t.equal(!denied.allowed && denied.reason, 'read_budget_today');
  t.same(budget.check('create'), { allowed: true }, 'posts are unaffected');
  env.now = Date.UTC(2026, 10, 27, 0, 0, 1);
  t.same(budget.check('read'), { allowed: true });
});

t.test('a post read twice on the same UTC day is charged once', async (t) => {
  const { env, budget } = setup(t);
  t.equal(budget.recordRead('GET /2/tweets/search/recent', ['1', '2', '3']), 3 * X_PRICES.postRead);
  t.equal(budget.recordRead('GET /2/tweets/search/recent', ['2', '3', '4']), 1 * X_PRICES.postRead);
  env.now += 86_400_000;
  t.equal(budget.recordRead('GET /2/tweets/search/recent', ['2']), X_PRICES.postRead, 'a new UTC day charges again');
  t.equal(budget.spentMicros(starter.xPeriodStart!), 5 * X_PRICES.postRead);
});

t.test('allowance exhausted: reads stop first, posts last, and the user is told once', async (t) => {
  const { env, budget } = setup(t, { ...starter, xReadCentsPerDay: null });
  // 79 cents of posts and reads: reads may use up to 80 % (the last 20 % is for posts).
  for (let i = 0; i < 50; i++) budget.recordCreate('POST /2/tweets', false); // 75 cents
  budget.recordRead('GET /2/tweets/search/recent', ids(0, 8)); // 4 cents
  t.same(budget.check('read'), { allowed: true }, '79 + 0.5 < 80 cents');
  budget.recordRead('GET /2/tweets/search/recent', ids(100, 2)); // 80 cents: the reads' share is spent
  const read = budget.check('read');
  t.equal(!read.allowed && read.reason, 'reads_reserved_for_posts');
  t.same(budget.check('create'), { allowed: true }, 'posts still go out');
  for (let i = 0; i < 13; i++) budget.recordCreate('POST /2/tweets', false); // 99.5 cents in all
  const post = budget.check('create');
  t.equal(!post.allowed && post.reason, 'allowance_spent');
  budget.check('create');
  budget.check('read');
  const kinds = env.events.map((event) => (event.data as { reason: string }).reason);
  t.same(kinds, ['reads_reserved_for_posts', 'allowance_spent'], 'one event per reason and period');
  t.ok(env.events.every((event) => event.kind === 'billing.x_budget' && (event.data as { notify: boolean }).notify));

  // A new period (renewal) starts from zero.
  env.ceilings = { ...starter, xReadCentsPerDay: null, xPeriodStart: env.now + 1 };
  env.now += 2;
  t.same(budget.check('create'), { allowed: true });
  t.same(budget.check('read'), { allowed: true });
});

t.test('overage opt-in lets spend continue up to the cap', async (t) => {
  const { env, budget } = setup(t, { ...starter, xOverageCapCents: 50 });
  for (let i = 0; i < 66; i++) budget.recordCreate('POST /2/tweets', false); // 99 cents
  t.same(budget.check('create'), { allowed: true });
  for (let i = 0; i < 34; i++) budget.recordCreate('POST /2/tweets', false); // 150 cents
  t.equal(budget.check('create').allowed, false);
  env.ceilings = { ...starter, xOverageCapCents: 200 };
  t.same(budget.check('create'), { allowed: true }, 'a higher cap applies at once');
  t.equal(budget.spentMicros(starter.xPeriodStart!), 100 * X_PRICES.create);
  t.equal(budget.spentMicros(starter.xPeriodStart!) / MICROS_PER_CENT, 150);
});

t.test('posts with a URL are rationed per day', async (t) => {
  const { env, budget } = setup(t, { ...starter, xCostAllowanceCents: 10_000 });
  t.same(budget.check('create_url'), { allowed: true });
  t.equal(budget.recordCreate('POST /2/tweets', true), X_PRICES.createWithUrl);
  const denied = budget.check('create_url');
  t.equal(!denied.allowed && denied.reason, 'url_posts_today');
  t.same(budget.check('create'), { allowed: true }, 'plain posts are not rationed');
  t.notOk((env.events[0]!.data as { notify: boolean }).notify, 'a daily ration is shown, not mailed');
  env.now += 86_400_000;
  t.same(budget.check('create_url'), { allowed: true });
});

t.test('automation off (no active plan) refuses every X call; no ceilings or an own X app allow them', async (t) => {
  const { env, budget } = setup(t, { ...starter, automation: false });
  for (const kind of ['read', 'create', 'create_url'] as const) {
    const decision = budget.check(kind);
    t.equal(!decision.allowed && decision.reason, 'automation_off');
  }
  env.ceilings = null;
  t.same(budget.check('read'), { allowed: true });
  env.ceilings = { ...starter, xCostAllowanceCents: null, xPeriodStart: null };
  for (let i = 0; i < 100; i++) budget.recordCreate('POST /2/tweets', false);
  t.same(budget.check('create'), { allowed: true }, 'X bills the user directly: no allowance applies');
});
