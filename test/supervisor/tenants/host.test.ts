import t from 'tap';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { startTenants, until } from '../../helpers/tenants.js';

t.test('a request activates a hibernated tenant, which answers and hibernates when idle', async (t) => {
  const env = startTenants();
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  t.equal(env.host.state(tenant.id), 'hibernated');
  const pong = (await env.host.request(tenant.id, 'ping', undefined, 20_000)) as { tenantId: string };
  t.equal(pong.tenantId, tenant.id);
  t.equal(env.host.state(tenant.id), 'active');
  t.notOk(existsSync(`${env.registry.dbPath(tenant.id)}-shm`), 'the active tenant holds its file exclusively: no shared-memory index');
  await until(() => env.host.state(tenant.id) === 'hibernated');
  t.ok(env.registry.get(tenant.id)!.lastActiveAt, 'the registry records the end of the activation');
});

t.test('hibernate/wake round trips keep committed data', async (t) => {
  const env = startTenants();
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  for (let round = 0; round < 3; round++) {
    await env.host.request(tenant.id, 'settings.put', { key: `round.${round}`, value: { round } }, 20_000);
    await until(() => env.host.state(tenant.id) === 'hibernated');
  }
  for (let round = 0; round < 3; round++) {
    const got = (await env.host.request(tenant.id, 'settings.get', { key: `round.${round}` }, 20_000)) as { value: unknown };
    t.same(got.value, { round });
  }
  await until(() => env.host.state(tenant.id) === 'hibernated');
  // Hibernation checkpoints the WAL and closes the file: another reader sees everything.
  const file = new Database(env.registry.dbPath(tenant.id), { readonly: true });
  t.equal((file.prepare("SELECT count(*) AS n FROM settings WHERE key LIKE 'round.%'").get() as { n: number }).n, 3);
  file.close();
});

t.test('malformed messages from a tenant are rejected and logged; the tenant keeps answering', async (t) => {
  const env = startTenants();
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  await t.rejects(env.host.request(tenant.id, 'dev.garbage', undefined, 20_000), { code: 'protocol_error' });
  t.match(await env.host.request(tenant.id, 'ping', undefined, 20_000), { tenantId: tenant.id });
  const rejected = env.logs.filter((l) => l.msg === 'rejected malformed message from tenant');
  t.equal(rejected.length, 3, 'each malformed message is logged');
  t.match(await env.metrics.registry.getSingleMetricAsString('tuitbot_protocol_rejected_total'), /side="supervisor"\} 3/);
});

t.test('requests of one event-loop turn travel to the tenant together and each gets its own answer', async (t) => {
  const env = startTenants({ idleMs: 5_000 });
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  for (let i = 0; i < 5; i++) await env.host.request(tenant.id, 'settings.put', { key: `k${i}`, value: i }, 20_000);
  const answers = (await Promise.all(
    Array.from({ length: 50 }, (_, i) => env.host.request(tenant.id, 'settings.get', { key: `k${i % 5}` }, 20_000)),
  )) as { key: string; value: number }[];
  t.same(
    answers.map((a) => a.value),
    Array.from({ length: 50 }, (_, i) => i % 5),
  );
  await t.rejects(env.host.request(tenant.id, 'settings.get', { key: 'missing' }, 20_000), { code: 'not_found' });
});

t.test('a malformed answer inside a batch from the tenant fails only its own request', async (t) => {
  const env = startTenants({ idleMs: 5_000 });
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  await t.rejects(env.host.request(tenant.id, 'dev.garbage-batch', undefined, 20_000), { code: 'protocol_error' });
  t.equal(env.logs.filter((l) => l.msg === 'rejected malformed message from tenant').length, 1, 'the bad answer was logged');
  t.match(await env.host.request(tenant.id, 'ping', undefined, 20_000), { tenantId: tenant.id });
});

t.test('an attached dashboard keeps its tenant active; the last detach lets it hibernate', async (t) => {
  const env = startTenants({ idleMs: 100 });
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  t.ok(env.host.attach(tenant.id));
  t.ok(env.host.attach(tenant.id));
  await until(() => env.host.state(tenant.id) === 'active');
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.equal(env.host.state(tenant.id), 'active', 'still active well past the idle timeout');
  env.host.detach(tenant.id);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(env.host.state(tenant.id), 'active', 'one dashboard is still attached');
  env.host.detach(tenant.id);
  await until(() => env.host.state(tenant.id) === 'hibernated', 2_000);
});

t.test('ceilings are persisted and reach an active tenant', async (t) => {
  const env = startTenants({ idleMs: 5_000 });
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  await env.host.request(tenant.id, 'ping', undefined, 20_000);
  const ceilings = { plan: 'starter', repliesPerDay: 5, tweetsPerDay: 3, threadsPerWeek: 1, targets: 3, xCostAllowanceCents: 500, xPeriodStart: 0, xReadCentsPerDay: 10, xUrlPostsPerDay: 1, xOverageCapCents: null, automation: true, readOnly: false };
  env.host.setCeilings(tenant.id, ceilings);
  t.same(((await env.host.request(tenant.id, 'status', undefined, 20_000)) as { ceilings: unknown }).ceilings, ceilings);
  t.same(env.registry.get(tenant.id)!.ceilings, ceilings, 'the registry keeps them for the next activation');
});

