/**
 * HTTP throughput: the routed tenant path against two hello-world baselines, in one run.
 *
 *   npx tsx bench/http.ts [--duration=15] [--connections=50] [--wrk-threads=1] [--warmup=5]
 *                         [--rounds=1] [--targets=node,uws,routed,api] [--compare=path] [--profile=1 [--profile-target=routed|api]] [--json=path]
 *   (or BENCH_DURATION=… etc.)
 *
 * Targets, one after the other (never in parallel: the machine has 2 cores and wrk takes one):
 *   a) node:http hello world (a child process)
 *   b) uWS hello world (a child process, the product's native uWS loader)
 *   c) the real supervisor (`supervisor/cli.ts serve` via tsx, dev hooks on) with one seeded
 *      tenant: `GET /dev/tenants/:id/settings/:key` with a session cookie, i.e. uWS → router →
 *      TenantHost → MessagePort → tenant thread → SQLite → back;
 *   d) in the same supervisor, a real route as a real user: `GET /api/approvals` with the session
 *      cookie of a signed-up user whose queue holds 20 composed tweets (session lookup included).
 * Each target gets a `warmup`-second wrk run that is thrown away, then the measured run.
 * --rounds=N runs the whole sequence N times and reports each target's median round (by req/s): on a shared
 * 2-core machine one run is noise. --compare=<checkout> adds a second routed target, the supervisor of another
 * copy of this repository (e.g. the code before a change), measured in alternation with this one, so a
 * before/after sees the same machine load.
 * Besides req/s and latency, each target reports the CPU of the server's main thread per request (from
 * /proc/<pid>/task/<pid>/stat): the routed path is bound by that thread, and this is far less sensitive to
 * other load on the machine than req/s.
 * With --profile=1 the supervisor runs a second time under --cpu-prof and the hottest functions
 * of its main thread and of the tenant thread are printed.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, machine, option, signUpUser, sleep, spawnSupervisor, stopProcess as stop } from './lib.js';

const opts = {
  durationS: option('duration', 15),
  connections: option('connections', 50),
  wrkThreads: option('wrk-threads', 1),
  warmupS: option('warmup', 5),
  profile: option('profile', 0),
  profileTarget: option('profile-target', 'routed'),
  json: option('json', ''),
  rounds: option('rounds', 1),
  targets: option('targets', 'node,uws,routed,api'),
  compare: option('compare', ''),
};

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const COOKIE = 'session=bench-0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdef';

interface WrkResult {
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  errors: string | null;
  /** CPU of the server process (all its threads) over the measured run, in cores. */
  serverCores: number;
  /** CPU of the server's main thread per answered request, in µs. */
  mainUsPerReq: number;
}

// ---- the two hello-world servers (child roles) ----------------------------------------------

async function helloNode(): Promise<void> {
  const server = createServer((_req, res) => res.end('hello'));
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
}

async function helloUws(): Promise<void> {
  const { uws } = await import('../supervisor/http/uws.js');
  uws
    .App()
    .get('/*', (res) => {
      res.end('hello');
    })
    .listen('127.0.0.1', 0, (socket) => {
      if (!socket) throw new Error('uWS could not listen');
      process.send!({ port: uws.us_socket_local_port(socket as Parameters<typeof uws.us_socket_local_port>[0]) });
    });
}

function forkRole(role: string): Promise<{ proc: ChildProcess; port: number }> {
  return new Promise((resolvePort, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), [`--role=${role}`], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    proc.once('message', (m) => resolvePort({ proc, port: (m as { port: number }).port }));
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

// ---- the real supervisor --------------------------------------------------------------------

async function startSupervisor(dataDir: string, extraNodeArgs: string[] = [], root = ROOT): Promise<{ proc: ChildProcess; port: number; path: string }> {
  const { proc, port, base } = await spawnSupervisor({ root, dataDir, extraNodeArgs, env: { TUITBOT_DEV_HOOKS: '1' } });
  const { id } = (await (await fetch(`${base}/dev/tenants`, { method: 'POST' })).json()) as { id: string };
  const put = await fetch(`${base}/dev/tenants/${id}/settings/greeting`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value: 'hello' }),
  });
  if (!put.ok) throw new Error(`seeding the tenant failed: ${put.status} ${await put.text()}`);
  const path = `/dev/tenants/${id}/settings/greeting`;
  const got = await fetch(`${base}${path}`, { headers: { cookie: COOKIE } });
  if (!got.ok) throw new Error(`routed GET failed: ${got.status} ${await got.text()}`);
  console.error(`[http] routed sample answer: ${await got.text()}`);
  return { proc, port, path };
}


