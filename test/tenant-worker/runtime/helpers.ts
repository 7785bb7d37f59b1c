import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { openDatabase } from '../../../migrations/runner.js';
import type { Ceilings, TenantEvent } from '../../../protocol/index.js';
import { ActionLimits } from '../../../tenant-worker/action-limits.js';
import type { RuntimeContext } from '../../../tenant-worker/runtime/context.js';

/** A migrated tenant DB in a temp dir, a clock the test moves, and the events emitted. */
export function runtimeContext(t: Test, start = Date.UTC(2026, 2, 10, 12), ceilings: Ceilings = null) {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-runtime-'));
  const db = openDatabase(join(dir, 'tenant.db'), 'tenant');
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const clock = { now: start, ceilings };
  const events: TenantEvent[] = [];
  const context: RuntimeContext = {
    db,
    now: () => clock.now,
    emit: (event) => events.push(event),
    limits: new ActionLimits(db, () => clock.ceilings, () => clock.now),
  };
  const setSetting = (key: string, value: unknown) =>
    db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, JSON.stringify(value));
  return { db, clock, events, context, setSetting, kinds: () => events.map((e) => e.kind) };
}

/** A deterministic "random" that returns the given values in turn. */
export function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}
