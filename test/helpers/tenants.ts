/** A real tenant host on real threads and real SQLite files in a temp directory. */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import type Database from 'better-sqlite3';
import { openDatabase } from '../../migrations/runner.js';
import { createMetrics, type Metrics } from '../../supervisor/metrics.js';
import { TenantHost, type HostOptions } from '../../supervisor/tenants/host.js';
import { TenantRegistry } from '../../supervisor/tenants/registry.js';

export interface TestTenants {
  dir: string;
  db: Database.Database;
  registry: TenantRegistry;
  host: TenantHost;
  metrics: Metrics;
  log: Logger;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export function tempDataDir(prefix = 'tuitbot-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(join(dir, 'tenants'), { recursive: true });
  return dir;
}

export function captureLog(): { log: Logger; logs: Record<string, unknown>[] } {
  const logs: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, logs };
}

export function startTenants(overrides: Partial<HostOptions> = {}): TestTenants {
  const dir = tempDataDir();
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, dir);
  const metrics = createMetrics();
  const { log, logs } = captureLog();
  const host = new TenantHost({
    registry,
    log,
    metrics,
    threads: 2,
    idleMs: 200,
    heapMb: 64,
    heartbeatMs: 50,
    heartbeatTimeoutMs: 1_000,
    metricsMs: 100,
    activationQueue: 100,
    restart: { limit: 3, windowMs: 600_000, backoffMs: 50, backoffMaxMs: 400 },
    devHooks: true,
    logLevel: 'warn',
    ...overrides,
  });
  metrics.setTenantSource(host);
  return {
    dir,
    db,
    registry,
    host,
    metrics,
    log,
    logs,
    async close() {
      await host.shutdown(Date.now() + 2_000);
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function until(predicate: () => boolean, timeoutMs = 15_000, stepMs = 10): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
}
