import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { tempDataDir } from '../helpers/tenants.js';
import { runCli, serveTemp } from '../helpers/process.js';

async function put(base: string, tenant: string, key: string, value: unknown): Promise<Response> {
  return fetch(`${base}/dev/tenants/${tenant}/settings/${key}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ value }),
  });
}

t.test('the server answers /healthz, /readyz and /metrics', async (t) => {
  const { base, output } = await serveTemp(t);
  const health = await fetch(`${base}/healthz`);
  t.equal(health.status, 200);
  t.same(await health.json(), { status: 'ok' });
  t.equal(health.headers.get('x-content-type-options'), 'nosniff');
  const ready = await fetch(`${base}/readyz`);
  t.same(await ready.json(), { status: 'ready', checks: { managementDb: true, pool: true, scheduler: true } });
  const metrics = await (await fetch(`${base}/metrics`)).text();
  for (const name of [
    'tuitbot_http_requests_total{method="GET",route="/readyz",status="200"} 1',
    'tuitbot_tenants{state="hibernated"} 0',
    'tuitbot_tenant_wake_seconds_bucket',
    'tuitbot_tenant_job_lag_seconds_bucket',
    'tuitbot_tenant_crashes_total',
    'nodejs_eventloop_lag_seconds',
    'tuitbot_activation_queue_length 0',
    'tuitbot_live_connections 0',
    'tuitbot_stripe_webhooks_total',
    'tuitbot_tenant_events_total',
  ]) {
    t.ok(metrics.includes(name), `metrics include ${name}`);
  }
  t.match(output(), /SANDBOX MODE/, 'the sandbox says so in the log');
  const missing = await fetch(`${base}/nope`);
  t.equal(missing.status, 404);
  t.same(await missing.json(), { error: { code: 'not_found', message: 'no route for GET /nope' } });
  t.equal((await fetch(`${base}/dev/tenants`, { method: 'POST' })).status, 404, 'dev routes are off by default');
});

t.test('/metrics takes a bearer token when one is configured', async (t) => {
  const token = 'metrics-token-0123456789';
  const { base } = await serveTemp(t, { METRICS_TOKEN: token });
  const denied = await fetch(`${base}/metrics`);
  t.equal(denied.status, 401);
  t.equal(((await denied.json()) as { error: { code: string } }).error.code, 'unauthorized');
  t.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}x` } })).status, 401);
  t.equal((await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
});

t.test('graceful shutdown finishes in-flight requests, hibernates tenants and loses no committed write', async (t) => {
  const server = await serveTemp(t, { TUITBOT_DEV_HOOKS: '1', TENANT_IDLE_MS: '600000' });
  const { base, dir } = server;
  const tenants: string[] = [];
  for (let i = 0; i < 3; i++) tenants.push(((await (await fetch(`${base}/dev/tenants`, { method: 'POST' })).json()) as { id: string }).id);
  for (const tenant of tenants) {
    for (let i = 0; i < 20; i++) t.equal((await put(base, tenant, `k${i}`, { i, tenant })).status, 200);
  }
  // A request still running when the signal arrives must complete.
  const inflight = fetch(`${base}/dev/tenants/${tenants[0]}/call/dev.sleep`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ms: 1_000 }),
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const stopping = server.stop('SIGTERM');
  const answer = await inflight;
  t.equal(answer.status, 200, 'the in-flight request was answered');
  t.same(await answer.json(), { result: { slept: 1_000 } });
  const { code, ms } = await stopping;
  t.equal(code, 0, 'exit code 0');
  t.ok(ms < 10_000, `exited within 10 s (${ms} ms)`);
  t.match(server.output(), /shutdown complete/);

  for (const tenant of tenants) {
    const file = join(dir, 'tenants', `${tenant}.db`);
    const wal = `${file}-wal`;
    t.ok(!existsSync(wal) || statSync(wal).size === 0, 'the tenant WAL was checkpointed');
    const db = new Database(file, { readonly: true });
    const rows = db.prepare("SELECT count(*) AS n FROM settings WHERE key LIKE 'k%'").get() as { n: number };
    t.equal(rows.n, 20, `every committed write of ${tenant} is in its file`);
    db.close();
  }
  const management = new Database(join(dir, 'management.db'), { readonly: true });
  const hibernated = management.prepare('SELECT count(*) AS n FROM tenants WHERE last_active_at IS NOT NULL').get() as { n: number };
  t.equal(hibernated.n, 3, 'every tenant was hibernated and recorded');
  management.close();
});

t.test('an invalid configuration stops the start with every problem listed', async (t) => {
  const result = runCli(['serve'], { PORT: 'abc', TENANT_THREADS: '-1', DATA_DIR: '/tmp/never' });
  t.equal(result.status, 2);
  t.match(result.stderr, /Invalid configuration/);
  t.match(result.stderr, /PORT: must be a whole number/);
  t.match(result.stderr, /TENANT_THREADS: /);
});

t.test('the server refuses to run on the uWS JavaScript fallback', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = runCli(['serve'], { DATA_DIR: dir, PORT: '0', UWS_USE_FALLBACK: '1' });
  t.not(result.status, 0);
  t.match(result.stderr, /native/i);
});

t.test('a quarantined tenant shows in /metrics and its owner is mailed', async (t) => {
  const { base } = await serveTemp(t, { TUITBOT_DEV_HOOKS: '1', TENANT_RESTART_BACKOFF_MS: '20', TENANT_RESTART_BACKOFF_MAX_MS: '100' });
  const signup = await fetch(`${base}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: base },
    body: JSON.stringify({ email: 'owner@example.com', password: 'a good long passphrase' }),
  });
  const { user } = (await signup.json()) as { user: { tenantId: string } };
  const crash = () => fetch(`${base}/dev/tenants/${user.tenantId}/call/dev.throw`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'null' });
  let quarantined = false;
  for (let attempt = 0; attempt < 40 && !quarantined; attempt++) {
    const response = await crash();
    quarantined = response.status === 423;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  t.ok(quarantined, 'the tenant ends up quarantined (423)');
  t.match(await (await fetch(`${base}/metrics`)).text(), /tuitbot_tenants\{state="quarantined"\} 1/);
  const mails = (await (await fetch(`${base}/dev/mail.json`)).json()) as unknown;
  t.match(JSON.stringify(mails), /Your TuitBot automation was paused/, 'the owner is told');
});
