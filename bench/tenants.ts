/**
 * Tenant density: 10,000 hibernating tenants on a small piscina pool, against the baseline of
 * one dedicated Worker per tenant.
 *
 *   npx tsx bench/tenants.ts [--dist=1] [--tenants=10000] [--threads=16] [--duration=180] [--every-ms=60000]
 *                            [--wait-min=20] [--wait-max=50] [--idle-ms=30000]
 *                            [--burst-every=10] [--burst-size=50]
 *                            [--baseline-workers=1000] [--baseline-duration=130] [--json=path]
 *   (every option can also be given as BENCH_<NAME>, e.g. BENCH_TENANTS=2000)
 *
 * Three processes, one after the other, so each one's RSS and CPU are its own:
 * 1. this one (the orchestrator) seeds a temp data dir: `management.db` with N registered tenants,
 *    and one tenant DB each whose `dev.io` setting gives it a job every `every-ms` that waits
 *    20–50 ms (a simulated network call) and increments a counter row;
 * 2. a child runs the real TenantHost + AlarmScheduler (wired as supervisor/app.ts does) for
 *    `duration` seconds. Alarms are spread uniformly over the first interval (a steady state of
 *    N / every-ms activations per second, not a thundering herd). While they run, every
 *    `burst-every` seconds a burst of `burst-size` concurrent requests goes to hibernated tenants;
 * 3. a child spawns `baseline-workers` dedicated Workers, each with its own better-sqlite3 handle
 *    on one of the same tenant DBs, running the same job with setTimeout.
 * The orchestrator then reads every tenant DB's run counter, prints a markdown block for
 * RESULTS.md and deletes the temp dir.
 */
import { fork } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { checkpointAndClose, openDatabase } from '../migrations/runner.js';
import { createMetrics } from '../supervisor/metrics.js';
import type { TenantHost as SourceTenantHost } from '../supervisor/tenants/host.js';
import { TenantRegistry } from '../supervisor/tenants/registry.js';
import { AlarmScheduler } from '../supervisor/tenants/scheduler.js';
import { CpuWindow, HOST_DEFAULTS, GiB, MiB, RssSampler, fmt, machine, memory, option, sleep, summarize, type Summary } from './lib.js';

const opts = {
  tenants: option('tenants', 10_000),
  threads: option('threads', 16),
  durationS: option('duration', 180),
  everyMs: option('every-ms', 60_000),
  waitMin: option('wait-min', 20),
  waitMax: option('wait-max', 50),
  idleMs: option('idle-ms', 30_000),
  burstEveryS: option('burst-every', 10),
  burstSize: option('burst-size', 50),
  baselineWorkers: option('baseline-workers', 1_000),
  baselineDurationS: option('baseline-duration', 130),
  json: option('json', ''),
  /** 1: run the compiled build (`npm run build`), as production does: threads load plain JS. */
  dist: option('dist', 0),
};
type Options = typeof opts;

// Tenants that only load the worker's modules on every thread before measuring starts.
const WARMUP_PREFIX = 'ffffffff-';

// ---- 1. the orchestrator --------------------------------------------------------------------

interface PoolResult {
  threads: number;
  windowS: number;
  wake: { alarm: Summary; request: Summary; other: Summary };
  /** The part of wake latency spent waiting for a free thread, and the rest (dispatch → ready). */
  queued: { alarm: Summary; request: Summary };
  opening: { alarm: Summary; request: Summary };
  burstRequestMs: Summary;
  burstErrors: Record<string, number>;
  lagFromActivation: Summary;
  lagFromTicks: Summary;
  tickEvents: number;
  activations: Record<string, number>;
  activationsPerS: number;
  threadsBusy: { mean: number; max: number };
  queue: { mean: number; max: number };
  rssPeak: number;
  rssIdle: number;
  hwm: number;
  cpu: ReturnType<CpuWindow['read']>;
  loopDelayP99Ms: number;
  crashes: number;
}

interface BaselineResult {
  workers: number;
  rssBefore: number;
  rssAfterSpawn: number;
  rssPeak: number;
  spawnMs: Summary;
  spawnWallS: number;
  spawnCpu: ReturnType<CpuWindow['read']>;
  runCpu: ReturnType<CpuWindow['read']>;
  lag: Summary;
  runs: number;
  loopDelayP99Ms: number;
}

