/**
 * The floor of a wake: what one activation costs when nothing else runs.
 *
 *   npx tsx bench/activation-cost.ts [--dist=1] [--tenants=400] [--threads=2] [--concurrency=1]
 *
 * Requests go one after another (or `concurrency` at a time) to hibernated tenants on an otherwise
 * idle host with `idleMs: 0`, so every request is activate → open DB → answer → checkpoint and
 * close. Prints wall time per activation and the process's CPU per activation (all threads), the
 * numbers that bound how fast a burst of wakes can be served on this machine.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { checkpointAndClose, openDatabase } from '../migrations/runner.js';
import { createMetrics } from '../supervisor/metrics.js';
import type { TenantHost as SourceTenantHost } from '../supervisor/tenants/host.js';
import { TenantRegistry } from '../supervisor/tenants/registry.js';
import { CpuWindow, HOST_DEFAULTS, fmt, option, sleep, summarize } from './lib.js';

const opts = { tenants: option('tenants', 400), threads: option('threads', 2), concurrency: option('concurrency', 1), dist: option('dist', 0) };

const dir = mkdtempSync(join(tmpdir(), 'tuitbot-bench-activation-'));
try {
  mkdirSync(join(dir, 'tenants'));
  const template = join(dir, 'template.db');
  const seedDb = openDatabase(template, 'tenant');
  seedDb.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)').run('greeting', '"hello"', Date.now());
  checkpointAndClose(seedDb);
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, dir);
  const ids = Array.from({ length: opts.tenants }, () => {
    const { id } = registry.create();
    copyFileSync(template, registry.dbPath(id));
    registry.setNextAlarm(id, null);
    return id;
  });
  const { TenantHost } = (await import(opts.dist ? '../dist/supervisor/tenants/host.js' : '../supervisor/tenants/host.js')) as { TenantHost: typeof SourceTenantHost };
  const host = new TenantHost({
    registry,
    log: pino({ level: 'warn' }, pino.destination(2)),
    metrics: createMetrics(),
    threads: opts.threads,
    idleMs: 0,
    ...HOST_DEFAULTS,
  });
  const wakes: number[] = [];
  host.on('activated', (_id, { wakeMs }) => wakes.push(wakeMs));
  const round = async (list: string[]) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: opts.concurrency }, async () => {
        while (next < list.length) await host.request(list[next++]!, 'settings.get', { key: 'greeting' }, 10_000);
      }),
    );
    while (host.residentCounts()['hibernating']! + host.residentCounts()['active']! > 0) await sleep(5);
  };
  // The first half warms the threads' code; the second is measured.
  const half = Math.floor(ids.length / 2);
  await round(ids.slice(0, half));
  wakes.length = 0;
  const cpu = new CpuWindow();
  const started = performance.now();
  await round(ids.slice(half));
  const wallMs = performance.now() - started;
  const c = cpu.read();
  const n = ids.length - half;
  const w = summarize(wakes);
  console.log(
    `${n} activations, ${opts.threads} threads, concurrency ${opts.concurrency}${opts.dist ? ', dist' : ''}: ${fmt(wallMs / n, 3)} ms wall and ${fmt(((c.userS + c.systemS) * 1000) / n, 3)} ms CPU per activation; wake p50 / p99 ${fmt(w.p50, 2)} / ${fmt(w.p99, 2)} ms`,
  );
  await host.shutdown(Date.now() + 5_000);
  checkpointAndClose(db);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