// ---- wrk ------------------------------------------------------------------------------------

function ensureWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (error) {
    // wrk --version exits 1 after printing its version; only a missing binary throws ENOENT.
    if ((error as { code?: string }).code !== 'ENOENT') return;
    console.error('[http] wrk not found; installing the Debian package');
    execFileSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'inherit' });
  }
}

function cpuTicks(pid: number, tid?: number): number {
  // /proc/<pid>/stat: utime and stime are fields 14 and 15, after the parenthesised comm.
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

function wrk(url: string, durationS: number, pid: number, headers: string[] = []): WrkResult {
  const args = [`-t${opts.wrkThreads}`, `-c${opts.connections}`, `-d${durationS}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const before = cpuTicks(pid);
  const mainBefore = cpuTicks(pid, pid);
  const started = performance.now();
  const out = execFileSync('wrk', args, { encoding: 'utf8' });
  const serverCores = (cpuTicks(pid) - before) / hz / ((performance.now() - started) / 1000);
  const mainSeconds = (cpuTicks(pid, pid) - mainBefore) / hz;
  const pct = (p: string) => toMs(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const errors = /Socket errors:.*|Non-2xx or 3xx responses:.*/g;
  const found = out.match(errors);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? NaN);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN),
    p50Ms: pct('50'),
    p90Ms: pct('90'),
    p99Ms: pct('99'),
    requests,
    errors: found ? found.join('; ') : null,
    serverCores,
    mainUsPerReq: (mainSeconds * 1e6) / requests,
  };
}

function measure(name: string, url: string, pid: number, headers: string[] = []): WrkResult {
  console.error(`[http] ${name}: warm-up ${opts.warmupS} s`);
  wrk(url, opts.warmupS, pid, headers);
  console.error(`[http] ${name}: measuring ${opts.durationS} s`);
  const result = wrk(url, opts.durationS, pid, headers);
  console.error(
    `[http] ${name}: ${fmt(result.rps, 0)} req/s, p50 ${fmt(result.p50Ms, 2)} ms, p99 ${fmt(result.p99Ms, 2)} ms, main thread ${fmt(result.mainUsPerReq, 1)} µs/req`,
  );
  return result;
}

// ---- profiling ------------------------------------------------------------------------------

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Self time by function and by file from a .cpuprofile, hottest first. */
function summarizeProfile(file: string, top = 20): string {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const byNode = new Map<number, number>();
  profile.samples.forEach((id, i) => byNode.set(id, (byNode.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0)));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const us = byNode.get(node.id) ?? 0;
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const short = url.replace(`file://${ROOT}/`, '').replace(/^.*node_modules\//, 'node_modules/');
    const key = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const fileKey = short ? short.replace(/^(node_modules\/(@[^/]+\/)?[^/]+)\/.*$/, '$1') : functionName;
    byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
  }
  const rows = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `| ${fmt((us / total) * 100)} % | \`${k}\` |`)
      .join('\n');
  return [`By file/package (self time, ${fmt(total / 1e6)} s sampled):`, '', '| self | file |', '|---|---|', rows(byFile), '', 'By function:', '', '| self | function |', '|---|---|', rows(byFunction)].join('\n');
}

