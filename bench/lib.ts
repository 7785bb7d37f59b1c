/**
 * Small helpers shared by the benchmarks: options from argv/env, percentiles, process memory and
 * CPU, and a description of the machine for RESULTS.md.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';

/** `--name=value` on the command line wins over `BENCH_NAME` in the environment, then the default. */
export function option(name: string, fallback: number): number;
export function option(name: string, fallback: string): string;
export function option(name: string, fallback: number | string): number | string {
  const flag = process.argv.find((arg) => arg.startsWith(`--${name}=`));
  const raw = flag?.slice(name.length + 3) ?? process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`];
  if (raw === undefined || raw === '') return fallback;
  if (typeof fallback === 'string') return raw;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`--${name} must be a number, got ${raw}`);
  return value;
}

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) return { n: 0, p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  const sorted = Float64Array.from(values).sort();
  // Nearest-rank percentile: the smallest value with at least q of the samples at or below it.
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { n: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}

/** VmRSS and VmHWM (peak) of this process, in bytes, from /proc. */
export function memory(): { rss: number; hwm: number } {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Polls VmRSS so a peak inside a measurement window is seen (VmHWM covers the whole process life). */
export class RssSampler {
  max = 0;
  readonly #timer: NodeJS.Timeout;
  constructor(everyMs = 250) {
    this.sample();
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.#timer.unref();
  }
  sample(): number {
    const { rss } = memory();
    if (rss > this.max) this.max = rss;
    return rss;
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Process CPU (every thread) over a wall-clock window. */
export class CpuWindow {
  readonly #cpu = process.cpuUsage();
  readonly #wall = performance.now();
  read(): { userS: number; systemS: number; wallS: number; cores: number } {
    const d = process.cpuUsage(this.#cpu);
    const wallS = (performance.now() - this.#wall) / 1000;
    const userS = d.user / 1e6;
    const systemS = d.system / 1e6;
    return { userS, systemS, wallS, cores: (userS + systemS) / wallS };
  }
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}

export function machine(): string {
  const cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'n/a';
    }
  };
  return [
    `- CPU: ${cpu}; \`nproc\` = ${run('nproc', [])} (availableParallelism ${availableParallelism()})`,
    `- Memory (\`free -g\`):`,
    '```',
    run('free', ['-g']),
    '```',
    `- Node ${process.version}, ${run('uname', ['-sr'])}`,
  ].join('\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The product's tenant-host defaults (supervisor/config.ts) for the settings a bench does not vary,
 * with dev hooks on for the simulated jobs. */
export const HOST_DEFAULTS = {
  heapMb: 96,
  heartbeatMs: 1_000,
  heartbeatTimeoutMs: 10_000,
  metricsMs: 5_000,
  activationQueue: 10_000,
  restart: { limit: 3, windowMs: 600_000, backoffMs: 1_000, backoffMaxMs: 60_000 },
  devHooks: true,
  logLevel: 'warn',
};

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createNetServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolvePort(port));
    });
    s.once('error', reject);
  });
}

/**
 * The real supervisor as a child (`supervisor/cli.ts serve` of `root`, via this process's tsx loader),
 * on loopback, ready when `/readyz` answers.
 */
export async function spawnSupervisor(options: { root: string; dataDir: string; env?: Record<string, string>; extraNodeArgs?: string[] }): Promise<{ proc: ChildProcess; port: number; base: string }> {
  const port = await freePort();
  const proc = spawn(process.execPath, [...process.execArgv, ...(options.extraNodeArgs ?? []), join(options.root, 'supervisor/cli.ts'), 'serve'], {
    cwd: options.root,
    env: { ...process.env, DATA_DIR: options.dataDir, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', TENANT_IDLE_MS: '3600000', ...options.env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`supervisor exited with ${proc.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('supervisor did not become ready in 30 s');
    await sleep(100);
  }
  return { proc, port, base };
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([exited, sleep(15_000).then(() => proc.kill('SIGKILL'))]);
}

/** Signs up a user on a sandbox server (sessions start at signup) and returns its session cookie header. */
export async function signUpUser(base: string, email: string): Promise<string> {
  const signup = await fetch(`${base}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email, password: 'correct horse battery staple' }),
  });
  if (!signup.ok) throw new Error(`signup answered ${signup.status} ${await signup.text()}`);
  return signup.headers.getSetCookie().map((line) => line.split(';')[0]).join('; ');
}
