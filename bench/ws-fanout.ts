/**
 * WebSocket fan-out: one tenant event to N connected dashboards, delivery latency per client.
 *
 *   npx tsx bench/ws-fanout.ts [--clients=1000] [--events=40] [--gap-ms=150] [--rounds=1]
 *
 * Two servers, one after the other (the machine has 2 cores; the clients take one):
 *   a) baseline: a bare uWS server (the product's native loader) whose `POST /publish` publishes one
 *      small message to a topic every client subscribed to;
 *   b) the real supervisor (`supervisor/cli.ts serve`, sandbox mode) with one signed-up user: N
 *      connections to `/api/ws` with the session cookie, and the event is a real tenant event —
 *      `PATCH /api/settings` makes the tenant thread emit `settings.changed`, which the supervisor
 *      publishes to the tenant's topic.
 * Latency is measured on this process's clock only: from just before the trigger request is sent to
 * the moment each client's message arrives (so both include one HTTP request; b) also includes the
 * tenant thread's write). Reported per delivery (every client, every event) and per event (the last
 * client to get it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { fmt, machine, option, signUpUser, sleep, spawnSupervisor, stopProcess, summarize, type Summary } from './lib.js';

const opts = {
  clients: option('clients', 1000),
  events: option('events', 40),
  gapMs: option('gap-ms', 150),
  rounds: option('rounds', 1),
};
const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));

// ---- the baseline server (child role) --------------------------------------------------------

async function baselineServer(): Promise<void> {
  const { uws } = await import('../supervisor/http/uws.js');
  const app = uws.App();
  app
    .ws('/ws', {
      open: (ws) => void ws.subscribe('t'),
    })
    .post('/publish', (res) => {
      res.onAborted(() => {});
      app.publish('t', JSON.stringify({ type: 'event', event: { kind: 'bench', at: Date.now() } }));
      res.end('ok');
    })
    .listen('127.0.0.1', 0, (socket) => {
      if (!socket) throw new Error('uWS could not listen');
      process.send!({ port: uws.us_socket_local_port(socket as Parameters<typeof uws.us_socket_local_port>[0]) });
    });
}

function forkBaseline(): Promise<{ proc: ChildProcess; port: number }> {
  return new Promise((resolvePort, reject) => {
    const proc = fork(fileURLToPath(import.meta.url), ['--role=baseline'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    proc.once('message', (m) => resolvePort({ proc, port: (m as { port: number }).port }));
    proc.once('error', reject);
  });
}

// ---- clients ---------------------------------------------------------------------------------

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** Sends the request that makes the server publish one event. */
  trigger(i: number): Promise<Response>;
  /** Whether a message is the event (not the snapshot or a heartbeat). */
  isEvent(message: { type?: string; event?: { kind?: string } }): boolean;
  /** Messages each client gets on connecting before it counts as ready (the product's snapshot). */
  greeting: string | null;
}

const WARMUP_EVENTS = 3;

async function connectAll(target: Target): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  // In batches: 1,000 simultaneous handshakes would measure the accept queue, not fan-out.
  for (let i = 0; i < opts.clients; i += 100) {
    const batch = Array.from({ length: Math.min(100, opts.clients - i) }, () => {
      const ws = new WebSocket(target.url, { headers: target.headers, perMessageDeflate: false });
      return new Promise<WebSocket>((ok, fail) => {
        ws.once('open', () => ok(ws));
        ws.once('error', fail);
        ws.once('unexpected-response', (_req, res) => fail(new Error(`${target.name}: handshake answered ${res.statusCode}`)));
      });
    });
    sockets.push(...(await Promise.all(batch)));
  }
  return sockets;
}

