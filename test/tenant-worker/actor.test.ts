import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import t from 'tap';
import Database from 'better-sqlite3';
import {
  ActivateSchema,
  PROTOCOL_VERSION,
  ToSupervisorSchema,
  parseMessage,
  type Activate,
  type Hibernated,
  type Response,
  type ToSupervisor,
} from '../../protocol/index.js';
import { TenantActor } from '../../tenant-worker/actor.js';
import { captureLog } from '../helpers/tenants.js';

t.test('a real tenant actor answers malformed supervisor messages without losing its footing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-actor-'));
  const dbPath = join(dir, 'tenant.db');
  const { port1, port2 } = new MessageChannel();
  const { log, logs } = captureLog();
  const tenantId = randomUUID();
  const activate: Activate = {
    type: 'activate',
    protocolVersion: PROTOCOL_VERSION,
    tenantId,
    dbPath,
    reason: 'request',
    ceilings: null,
    heartbeatMs: 20,
    metricsMs: 20,
    logLevel: 'debug',
    devHooks: false,
    secrets: null,
    x: null,
    mode: 'sandbox',
    llmFallback: null,
    port: port2,
  };
  t.ok(parseMessage(ActivateSchema, activate).ok, 'the activation is one the worker would accept');

  // Everything the actor sends, in order; each must be a valid supervisor-bound message.
  const received: ToSupervisor[] = [];
  const batches: Response[][] = [];
  const invalid: string[] = [];
  const waiters: (() => void)[] = [];
  port1.on('message', (data: unknown) => {
    const parsed = parseMessage(ToSupervisorSchema, data);
    if (parsed.ok && parsed.message.type === 'responses') {
      batches.push(parsed.message.responses);
      received.push(...parsed.message.responses);
    } else if (parsed.ok) received.push(parsed.message);
    else invalid.push(`${JSON.stringify(data)}: ${parsed.problem}`);
    for (const wake of waiters.splice(0)) wake();
  });
  async function next<M extends ToSupervisor>(match: (m: ToSupervisor) => m is M, from = 0): Promise<M> {
    for (;;) {
      const found = received.slice(from).find(match);
      if (found) return found;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no matching message within 5 s')), 5_000);
        waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
  const responseTo =
    (id: number) =>
    (m: ToSupervisor): m is Response =>
      m.type === 'response' && m.id === id;
  const responses = () => received.filter((m): m is Response => m.type === 'response');

  const actor = new TenantActor(activate, port2, log);
  const finished = actor.run();
  let hibernated: Hibernated | undefined;
  void finished.then((result) => (hibernated = result));
  t.teardown(() => {
    // If an assertion failed before hibernation, still stop the actor's timers and close its DB.
    if (!hibernated) port1.postMessage({ type: 'hibernate', reason: 'evict' });
    return finished.finally(() => {
      port1.close();
      rmSync(dir, { recursive: true, force: true });
    });
  });

  const ready = await next((m): m is Extract<ToSupervisor, { type: 'ready' }> => m.type === 'ready');
  t.same(ready, { type: 'ready', nextAlarmAt: null }, 'ready, with no jobs and so no alarm');
  const deadline = () => Date.now() + 5_000;

  // A malformed request that carries a usable id is answered as a protocol error.
  port1.postMessage({ type: 'request', id: 7, method: 'ping' });
  const noDeadline = await next(responseTo(7));
  t.match(noDeadline, { type: 'response', id: 7, ok: false, error: { code: 'protocol_error', message: /deadline/ } });

  port1.postMessage({ type: 'teleport', id: 8 });
  t.match(await next(responseTo(8)), { ok: false, error: { code: 'protocol_error', message: /^type: / } }, 'an unknown type with an id is answered too');

  // Without a usable id there is no one to answer, but the actor keeps serving.
  const before = responses().length;
  port1.postMessage({ type: 'request', method: 'ping', deadline: deadline() });
  port1.postMessage({ type: 'request', id: -2, method: 'ping', deadline: deadline() });
  port1.postMessage('not even an object');
  port1.postMessage({ type: 'request', id: 9, method: 'ping', deadline: deadline() });
  const pong = await next(responseTo(9));
  t.match(pong, { ok: true, result: { tenantId } }, 'a valid ping after the junk is answered');
  t.same(
    responses()
      .slice(before)
      .map((m) => m.id),
    [9],
    'the messages without a usable id got no answer',
  );
  t.equal(logs.filter((l) => l['msg'] === 'rejected malformed message from supervisor').length, 5, 'each malformed message was logged');

  port1.postMessage({ type: 'request', id: 10, method: 'no.such.method', deadline: deadline() });
  t.match(await next(responseTo(10)), { ok: false, error: { code: 'unknown_method', message: /no\.such\.method/ } });

  port1.postMessage({ type: 'request', id: 11, method: 'toString', deadline: deadline() });
  t.match(await next(responseTo(11)), { ok: false, error: { code: 'unknown_method' } }, 'inherited object keys are not methods');

  port1.postMessage({ type: 'request', id: 12, method: 'settings.put', params: { key: 'a', value: 1 }, deadline: Date.now() - 1 });
  t.match(await next(responseTo(12)), { ok: false, error: { code: 'deadline_exceeded' } }, 'an expired request is not started');

  port1.postMessage({ type: 'request', id: 13, method: 'settings.put', params: { key: 'Bad Key!', value: 1 }, deadline: deadline() });
  const badKey = await next(responseTo(13));
  t.match(badKey, { ok: false, error: { code: 'invalid_params', fields: { key: String } } }, 'a bad key names the field');

  port1.postMessage({ type: 'request', id: 14, method: 'settings.put', params: { key: 'theme', value: { dark: true } }, deadline: deadline() });
  t.match(await next(responseTo(14)), { ok: true, result: { key: 'theme', value: { dark: true } } });

  // Requests of one supervisor turn arrive as one message and are answered as one.
  const ping = (id: number) => ({ type: 'request', id, method: 'ping', deadline: deadline() });
  port1.postMessage({
    type: 'requests',
    requests: [ping(20), { type: 'request', id: 21, method: 'settings.get', params: { key: 'nope' }, deadline: deadline() }, ping(22)],
  });
  await next(responseTo(22));
  t.match(
    [...(batches.at(-1) ?? [])].sort((a, b) => a.id - b.id),
    [{ id: 20, ok: true }, { id: 21, ok: false, error: { code: 'not_found' } }, { id: 22, ok: true }],
    'the three answers travelled together',
  );

  // A batch with one malformed request: the others are still served, the bad one is refused alone.
  const rejectedBefore = logs.filter((l) => l['msg'] === 'rejected malformed message from supervisor').length;
  port1.postMessage({ type: 'requests', requests: [ping(23), { type: 'request', id: 24, method: 'ping' }, ping(25)] });
  await next(responseTo(25));
  t.match(await next(responseTo(23)), { ok: true });
  t.match(await next(responseTo(24)), { ok: false, error: { code: 'protocol_error', message: /deadline/ } });
  t.equal(logs.filter((l) => l['msg'] === 'rejected malformed message from supervisor').length, rejectedBefore + 1, 'only the bad request was logged');

  t.same(invalid, [], 'every message the actor sent was valid');
  t.ok(
    received.some((m) => m.type === 'heartbeat'),
    'heartbeats flowed meanwhile',
  );

  const closed = new Promise<void>((resolve) => port1.once('close', () => resolve()));
  port1.postMessage({ type: 'hibernate', reason: 'idle' });
  t.same(await finished, { type: 'hibernated', nextAlarmAt: null }, 'run() resolves with the hibernation result');
  await closed;
  t.pass('the actor closed its end of the port');
  t.notOk(existsSync(`${dbPath}-wal`), 'the DB was checkpointed and closed (no WAL file left)');

  const db = new Database(dbPath, { readonly: true });
  t.teardown(() => db.close());
  t.same(
    db.prepare('SELECT key, value FROM settings').all(),
    [{ key: 'theme', value: '{"dark":true}' }],
    'only the valid write reached the file, and the file alone holds it',
  );
});
