import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import t from 'tap';
import { PROTOCOL_VERSION, type Activate, type Hibernated, type ToSupervisor } from '../../../../protocol/index.js';
import { TenantActor } from '../../../../tenant-worker/actor.js';
import { RUNTIME_JOB_NAMES } from '../../../../tenant-worker/runtime/loops/index.js';
import { captureLog } from '../../../helpers/tenants.js';

/** One activation of a real actor on a real tenant file; `call` sends a request and waits for its answer. */
function activation(dbPath: string) {
  const { port1, port2 } = new MessageChannel();
  const activate: Activate = {
    type: 'activate',
    protocolVersion: PROTOCOL_VERSION,
    tenantId: randomUUID(),
    dbPath,
    reason: 'request',
    ceilings: null,
    heartbeatMs: 1_000,
    metricsMs: 1_000,
    logLevel: 'warn',
    devHooks: false,
    secrets: null,
    x: null,
    mode: 'sandbox',
    llmFallback: null,
    port: port2,
  };
  const received: ToSupervisor[] = [];
  const waiters = new Set<() => void>();
  port1.on('message', (message: ToSupervisor) => {
    if (message.type === 'responses') received.push(...message.responses);
    else received.push(message);
    for (const wake of waiters) wake();
  });
  const finished = new TenantActor(activate, port2, captureLog().log).run();
  let id = 0;
  async function until<M extends ToSupervisor>(match: (m: ToSupervisor) => m is M): Promise<M> {
    for (;;) {
      const found = received.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => {
        const wake = () => (waiters.delete(wake), resolve());
        waiters.add(wake);
      });
    }
  }
  return {
    received,
    ready: () => until((m): m is Extract<ToSupervisor, { type: 'ready' }> => m.type === 'ready'),
    async call(method: string, params?: unknown): Promise<any> {
      const mine = ++id;
      port1.postMessage({ type: 'request', id: mine, method, params, deadline: Date.now() + 5_000 });
      const answer = await until((m): m is Extract<ToSupervisor, { type: 'response' }> => m.type === 'response' && m.id === mine);
      if (!answer.ok) throw new Error(`${method}: ${answer.error.code} ${answer.error.message}`);
      return answer.result;
    },
    async hibernate(): Promise<Hibernated> {
      port1.postMessage({ type: 'hibernate', reason: 'idle' });
      const result = await finished;
      port1.close();
      return result;
    },
  };
}

t.test('the runtime is inert until started, and start, pause and stop are kept across activations', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-runtime-actor-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const dbPath = join(dir, 'tenant.db');

  const first = activation(dbPath);
  t.same(await first.ready(), { type: 'ready', nextAlarmAt: null }, 'a tenant that never started has no jobs and no alarm');
  const idle = await first.call('runtime.status');
  t.match(idle, { state: 'stopped', running: false, jobs: [], x: { configured: false, connected: false }, llm: 'none', missingSetup: { 'business.product_name': String } });

  const started = await first.call('runtime.start');
  t.equal(started.state, 'started');
  t.same(started.jobs.map((job: { name: string }) => job.name).sort(), [...RUNTIME_JOB_NAMES].sort(), 'starting defines every runtime job');
  t.ok(
    started.jobs.every((job: { nextRunAt: number }) => job.nextRunAt <= Date.now() + 3_600_000),
    'their first runs are spread over the next hour at most',
  );
  t.ok(first.received.some((m) => m.type === 'event' && m.event.kind === 'runtime.status'), 'RuntimeStatus is emitted on start');

  const until = Date.now() + 3_600_000;
  t.match(await first.call('runtime.pause', { until }), { state: 'paused', pausedUntil: until });
  const afterPause = await first.hibernate();
  t.not(afterPause.nextAlarmAt, null, 'a paused runtime keeps its alarm');

  const second = activation(dbPath);
  t.not((await second.ready()).nextAlarmAt, null, 'the next activation defines the jobs again');
  t.match(await second.call('runtime.status'), { state: 'paused' });
  t.match(await second.call('runtime.stop'), { state: 'stopped', running: false });
  await second.hibernate();

  const third = activation(dbPath);
  t.same(await third.ready(), { type: 'ready', nextAlarmAt: null }, 'a stopped runtime defines no jobs in the next activation');
  t.match(await third.call('approvals.list'), { items: [], nextCursor: null });
  await third.hibernate();
});