async function measure(target: Target): Promise<{ delivery: Summary; lastClient: Summary; lost: number }> {
  const sockets = await connectAll(target);
  let sentAt = 0;
  let received = 0;
  let lastAt = 0;
  let greeted = 0;
  let measuring = false;
  const deliveries: number[] = [];
  for (const ws of sockets) {
    ws.on('message', (data) => {
      const now = performance.now();
      const message = JSON.parse(String(data)) as { type?: string };
      if (message.type === target.greeting) greeted++;
      if (!target.isEvent(message)) return;
      if (measuring) deliveries.push(now - sentAt);
      received++;
      lastAt = now;
    });
  }
  // Every client has its snapshot (1,000 tenant requests) before the first event.
  const settled = performance.now() + 60_000;
  while (target.greeting !== null && greeted < sockets.length && performance.now() < settled) await sleep(10);
  await sleep(500);
  const lastClient: number[] = [];
  let lost = 0;
  for (let i = 0; i < WARMUP_EVENTS + opts.events; i++) {
    measuring = i >= WARMUP_EVENTS;
    received = 0;
    sentAt = performance.now();
    const response = await target.trigger(i);
    if (!response.ok) throw new Error(`${target.name}: trigger answered ${response.status} ${await response.text()}`);
    const deadline = performance.now() + 2_000;
    while (received < sockets.length && performance.now() < deadline) await sleep(1);
    if (!measuring) continue;
    if (received < sockets.length) lost += sockets.length - received;
    else lastClient.push(lastAt - sentAt);
    await sleep(opts.gapMs);
  }
  for (const ws of sockets) ws.terminate();
  return { delivery: summarize(deliveries), lastClient: summarize(lastClient), lost };
}

// ---- the two targets -------------------------------------------------------------------------

async function runBaseline(): Promise<Awaited<ReturnType<typeof measure>>> {
  const { proc, port } = await forkBaseline();
  try {
    return await measure({
      name: 'baseline',
      url: `ws://127.0.0.1:${port}/ws`,
      headers: {},
      trigger: () => fetch(`http://127.0.0.1:${port}/publish`, { method: 'POST' }),
      isEvent: (m) => m.type === 'event',
      greeting: null,
    });
  } finally {
    await stopProcess(proc);
  }
}

async function runProduct(): Promise<Awaited<ReturnType<typeof measure>>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tuitbot-bench-ws-'));
  const { proc, base } = await spawnSupervisor({ root: ROOT, dataDir });
  try {
    const origin = base;
    const cookie = await signUpUser(base, 'fanout@example.com');
    return await measure({
      name: 'product',
      url: `${base.replace('http', 'ws')}/api/ws`,
      headers: { cookie, origin },
      trigger: (i) =>
        fetch(`${base}/api/settings`, {
          method: 'PATCH',
          headers: { 'content-type': 'application/json', cookie, origin },
          body: JSON.stringify({ 'business.product_name': `Fan-out ${i}` }),
        }),
      isEvent: (m) => m.type === 'event' && m.event?.kind === 'settings.changed',
      greeting: 'snapshot',
    });
  } finally {
    await stopProcess(proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function row(name: string, r: Awaited<ReturnType<typeof measure>>): string {
  const d = r.delivery;
  const l = r.lastClient;
  return `| ${name} | ${d.n} | ${fmt(d.p50, 2)} | ${fmt(d.p99, 2)} | ${fmt(d.max, 2)} | ${fmt(l.p50, 2)} | ${fmt(l.p99, 2)} | ${r.lost} |`;
}

async function main(): Promise<void> {
  const lines = [
    `### WS fan-out: one event to ${opts.clients} clients, ${opts.events} events × ${opts.rounds} round(s)`,
    '',
    `Command: \`npx tsx bench/ws-fanout.ts --clients=${opts.clients} --events=${opts.events} --rounds=${opts.rounds}\` — ${machine()}`,
    '',
    '| target | deliveries | p50 ms | p99 ms | max ms | last client p50 ms | last client p99 ms | lost |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (let round = 1; round <= opts.rounds; round++) {
    // Alternating order: neither target always runs on a warmer (or busier) machine.
    const order = round % 2 === 1 ? [runBaseline, runProduct] : [runProduct, runBaseline];
    for (const run of order) {
      const result = await run();
      lines.push(row(`${run === runBaseline ? 'a) bare uWS publish (baseline)' : 'b) product: tenant event → /api/ws'} r${round}`, result));
      console.error(lines.at(-1));
    }
  }
  console.log(lines.join('\n'));
}

if (process.argv.includes('--role=baseline')) void baselineServer();
else
  void main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
