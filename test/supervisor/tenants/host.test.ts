import t from 'tap';
import Database from 'better-sqlite3';
import { startTenants, until } from '../../helpers/tenants.js';

t.test('a request activates a hibernated tenant, which answers and hibernates when idle', async (t) => {
  const env = startTenants();
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  t.equal(env.host.state(tenant.id), 'hibernated');
  const pong = (await env.host.request(tenant.id, 'ping', undefined, 5_000)) as { tenantId: string };
  t.equal(pong.tenantId, tenant.id);
  t.equal(env.host.state(tenant.id), 'active');
  await until(() => env.host.state(tenant.id) === 'hibernated');
  t.ok(env.registry.get(tenant.id)!.lastActiveAt, 'the registry records the end of the activation');
});

t.test('hibernate/wake round trips keep committed data', async (t) => {
  const env = startTenants();
  t.teardown(() => env.close());
  const tenant = env.registry.create();
  for (let round = 0; round < 3; round++) {
    await env.host.request(tenant.id, 'settings.put', { key: `round.${round}`, value: { round } }, 5_000);
    await until(() => env.host.state(tenant.id) === 'hibernated');
  }
  for (let round = 0; round < 3; round++) {
    const got = (await env.host.request(tenant.id, 'settings.get', { key: `round.${round}` }, 5_000)) as { value: unknown };
    t.same(got.value, { round });
  }
  await until(() => env.host.state(tenant.id) === 'hibernated');
  // Hibernation checkpoints the WAL and closes the file: another reader sees everything.
  const file = new Database(env.registry.dbPath(tenant.id), { readonly: true });
  t.equal((file.prepare("SELECT count(*) AS n FROM settings WHERE key LIKE 'round.%'").get() as { n: number }).n, 3);
  file.close();
});
