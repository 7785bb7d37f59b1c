/** Runs the real `tuitbot` CLI in a child process, as an operator or a container would. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = ['--import', 'tsx', 'supervisor/cli.ts'];

export interface Served {
  child: ChildProcess;
  port: number;
  output(): string;
  /** Resolves with the exit code and how long the exit took after the signal. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; ms: number }>;
}

export async function serve(env: Record<string, string>): Promise<Served> {
  const child = spawn(process.execPath, [...CLI, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      // The line that says it listens (a busy port is logged with its number before that).
      const match = /"port":(\d+)[^\n]*"msg":"TuitBot supervisor listening"/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(Number(match[1]));
      }
    }, 25);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`server exited (${code}) before listening:\n${output}`));
    });
  });
  return {
    child,
    port,
    output: () => output,
    async stop(signal = 'SIGTERM') {
      const start = Date.now();
      if (child.exitCode === null) child.kill(signal);
      const code = await exited;
      return { code, ms: Date.now() - start };
    },
  };
}

export function runCli(args: string[], env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [...CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `serve` in a fresh data directory, stopped and removed when the test ends; `base` is its URL.
 * Stops at most once, so a test may stop it itself (e.g. to check the shutdown).
 */
export async function serveTemp(
  t: { teardown(fn: () => unknown): void },
  env: Record<string, string> = {},
): Promise<Served & { dir: string; base: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-serve-'));
  const server = await serve({ DATA_DIR: dir, PORT: '0', ...env });
  let stopped: ReturnType<Served['stop']> | undefined;
  const stop: Served['stop'] = (signal) => (stopped ??= server.stop(signal));
  t.teardown(async () => {
    await stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ...server, stop, dir, base: `http://127.0.0.1:${server.port}` };
}
