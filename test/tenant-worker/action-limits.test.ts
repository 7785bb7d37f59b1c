import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { openDatabase } from '../../migrations/runner.js';
import type { Ceilings } from '../../protocol/index.js';
import { ActionLimits, effectiveLimit, windowStart } from '../../tenant-worker/action-limits.js';

const growth: Ceilings = {
  plan: 'growth',
  repliesPerDay: 3,
  tweetsPerDay: 2,
  threadsPerWeek: 1,
  targets: 10,
  xCostAllowanceCents: 1700,
  xPeriodStart: 0,
  xReadCentsPerDay: 15,
  xUrlPostsPerDay: 2,
  xOverageCapCents: null,
  automation: true,
  readOnly: false,
};

function setup(t: Test, now: number) {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-limits-'));
  const db = openDatabase(join(dir, 'tenant.db'), 'tenant');
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { now, ceilings: growth };
  const limits = new ActionLimits(db, () => env.ceilings, () => env.now);
  const setZone = (zone: string) =>
    db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('timezone', ?, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(JSON.stringify(zone));
  return { env, limits, setZone };
}

t.test('effective limit is min(user setting, plan ceiling)', async (t) => {
  t.equal(effectiveLimit(10, 3), 3);
  t.equal(effectiveLimit(2, 3), 2);
  t.equal(effectiveLimit(null, 3), 3);
  t.equal(effectiveLimit(7, null), 7);
  t.equal(effectiveLimit(null, null), null);
});

t.test('check-and-claim stops at the limit; a released claim frees its place', async (t) => {
  const { limits } = setup(t, Date.UTC(2026, 10, 26, 12));
  const first = limits.claim('reply', null, 'tweet-1');
  limits.claim('reply');
  limits.claim('reply');
  t.same(limits.claim('reply'), { claimed: false, used: 3, limit: 3 });
  t.same(limits.claim('reply', 2), { claimed: false, used: 3, limit: 2 }, 'a lower user setting applies');
  t.ok(first.claimed);
  if (first.claimed) limits.release(first.id);
  t.ok(limits.claim('reply').claimed);
  t.same(limits.usage('tweet'), { used: 0, limit: 2, window: 'day' });
});

t.test('a lower ceiling (downgrade) applies to the current day at once', async (t) => {
  const { env, limits } = setup(t, Date.UTC(2026, 10, 26, 12));
  limits.claim('tweet');
  limits.claim('tweet');
  env.ceilings = { ...growth, tweetsPerDay: 1 };
  t.same(limits.claim('tweet'), { claimed: false, used: 2, limit: 1 });
  env.ceilings = null;
  t.ok(limits.claim('tweet').claimed, 'no ceilings (self-host) and no user setting: no limit');
});

t.test("the day is the tenant's calendar day in its time zone; the week starts on Monday", async (t) => {
  // 2026-11-26 23:30 in New York is 2026-11-27 04:30 UTC.
  const { env, limits, setZone } = setup(t, Date.UTC(2026, 10, 27, 4, 30));
  setZone('America/New_York');
  limits.claim('reply');
  limits.claim('reply');
  limits.claim('reply');
  t.equal(limits.claim('reply').claimed, false);
  env.now = Date.UTC(2026, 10, 27, 5, 1); // 00:01 on the 27th in New York
  t.ok(limits.claim('reply').claimed, 'midnight in the tenant zone opens a new day');
  t.equal(windowStart('week', 'America/New_York', env.now), Date.UTC(2026, 10, 23, 5, 0), 'Monday 00:00 EST');

  t.ok(limits.claim('thread').claimed);
  t.equal(limits.claim('thread').claimed, false);
  env.now = Date.UTC(2026, 10, 30, 5, 1); // Monday 00:01 in New York
  t.ok(limits.claim('thread').claimed, 'a new week');
});

t.test('an invalid time zone setting falls back to UTC', async (t) => {
  const { limits, setZone } = setup(t, Date.UTC(2026, 10, 26, 12));
  setZone('Mars/Olympus_Mons');
  limits.claim('reply');
  t.same(limits.usage('reply'), { used: 1, limit: 3, window: 'day' });
});