async function orchestrate(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-bench-'));
  try {
    console.error(`[bench] data dir ${dir}`);
    const seedStart = performance.now();
    const ids = seed(dir, opts);
    const seedS = (performance.now() - seedStart) / 1000;
    console.error(`[bench] seeded ${ids.length} tenants in ${fmt(seedS)} s`);

    const pool = await child<PoolResult>('pool', dir, opts);
    const runs = countRuns(dir, ids);
    const baseline = opts.baselineWorkers > 0 ? await child<BaselineResult>('baseline', dir, opts) : null;

    const report = render(opts, seedS, pool, runs, baseline);
    console.log(report);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ opts, seedS, pool, runs, baseline }, null, 2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Registers the tenants and gives each a migrated DB. The DBs are copies of a few templates
 * (one per wait time) made with the product's own `openDatabase`, so a copy is byte-for-byte what
 * seeding each one would give, in a fraction of the time.
 */
function seed(dir: string, o: Options): string[] {
  mkdirSync(join(dir, 'tenants'), { recursive: true });
  mkdirSync(join(dir, 'templates'));
  const templates: string[] = [];
  for (let wait = o.waitMin; wait <= o.waitMax; wait++) {
    const path = join(dir, 'templates', `wait-${wait}.db`);
    const db = openDatabase(path, 'tenant');
    db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)').run('dev.io', JSON.stringify({ everyMs: o.everyMs, waitMs: wait }), Date.now());
    checkpointAndClose(db);
    templates.push(path);
  }
  const plain = join(dir, 'templates', 'plain.db');
  checkpointAndClose(openDatabase(plain, 'tenant'));

  const db = openDatabase(join(dir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, dir);
  const ids: string[] = [];
  db.transaction(() => {
    for (let i = 0; i < o.tenants; i++) {
      const { id } = registry.create();
      copyFileSync(templates[Math.floor(Math.random() * templates.length)]!, registry.dbPath(id));
      ids.push(id);
    }
    for (let i = 0; i < o.threads * 2; i++) {
      const id = `${WARMUP_PREFIX}${i.toString(16).padStart(4, '0')}-4000-8000-000000000000`;
      registry.create({ id });
      copyFileSync(plain, registry.dbPath(id));
    }
  })();
  checkpointAndClose(db);
  return ids;
}

function child<T>(role: 'pool' | 'baseline', dir: string, o: Options): Promise<T> {
  return new Promise((resolve, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), [`--role=${role}`, `--dir=${dir}`], {
      env: { ...process.env, BENCH_OPTIONS: JSON.stringify(o) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: T | undefined;
    proc.on('message', (message) => (result = message as T));
    proc.on('error', reject);
    proc.on('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`${role} child exited with ${code} and no result`))));
  });
}

/** The counter each job run increments: did every tenant run at least twice? */
function countRuns(dir: string, ids: string[]): { min: number; p50: number; max: number; atLeastTwice: number; total: number } {
  const counts: number[] = [];
  for (const id of ids) {
    const db = new Database(join(dir, 'tenants', `${id}.db`), { readonly: true });
    const row = db.prepare<[], { value: string }>("SELECT value FROM settings WHERE key = 'dev.io.runs'").get();
    counts.push(row ? Number(row.value) : 0);
    db.close();
  }
  const s = summarize(counts);
  return { min: Math.min(...counts), p50: s.p50, max: s.max, atLeastTwice: counts.filter((n) => n >= 2).length, total: counts.reduce((a, b) => a + b, 0) };
}

// ---- 2. the pool ----------------------------------------------------------------------------

async function runPool(dir: string, o: Options): Promise<PoolResult> {
  const log = pino({ level: 'warn' }, pino.destination(2));
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, dir);
  const metrics = createMetrics();
  const { TenantHost } = (await import(o.dist ? '../dist/supervisor/tenants/host.js' : '../supervisor/tenants/host.js')) as {
    TenantHost: typeof SourceTenantHost;
  };
  // The product's defaults (supervisor/config.ts) except threads and idleMs, which are options.
  const host = new TenantHost({
    registry,
    log,
    metrics,
    threads: o.threads,
    idleMs: o.idleMs,
    ...HOST_DEFAULTS,
  });
  metrics.setTenantSource(host);
  const scheduler = new AlarmScheduler({ registry, host, log, batch: Math.max(64, o.threads * 4) });
  host.on('alarm', (_id, at) => scheduler.notify(at));
  host.on('alarm', () => {
    if (host.queueLength() < host.threads) scheduler.poke();
  });

  // Warm every thread (module loading under tsx costs ~200 ms once per thread) with tenants
  // that have no jobs, then forget them.
  const all = registry.list();
  const warmups = all.filter((t) => t.id.startsWith(WARMUP_PREFIX)).map((t) => t.id);
  const tenants = all.filter((t) => !t.id.startsWith(WARMUP_PREFIX)).map((t) => t.id);
  await sleep(1_000);
  await Promise.all(warmups.map((id) => host.request(id, 'ping', undefined, 30_000)));
  for (const id of warmups) registry.setNextAlarm(id, null);

  let measuring = false;
  const wake = { alarm: [] as number[], request: [] as number[], other: [] as number[] };
  const queued = { alarm: [] as number[], request: [] as number[] };
  const opening = { alarm: [] as number[], request: [] as number[] };
  const lagFromActivation: number[] = [];
  const lagFromTicks: number[] = [];
  let tickEvents = 0;
  const activations: Record<string, number> = {};
  host.on('activated', (id, { reason, wakeMs, queuedMs }) => {
    if (!measuring || id.startsWith(WARMUP_PREFIX)) return;
    activations[reason] = (activations[reason] ?? 0) + 1;
    (reason === 'alarm' ? wake.alarm : reason === 'request' ? wake.request : wake.other).push(wakeMs);
    if (reason === 'alarm' || reason === 'request') {
      queued[reason].push(queuedMs);
      opening[reason].push(wakeMs - queuedMs);
    }
    if (reason === 'alarm') {
      // The registry still holds the alarm that was due: onReady stores the new one right after
      // this event. The job starts on the tenant's thread before 'ready' reaches us, so this is
      // an upper bound of its start − due, within one message hop.
      const due = registry.get(id)?.nextAlarmAt;
      if (due != null) lagFromActivation.push(Math.max(0, Date.now() - due));
    }
  });
  host.on('tick', (_id, runs) => {
    if (!measuring) return;
    tickEvents += 1;
    for (const run of runs) lagFromTicks.push(run.lagMs);
  });

  // Steady state: alarms spread evenly over the first interval, in a random order.
  const shuffled = [...tenants].sort(() => Math.random() - 0.5);
  const start = Date.now() + 500;
  db.transaction(() => shuffled.forEach((id, i) => registry.setNextAlarm(id, start + Math.floor((i * o.everyMs) / shuffled.length))))();
  const rssIdle = memory().rss;

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const rss = new RssSampler(250);
  const cpu = new CpuWindow();
  measuring = true;
  scheduler.start();

  let busySamples = 0;
  let busySum = 0;
  let busyMax = 0;
  let queueSum = 0;
  let queueMax = 0;
  const sampler = setInterval(() => {
    const c = host.residentCounts();
    const busy = c['activating']! + c['active']! + c['hibernating']!;
    busySamples += 1;
    busySum += busy;
    busyMax = Math.max(busyMax, busy);
    queueSum += host.queueLength();
    queueMax = Math.max(queueMax, host.queueLength());
  }, 100);

  // Bursts of on-demand requests to tenants that are hibernated right now.
  const burstRequestMs: number[] = [];
  const burstErrors: Record<string, number> = {};
  const bursts: Promise<unknown>[] = [];
  const burster = setInterval(() => {
    const picked = new Set<string>();
    for (let tries = 0; picked.size < o.burstSize && tries < o.burstSize * 20; tries++) {
      const id = tenants[Math.floor(Math.random() * tenants.length)]!;
      if (host.state(id) === 'hibernated') picked.add(id);
    }
    for (const id of picked) {
      const t0 = performance.now();
      bursts.push(
        host.request(id, 'settings.get', { key: 'dev.io' }, 15_000).then(
          () => burstRequestMs.push(performance.now() - t0),
          (error: { code?: string }) => (burstErrors[error.code ?? 'unknown'] = (burstErrors[error.code ?? 'unknown'] ?? 0) + 1),
        ),
      );
    }
  }, o.burstEveryS * 1_000);

  const progress = setInterval(() => {
    const c = host.residentCounts();
    console.error(
      `[pool] t=${fmt((Date.now() - start) / 1000, 0)}s activations=${JSON.stringify(activations)} resident=${JSON.stringify(c)} queue=${host.queueLength()} rss=${fmt(memory().rss / MiB, 0)}MiB`,
    );
  }, 15_000);

  await sleep(o.durationS * 1_000);
  measuring = false;
  const cpuRead = cpu.read();
  clearInterval(burster);
  clearInterval(sampler);
  clearInterval(progress);
  rss.stop();
  loop.disable();
  scheduler.stop();
  await Promise.allSettled(bursts);
  await host.shutdown(Date.now() + 10_000);
  const crashes = (await metrics.crashes.get()).values.reduce((sum, v) => sum + v.value, 0);
  checkpointAndClose(db);

  const activationsTotal = Object.values(activations).reduce((a, b) => a + b, 0);
  return {
    threads: o.threads,
    windowS: cpuRead.wallS,
    wake: { alarm: summarize(wake.alarm), request: summarize(wake.request), other: summarize(wake.other) },
    queued: { alarm: summarize(queued.alarm), request: summarize(queued.request) },
    opening: { alarm: summarize(opening.alarm), request: summarize(opening.request) },
    burstRequestMs: summarize(burstRequestMs),
    burstErrors,
    lagFromActivation: summarize(lagFromActivation),
    lagFromTicks: summarize(lagFromTicks),
    tickEvents,
    activations,
    activationsPerS: activationsTotal / cpuRead.wallS,
    threadsBusy: { mean: busySum / busySamples, max: busyMax },
    queue: { mean: queueSum / busySamples, max: queueMax },
    rssPeak: rss.max,
    rssIdle,
    hwm: memory().hwm,
    cpu: cpuRead,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
    crashes,
  };
}

// ---- 3. the baseline: one dedicated Worker per tenant ----------------------------------------

// Plain CommonJS, evaluated: no TypeScript loader, no valibot, no pino, so this is the cheapest a
// dedicated tenant thread can be (the real actor would cost more, not less).
const BASELINE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
const setting = db.prepare("SELECT value FROM settings WHERE key = 'dev.io'").get();
const { everyMs, waitMs } = JSON.parse(setting.value);
const count = db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('dev.io.runs', '1', ?) ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1, updated_at = excluded.updated_at");
let timer = null;
function schedule(due) {
  timer = setTimeout(() => run(due), Math.max(0, due - Date.now()));
}
async function run(due) {
  const started = Date.now();
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  count.run(Date.now());
  const ended = Date.now();
  parentPort.postMessage({ lagMs: started - due, durationMs: ended - started });
  schedule(ended + everyMs);
}
parentPort.on('message', (message) => {
  if (message.type === 'start') schedule(message.firstAt);
  if (message.type === 'stop') {
    clearTimeout(timer);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ ready: true });
`;

async function runBaseline(dir: string, o: Options): Promise<BaselineResult> {
  const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
  const mdb = new Database(join(dir, 'management.db'), { readonly: true });
  const ids = mdb
    .prepare<[string, number], { id: string }>('SELECT id FROM tenants WHERE id NOT LIKE ? ORDER BY id LIMIT ?')
    .all(`${WARMUP_PREFIX}%`, o.baselineWorkers);
  mdb.close();
  const rssBefore = memory().rss;
  const rss = new RssSampler(250);
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();

  const workers: Worker[] = [];
  const spawnMs: number[] = [];
  const lags: number[] = [];
  let measuring = false;
  const spawnCpu = new CpuWindow();
  for (const [i, { id }] of ids.entries()) {
    const t0 = performance.now();
    const worker = new Worker(BASELINE_WORKER, { eval: true, workerData: { sqlite, path: join(dir, 'tenants', `${id}.db`) } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    spawnMs.push(performance.now() - t0);
    worker.on('message', (m: { lagMs: number }) => {
      if (measuring) lags.push(m.lagMs);
    });
    workers.push(worker);
    if ((i + 1) % 250 === 0) console.error(`[baseline] ${i + 1} workers, rss=${fmt(memory().rss / MiB, 0)}MiB`);
  }
  const spawnCpuRead = spawnCpu.read();
  await sleep(2_000);
  const rssAfterSpawn = rss.sample();

  const start = Date.now() + 500;
  workers.forEach((worker, i) => worker.postMessage({ type: 'start', firstAt: start + Math.floor((i * o.everyMs) / workers.length) }));
  measuring = true;
  const runCpu = new CpuWindow();
  await sleep(o.baselineDurationS * 1_000);
  measuring = false;
  const runCpuRead = runCpu.read();
  rss.stop();
  loop.disable();

  await Promise.all(
    workers.map((worker) => {
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage({ type: 'stop' });
      return Promise.race([exited, sleep(5_000).then(() => worker.terminate())]);
    }),
  );
  return {
    workers: workers.length,
    rssBefore,
    rssAfterSpawn,
    rssPeak: rss.max,
    spawnMs: summarize(spawnMs),
    spawnWallS: spawnCpuRead.wallS,
    spawnCpu: spawnCpuRead,
    runCpu: runCpuRead,
    lag: summarize(lags),
    runs: lags.length,
    loopDelayP99Ms: loop.percentile(99) / 1e6,
  };
}

// ---- the report -----------------------------------------------------------------------------

function ms(s: Summary): string {
  return s.n === 0 ? 'n/a (0 samples)' : `${fmt(s.p50)} / ${fmt(s.p99)} ms (max ${fmt(s.max)}, n=${s.n})`;
}

function verdict(ok: boolean): string {
  return ok ? 'meets' : '**misses**';
}

function render(o: Options, seedS: number, p: PoolResult, runs: ReturnType<typeof countRuns>, b: BaselineResult | null): string {
  const perWorker = b ? (b.rssAfterSpawn - b.rssBefore) / b.workers : NaN;
  const perWorkerPeak = b ? (b.rssPeak - b.rssBefore) / b.workers : NaN;
  const fit = b ? Math.floor((24 * GiB - b.rssBefore) / perWorkerPeak) : NaN;
  const wakeP99 = Math.max(p.wake.alarm.p99, p.wake.request.p99);
  const lines = [
    `### Tenants: ${o.tenants.toLocaleString('en-US')} hibernating tenants on ${p.threads} threads vs one Worker per tenant`,
    '',
    machine(),
    '',
    `Workload: each tenant has one job every ${o.everyMs / 1000} s that waits ${o.waitMin}–${o.waitMax} ms (simulated network call, fixed per tenant) and then increments a counter row in its own SQLite DB (WAL, synchronous=FULL).`,
    `First alarms spread evenly over the first ${o.everyMs / 1000} s in random order, so this is the steady state (~${fmt(o.tenants / (o.everyMs / 1000), 0)} wakes/s), not a thundering herd.`,
    `Every ${o.burstEveryS} s, ${o.burstSize} concurrent \`settings.get\` requests go to tenants that are hibernated at that moment. idleMs=${o.idleMs}; other host settings are the product defaults. Seeding took ${fmt(seedS)} s (not measured).`,
    '',
    `**Pool** (TenantHost, ${p.threads} threads, measured over ${fmt(p.windowS, 0)} s)`,
    '',
    '| metric | result | target |',
    '|---|---|---|',
    `| wake latency, alarm (p50 / p99) | ${ms(p.wake.alarm)} | p99 ≤ 15 ms: ${verdict(p.wake.alarm.p99 <= 15)} |`,
    `| wake latency, on-demand request (p50 / p99) | ${ms(p.wake.request)} | p99 ≤ 15 ms: ${verdict(p.wake.request.p99 <= 15)} |`,
    `| of which waiting for a thread, alarm / request (p50 / p99) | ${ms(p.queued.alarm)}; ${ms(p.queued.request)} | |`,
    `| of which dispatch → ready, alarm / request (p50 / p99) | ${ms(p.opening.alarm)}; ${ms(p.opening.request)} | |`,
    `| burst request end to end, hibernated → answer (p50 / p99) | ${ms(p.burstRequestMs)} ${Object.keys(p.burstErrors).length ? `errors ${JSON.stringify(p.burstErrors)}` : ', 0 errors'} | |`,
    `| job lag, alarm wakes: ready − due (p50 / p99) | ${ms(p.lagFromActivation)} | p99 ≤ 5 s: ${verdict(p.lagFromActivation.p99 <= 5_000)} |`,
    `| job lag from \`tick\` events (p50 / p99) | ${ms(p.lagFromTicks)}; ${p.tickEvents} tick events for ${p.activations['alarm'] ?? 0} alarm activations | |`,
    `| job runs per tenant (from the DBs) | min ${runs.min}, median ${runs.p50}, max ${runs.max}; ${runs.atLeastTwice.toLocaleString('en-US')} of ${o.tenants.toLocaleString('en-US')} ran ≥ 2 times; ${runs.total.toLocaleString('en-US')} runs | every tenant ≥ 2 |`,
    `| activations | ${fmt(p.activationsPerS)} /s ${JSON.stringify(p.activations)} | |`,
    `| threads busy (mean / max of ${p.threads}) | ${fmt(p.threadsBusy.mean)} / ${p.threadsBusy.max}; activation queue mean ${fmt(p.queue.mean)}, max ${p.queue.max} | |`,
    `| peak RSS (VmRSS polled 4/s; VmHWM) | ${fmt(p.rssPeak / MiB, 0)} MiB; ${fmt(p.hwm / MiB, 0)} MiB (idle before the run: ${fmt(p.rssIdle / MiB, 0)} MiB) | ≤ 4 GiB: ${verdict(p.hwm <= 4 * GiB)} |`,
    `| CPU (user+sys over wall, all threads) | ${fmt(p.cpu.cores * 100, 0)} % of one core (${fmt((p.cpu.cores / 2) * 100, 0)} % of the machine); ${fmt(((p.cpu.userS + p.cpu.systemS) * 1000) / Math.max(1, Object.values(p.activations).reduce((a, c) => a + c, 0)), 2)} ms CPU per activation | |`,
    `| supervisor event-loop delay p99 | ${fmt(p.loopDelayP99Ms)} ms | |`,
    `| crashes | ${p.crashes} | 0 |`,
    '',
  ];
  if (b) {
    lines.push(
      `**Baseline: one dedicated Worker per tenant** (${b.workers.toLocaleString('en-US')} workers, each with better-sqlite3 and its tenant DB open, same job on setTimeout; plain JS worker code, no TS loader, so a lower bound of the real cost; measured over ${o.baselineDurationS} s after spawning)`,
      '',
      '| metric | result |',
      '|---|---|',
      `| spawn time per worker (to DB open), sequential (p50 / p99 / mean) | ${fmt(b.spawnMs.p50)} / ${fmt(b.spawnMs.p99)} / ${fmt(b.spawnMs.mean)} ms; ${b.workers} took ${fmt(b.spawnWallS)} s wall, ${fmt(b.spawnCpu.userS + b.spawnCpu.systemS)} CPU-s |`,
      `| RSS per worker (after spawn; at peak) | ${fmt(perWorker / MiB, 2)} MiB; ${fmt(perWorkerPeak / MiB, 2)} MiB (process ${fmt(b.rssBefore / MiB, 0)} → ${fmt(b.rssPeak / MiB, 0)} MiB) |`,
      `| job lag (p50 / p99) | ${ms(b.lag)} |`,
      `| CPU while running (user+sys over wall) | ${fmt(b.runCpu.cores * 100, 0)} % of one core |`,
      `| main event-loop delay p99 | ${fmt(b.loopDelayP99Ms)} ms |`,
      `| **extrapolated to ${o.tenants.toLocaleString('en-US')} tenants** | ${fmt((b.rssBefore + perWorkerPeak * o.tenants) / GiB)} GiB RSS; ${fmt((b.spawnMs.mean * o.tenants) / 60_000)} min to boot sequentially (${fmt(((b.spawnCpu.userS + b.spawnCpu.systemS) / b.workers) * o.tenants / 60)} CPU-min) |`,
      `| **dedicated workers that fit in 24 GiB** (memory alone) | ≈ ${fit.toLocaleString('en-US')} |`,
      '',
      `Reading: wake p99 ≤ 15 ms ${wakeP99 <= 15 ? 'met' : 'missed'}, lag p99 ≤ 5 s ${p.lagFromActivation.p99 <= 5_000 ? 'met' : 'missed'}, RSS ≤ 4 GiB ${p.hwm <= 4 * GiB ? 'met' : 'missed'}, with ${o.tenants.toLocaleString('en-US')} tenants in ${fmt(p.hwm / MiB, 0)} MiB; dedicated workers would need ${fmt((b.rssBefore + perWorkerPeak * o.tenants) / GiB)} GiB for the same tenants (${fmt((b.rssBefore + perWorkerPeak * o.tenants) / p.hwm, 0)}× the pool).`,
    );
  }
  return lines.join('\n');
}

// ---- entry ----------------------------------------------------------------------------------

const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);
if (role === undefined) {
  await orchestrate();
} else {
  const dir = process.argv.find((a) => a.startsWith('--dir='))!.slice(6);
  const o = JSON.parse(process.env['BENCH_OPTIONS']!) as Options;
  const result = role === 'pool' ? await runPool(dir, o) : await runBaseline(dir, o);
  process.send!(result, undefined, {}, () => process.exit(0));
}