async function profileRouted(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tuitbot-bench-http-prof-'));
  const profDir = join(dataDir, 'prof');
  try {
    const sup = await startSupervisor(dataDir, ['--cpu-prof', `--cpu-prof-dir=${profDir}`]);
    if (opts.profileTarget === 'api') {
      const user = await seedApiUser(sup.port);
      measure('api (profiled)', `http://127.0.0.1:${sup.port}${user.path}`, sup.proc.pid!, [`Cookie: ${user.cookie}`]);
    } else measure('routed (profiled)', `http://127.0.0.1:${sup.port}${sup.path}`, sup.proc.pid!, [`Cookie: ${COOKIE}`]);
    await stop(sup.proc);
    await sleep(500);
    const files = existsSync(profDir) ? readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')) : [];
    // CPU.<date>.<time>.<pid>.<threadId>.<seq>.cpuprofile: thread 0 is the supervisor's main thread; of the
    // tenant threads, show the one that worked most (the one the tenant was pinned to).
    const threadOf = (f: string) => Number(f.split('.')[4]);
    const main = files.find((f) => threadOf(f) === 0);
    const busiest = files
      .filter((f) => threadOf(f) !== 0)
      .map((f) => ({ f, busy: busyMicros(join(profDir, f)) }))
      .sort((a, b) => b.busy - a.busy)[0]?.f;
    return [main && `#### Supervisor main thread\n\n${summarizeProfile(join(profDir, main))}`, busiest && `#### Busiest tenant thread\n\n${summarizeProfile(join(profDir, busiest))}`]
      .filter(Boolean)
      .join('\n\n');
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function busyMicros(file: string): number {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
  return profile.samples.reduce((sum, id, i) => sum + (idle.has(id) ? 0 : Math.max(0, profile.timeDeltas[i] ?? 0)), 0);
}

/**
 * A real user of the API: signed up (sandbox mode), with approval items queued through compose (approval
 * mode is the default), so `GET /api/approvals` authenticates a session, routes to the tenant and
 * reads real rows.
 */
async function seedApiUser(port: number): Promise<{ path: string; cookie: string; items: number }> {
  const base = `http://127.0.0.1:${port}`;
  const origin = base;
  const cookie = await signUpUser(base, 'bench@example.com');
  let items = 0;
  for (let i = 0; i < 20; i++) {
    const composed = await fetch(`${base}/api/content/compose`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, cookie },
      body: JSON.stringify({ kind: 'tweet', content: `Pricing page lesson ${i}: anchor on the value your customer gets, not on your costs.` }),
    });
    if (!composed.ok) break;
    items++;
  }
  const path = '/api/approvals?limit=20';
  const got = await fetch(`${base}${path}`, { headers: { cookie } });
  if (!got.ok) throw new Error(`GET ${path} answered ${got.status} ${await got.text()}`);
  console.error(`[http] api sample answer: ${(await got.text()).slice(0, 200)}…`);
  return { path, cookie, items };
}

// ---- the run --------------------------------------------------------------------------------

