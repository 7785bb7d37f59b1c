import t from 'tap';
import { RemoteError } from '../../../protocol/index.js';
import { startTenants, until, type TestTenants } from '../../helpers/tenants.js';

/** Crashes a tenant with a dev hook, then waits until the watchdog has dealt with it. */
async function crash(env: TestTenants, tenantId: string, hook: string): Promise<void> {
  await env.host.request(tenantId, hook, undefined, 20_000).catch(() => undefined);
  await until(() => env.host.state(tenantId) === 'backoff' || env.registry.get(tenantId)!.status === 'quarantined', 15_000);
}

for (const [hook, kind] of [
  ['dev.throw', 'error'],
  ['dev.oom', 'out_of_memory'],
  ['dev.spin', 'unresponsive'],
] as const) {
  t.test(`a tenant that crashes by ${hook} is restarted, quarantined on the 4th crash, and others keep answering`, async (t) => {
    // Only the spinning case relies on the heartbeat; the others must be caught for what they are.
    const env = startTenants({ heartbeatTimeoutMs: kind === 'unresponsive' ? 400 : 5_000, threads: 2 });
    t.teardown(() => env.close());
    const bad = env.registry.create();
    const good = env.registry.create();
    let goodAnswers = 0;
    let goodFailures = 0;
    let stop = false;
    // Warm first: a cold thread's start is not what this test is about (and is slow on a busy machine).
    await env.host.request(good.id, 'ping', undefined, 30_000);
    await env.host.request(bad.id, 'ping', undefined, 30_000);
    const neighbour = (async () => {
      while (!stop) {
        await env.host.request(good.id, 'ping', undefined, 10_000).then(
          () => goodAnswers++,
          () => goodFailures++,
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    for (let attempt = 1; attempt <= 3; attempt++) {
      await crash(env, bad.id, hook);
      t.equal(env.host.state(bad.id), 'backoff', `crash ${attempt} leads to a restart backoff`);
      // The watchdog restarts it by itself; afterwards it answers again.
      await until(() => env.host.state(bad.id) === 'active' || env.host.state(bad.id) === 'hibernated', 10_000);
      const pong = (await env.host.request(bad.id, 'ping', undefined, 20_000)) as { tenantId: string };
      t.equal(pong.tenantId, bad.id, `restarted after crash ${attempt}`);
    }
    await crash(env, bad.id, hook);
    const record = env.registry.get(bad.id)!;
    t.equal(record.status, 'quarantined', 'the 4th crash within the window quarantines');
    t.match(record.quarantineReason, /4 crashes/);
    const crashes = env.registry.crashes(bad.id);
    t.equal(crashes.length, 4);
    t.ok(crashes.every((c) => c.kind === kind), `every crash is classified as ${kind}`);
    await t.rejects(env.host.request(bad.id, 'ping', undefined, 1_000), { code: 'tenant_quarantined' });

    t.ok(env.host.release(bad.id), 'an operator can release it');
    t.match(await env.host.request(bad.id, 'ping', undefined, 20_000), { tenantId: bad.id }, 'released tenants answer again');

    stop = true;
    await neighbour;
    t.ok(goodAnswers > 10, `the neighbour kept answering (${goodAnswers} answers)`);
    t.equal(goodFailures, 0, 'the neighbour never failed');
    const metrics = await env.metrics.registry.getSingleMetricAsString('tuitbot_tenant_crashes_total');
    t.match(metrics, new RegExp(`tuitbot_tenant_crashes_total\\{kind="${kind}"\\} 4`));
  });
}

t.test('requests in flight when a tenant crashes fail with tenant_crashed, not a hang', async (t) => {
  const env = startTenants();
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  await env.host.request(tenant.id, 'ping', undefined, 20_000);
  const slow = env.host.request(tenant.id, 'dev.sleep', { ms: 2_000 }, 20_000);
  await env.host.request(tenant.id, 'dev.throw', undefined, 20_000);
  const error = await slow.then(() => null, (e: unknown) => e);
  t.type(error, RemoteError);
  t.equal((error as RemoteError).code, 'tenant_crashed');
});