t.test('with every thread busy, activations queue and idle tenants are evicted to make room', async (t) => {
  const env = startTenants({ threads: 2, idleMs: 60_000, activationQueue: 2 });
  t.teardown(() => env.close());
  const [a, b, c, d, e] = Array.from({ length: 5 }, () => env.registry.create());
  await env.host.request(a!.id, 'ping', undefined, 20_000);
  await env.host.request(b!.id, 'ping', undefined, 20_000);
  t.equal(env.host.state(a!.id), 'active');
  t.equal(env.host.state(b!.id), 'active');
  // Both threads are held by idle tenants; a third request must evict the least recently used.
  await env.host.request(c!.id, 'ping', undefined, 20_000);
  t.equal(env.host.state(a!.id), 'hibernated', 'the least recently used tenant was evicted');
  t.equal(env.host.state(b!.id), 'active');
  // Both threads busy with slow requests and the queue full: the next one is shed, not queued.
  const slow = [
    env.host.request(b!.id, 'dev.sleep', { ms: 600 }, 20_000),
    env.host.request(c!.id, 'dev.sleep', { ms: 600 }, 20_000),
  ];
  const queued = [env.host.request(d!.id, 'ping', undefined, 20_000), env.host.request(e!.id, 'ping', undefined, 20_000)];
  await t.rejects(env.host.request(a!.id, 'ping', undefined, 20_000), { code: 'overloaded' });
  await Promise.all(slow);
  const answers = (await Promise.all(queued)) as { tenantId: string }[];
  t.same(answers.map((x) => x.tenantId), [d!.id, e!.id], 'queued activations are served once threads free up');
});

t.test('a due alarm wakes a hibernated tenant, which runs its job and goes back to sleep', async (t) => {
  const env = startTenants({ idleMs: 50 });
  const { AlarmScheduler } = await import('../../../supervisor/tenants/scheduler.js');
  const scheduler = new AlarmScheduler({ registry: env.registry, host: env.host, log: env.log, batch: 10 });
  env.host.on('alarm', (_id, at) => scheduler.notify(at));
  t.teardown(async () => {
    scheduler.stop();
    await env.close();
  });
  const tenant = env.registry.create();
  await env.host.request(tenant.id, 'settings.put', { key: 'dev.io', value: { everyMs: 400, waitMs: 5 } }, 20_000);
  await until(() => env.host.state(tenant.id) === 'hibernated');
  const ticks: number[] = [];
  const wakes: string[] = [];
  env.host.on('tick', (id, runs) => id === tenant.id && ticks.push(...runs.map((r) => r.lagMs)));
  env.host.on('activated', (id, info) => id === tenant.id && wakes.push(info.reason));
  // The job is laid out when the tenant next opens; the registry alarm brings it in.
  env.registry.setNextAlarm(tenant.id, Date.now() + 100);
  scheduler.start();
  await until(() => ticks.length >= 3, 20_000);
  t.ok(wakes.filter((r) => r === 'alarm').length >= 2, `woken by alarms (${wakes.join(',')})`);
  t.ok(ticks.every((lag) => lag < 1_000), `jobs ran close to their due time (lags ${ticks.join(', ')} ms)`);
  const runs = (await env.host.request(tenant.id, 'settings.get', { key: 'dev.io.runs' }, 20_000)) as { value: number };
  t.ok(runs.value >= 3, 'every run was recorded in the tenant DB');
  t.ok(env.registry.get(tenant.id)!.nextAlarmAt! > Date.now() - 1_000, 'the registry knows the next alarm');
});

t.test('metrics report tenants by state and the heap and event-loop use of each active tenant', async (t) => {
  const env = startTenants({ idleMs: 5_000, metricsMs: 50 });
  t.teardown(() => env.close());
  const active = env.registry.create();
  env.registry.create();
  const quarantined = env.registry.create();
  env.registry.quarantine(quarantined.id, 'test', Date.now());
  await env.host.request(active.id, 'ping', undefined, 20_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const text = await env.metrics.registry.metrics();
  t.match(text, /tuitbot_tenants\{state="active"\} 1/);
  t.match(text, /tuitbot_tenants\{state="hibernated"\} 1/);
  t.match(text, /tuitbot_tenants\{state="quarantined"\} 1/);
  t.match(text, /tuitbot_tenant_activations_total\{reason="request"\} 1/);
  t.match(text, /tuitbot_tenant_wake_seconds_count 1/);
  const heap = new RegExp(`tuitbot_tenant_heap_used_bytes\\{tenant="${active.id}"\\} (\\d+)`).exec(text);
  t.ok(heap && Number(heap[1]) > 1_000_000, 'the active tenant reports its heap');
  t.match(text, new RegExp(`tuitbot_tenant_event_loop_utilization\\{tenant="${active.id}"\\} [0-9.e-]+`));
});