async function main(): Promise<void> {
  ensureWrk();
  const wrkVersion = (() => {
    try {
      return execFileSync('wrk', ['--version'], { encoding: 'utf8' });
    } catch (error) {
      return String((error as { stdout?: string }).stdout ?? '').split('\n')[0]!;
    }
  })().trim();

  const targets = new Set(opts.targets.split(','));
  const runs: Record<string, WrkResult[]> = {};
  const record = (name: string, r: WrkResult) => (runs[name] ??= []).push(r);
  let routedPath = '';
  let apiLabel = '';
  const routedRoots: Array<[string, string]> = [];
  if (targets.has('routed')) routedRoots.push(['routed', ROOT]);
  if (opts.compare) routedRoots.push(['routed (compare)', resolve(opts.compare)]);
  for (let round = 1; round <= opts.rounds; round++) {
    if (opts.rounds > 1) console.error(`[http] round ${round} of ${opts.rounds}`);
    for (const [name, role, key] of [
      ['node:http hello', 'node-hello', 'node'],
      ['uWS hello', 'uws-hello', 'uws'],
    ] as const) {
      if (!targets.has(key)) continue;
      const { proc, port } = await forkRole(role);
      try {
        record(name, measure(name, `http://127.0.0.1:${port}/`, proc.pid!));
      } finally {
        proc.removeAllListeners('exit');
        await stop(proc);
      }
    }
    // Alternate which checkout goes first, so neither always runs right after the hello worlds.
    for (const [name, root] of round % 2 === 1 ? routedRoots : [...routedRoots].reverse()) {
      const dataDir = mkdtempSync(join(tmpdir(), 'tuitbot-bench-http-'));
      try {
        const sup = await startSupervisor(dataDir, [], root);
        routedPath = sup.path.replace(/[0-9a-f-]{36}/, ':id');
        try {
          // Seeded first: after a wrk run, fetch's pooled keep-alive connection has been closed by the server.
          const user = targets.has('api') && root === ROOT ? await seedApiUser(sup.port) : null;
          record(name, measure(name, `http://127.0.0.1:${sup.port}${sup.path}`, sup.proc.pid!, [`Cookie: ${COOKIE}`]));
          if (user) {
            apiLabel = `GET ${user.path} as a signed-up user (session cookie → router → tenant thread → ${user.items} approval items)`;
            record('api', measure('api', `http://127.0.0.1:${sup.port}${user.path}`, sup.proc.pid!, [`Cookie: ${user.cookie}`]));
          }
        } finally {
          await stop(sup.proc);
        }
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  // The median round of each target, by req/s.
  const results: Record<string, WrkResult> = {};
  for (const [name, list] of Object.entries(runs)) results[name] = [...list].sort((a, b) => a.rps - b.rps)[Math.floor((list.length - 1) / 2)]!;
  const profile = opts.profile ? await profileRouted() : null;

  const base = results['node:http hello'];
  const routed = results['routed'];
  const ratio = (r: WrkResult) => (base ? `${fmt(r.rps / base.rps, 2)}×` : '—');
  const row = (name: string, r: WrkResult) =>
    `| ${name} | ${fmt(r.rps, 0)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${ratio(r)} | ${fmt(r.serverCores * 100, 0)} % | ${fmt(r.mainUsPerReq, 1)} | ${r.errors ?? 'none'} |`;
  const all = (name: string) =>
    (runs[name]?.length ?? 0) > 1 ? ` (rounds: ${runs[name]!.map((r) => `${fmt(r.rps, 0)} req/s ${fmt(r.mainUsPerReq, 1)} µs`).join(', ')})` : '';
  const routedLabel = `GET ${routedPath} (uWS → router → host → MessagePort → tenant thread → SQLite)`;
  const report = [
    `### HTTP: routed tenant path vs hello-world baselines`,
    '',
    machine(),
    `- Load generator: \`wrk -t${opts.wrkThreads} -c${opts.connections} -d${opts.durationS}s --latency\` (${wrkVersion.split(' [')[0]}), each target after a ${opts.warmupS} s warm-up, in sequence, on the same machine (wrk takes ~1 of the 2 cores)${opts.rounds > 1 ? `; ${opts.rounds} rounds, each row is the target's median round by req/s` : ''}.`,
    '',
    '| target | req/s | p50 ms | p99 ms | ÷ node:http | server CPU | main thread µs/req | errors |',
    '|---|---|---|---|---|---|---|---|',
    ...(base ? [row('a) node:http hello world', base)] : []),
    ...(results['uWS hello'] ? [row('b) uWS hello world', results['uWS hello'])] : []),
    ...(routed ? [row(`c) routed: ${routedLabel}`, routed)] : []),
    ...(results['routed (compare)'] ? [row(`c′) routed, \`--compare=${opts.compare}\``, results['routed (compare)'])] : []),
    ...(results['api'] ? [row(`d) authenticated API: ${apiLabel}`, results['api'])] : []),
    '',
    ...Object.keys(runs)
      .filter((name) => all(name))
      .map((name) => `- ${name}${all(name)}`),
    ...(base && routed
      ? ['', `Routed ÷ node:http hello = **${fmt(routed.rps / base.rps, 2)}×** (target ≥ 1.0×: ${routed.rps >= base.rps ? 'meets' : '**misses**'}).`]
      : []),
    ...(base && results['api']
      ? [`Authenticated API ÷ node:http hello = **${fmt(results['api'].rps / base.rps, 2)}×** (target ≥ 1.0×: ${results['api'].rps >= base.rps ? 'meets' : '**misses**'}).`]
      : []),
  ];
  if (profile) report.push('', `#### CPU profile of the ${opts.profileTarget} run (\`--cpu-prof\` on the supervisor)`, '', profile);
  console.log(report.join('\n'));
  if (opts.json) writeFileSync(opts.json, JSON.stringify({ opts, results, runs }, null, 2));
}

const role = process.argv.find((a) => a.startsWith('--role='))?.slice(7);
if (role === 'node-hello') await helloNode();
else if (role === 'uws-hello') await helloUws();
else await main();
