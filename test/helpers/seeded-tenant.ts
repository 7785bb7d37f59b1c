/**
 * Tenant data made by the runtime itself, for the API tests: the real loops on a test clock against
 * the sandbox X and LLM (runtime.ts), run up to the wall clock's now so that "today" and "7 days ago"
 * mean what they mean to a live tenant, then installed as a user's tenant file while it hibernates.
 * The sandbox world is deterministic, so its simulated accounts (AdaBuilds0, …) and the id of a
 * connected username are the same in the test server's own sandbox X.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { DateTime } from 'luxon';
import type { Test } from 'tap';
import { JobRunner } from '../../tenant-worker/jobs.js';
import { analyticsJob } from '../../tenant-worker/runtime/loops/analytics.js';
import { setRuntimeState } from '../../tenant-worker/runtime/state.js';
import type { TenantHost } from '../../supervisor/tenants/host.js';
import type { TenantRegistry } from '../../supervisor/tenants/registry.js';
import { runtimeHarness, USERNAME, type RuntimeHarness } from './runtime.js';
import { until } from './tenants.js';

const HOUR = 3_600_000;

export interface SeedOptions {
  /** Calendar days in the tenant's zone, today included: day `days - 1` is today, run up to now. */
  days: number;
  /**
   * When every loop runs, as [day, from hour, to hour) in the tenant's zone (the sandbox world makes a
   * simulated hour of every loop cost about two seconds); the rest of the time only the analytics job
   * runs (follower snapshots, measurement). A window past now ends at now.
   */
  active: [day: number, fromHour: number, toHour: number][];
  /** Our follower count on each simulated day (0 = the first). */
  followersOn?: (day: number) => number;
  /** Target accounts the user listed (by username, unresolved, as the dashboard adds them without X). */
  targets?: string[];
  settings?: Record<string, unknown>;
  /** The tenant's time zone (setting `timezone`); default UTC. */
  zone?: string;
}

export interface SeededTenant extends RuntimeHarness {
  /** Midnight of day 0 and the wall clock's now when seeding began. */
  from: number;
  end: number;
  /** Midnight of a simulated day in the tenant's zone. */
  dayStart(day: number): number;
}

export async function seedThroughRuntime(t: Test, options: SeedOptions): Promise<SeededTenant> {
  const zone = options.zone ?? 'UTC';
  const end = Date.now();
  const dayStart = (day: number) => DateTime.fromMillis(end, { zone }).startOf('day').minus({ days: options.days - 1 - day }).toMillis();
  const start = dayStart(0);
  const h = await runtimeHarness(t, {
    start,
    // Direct posting all day: the most activity per simulated hour.
    settings: { approval_mode: false, timezone: zone, 'schedule.active_hours_start': 0, 'schedule.active_hours_end': 0, ...options.settings },
  });
  // Seeding needs no durability: without an fsync per commit the simulated days run several times faster.
  h.db.pragma('synchronous = OFF');
  for (const username of options.targets ?? []) h.db.prepare('INSERT INTO target_accounts (username, added_at) VALUES (?, ?)').run(username, start);
  h.start();
  const self = h.x.world.userByName(USERNAME)!;
  const windows = options.active.map(([day, from, to]) => [dayStart(day) + from * HOUR, Math.min(dayStart(day) + to * HOUR, end)] as const);
  const days = Array.from({ length: options.days }, (_, day) => dayStart(day));
  const steps = [...new Set([...days, ...windows.flat(), end])].filter((at) => at >= start && at <= end).sort((a, b) => a - b);
  let everyLoop: boolean | null = null;
  for (const [index, at] of steps.entries()) {
    const next = steps[index + 1];
    if (next === undefined) break;
    const wanted = windows.some(([from, to]) => at >= from && at < to);
    if (wanted !== everyLoop) {
      if (wanted) h.reactivate();
      else h.runner = new JobRunner(h.db, [analyticsJob(h.deps)], { clock: () => h.clock.now, random: h.deps.random });
      everyLoop = wanted;
    }
    const day = days.filter((midnight) => midnight <= at).length - 1;
    if (options.followersOn) self.followers = options.followersOn(day);
    await h.runUntil(next);
  }
  return Object.assign(h, { from: start, end, dayStart });
}

/**
 * Replaces a (hibernated) tenant's file with the seeded DB, its runtime stopped: the test reads what
 * was made, and no loop of the real actor changes it meanwhile.
 */
export async function installTenantDb(host: TenantHost, registry: TenantRegistry, tenantId: string, h: RuntimeHarness): Promise<void> {
  await until(() => host.state(tenantId) === 'hibernated');
  setRuntimeState(h.db, 'stopped', Date.now());
  h.db.pragma('wal_checkpoint(TRUNCATE)');
  const path = registry.dbPath(tenantId);
  for (const suffix of ['-wal', '-shm']) rmSync(path + suffix, { force: true });
  copyFileSync(h.db.name, path);
}
