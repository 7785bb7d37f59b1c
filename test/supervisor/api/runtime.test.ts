// The runtime routes over real HTTP: the real supervisor in sandbox mode and real tenant threads.
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import t from 'tap';
import { startSupervisor } from '../../../supervisor/app.js';
import { loadConfig } from '../../../supervisor/config.js';
import { Browser } from '../../helpers/browser.js';
import { eventually, PROFILE, setProfile, signUp } from '../../helpers/sandbox-user.js';
import { tempDataDir } from '../../helpers/tenants.js';

const JOBS = ['analytics', 'approval-poster', 'cleanup', 'content', 'discovery', 'mentions', 'scheduled-poster', 'targets', 'threads'];

t.test('status, start (refused until the profile is set), pause, stop; why the jobs are idle', async (t) => {
  const dir = tempDataDir();
  const supervisor = await startSupervisor(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', TENANT_THREADS: '2', TUITBOT_DEV_HOOKS: '1' }), pino({ level: 'silent' }));
  t.teardown(async () => {
    await supervisor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${supervisor.port}`;
  const ada = await signUp(base, 'ada@example.com');
  t.equal((await new Browser(base).json('GET', '/api/runtime')).status, 401, 'logged out: 401');

  const fresh = await ada.json('GET', '/api/runtime');
  t.equal(fresh.status, 200);
  t.match(fresh.body, {
    state: 'stopped',
    running: false,
    jobs: [],
    x: { configured: true, connected: false, username: null },
    llm: 'sandbox',
    automation: false,
    approvalMode: true,
    gateReasons: [],
    approvals: { pending: 0 },
  });
  t.same(Object.keys(fresh.body.missingSetup).sort(), ['business.industry_topics', 'business.product_keywords', 'business.product_name']);

  const refused = await ada.json('POST', '/api/runtime/start');
  t.equal(refused.status, 409, 'no start without a business profile');
  t.equal(refused.body.error.code, 'setup_incomplete');
  t.match(refused.body.error.message, /business\.product_name/);
  t.same(Object.keys(refused.body.error.fields).sort(), ['business.industry_topics', 'business.product_keywords', 'business.product_name'], 'each missing setting is named');
  t.equal((await ada.json('GET', '/api/runtime')).body.state, 'stopped', 'and nothing started');
  t.equal((await ada.json('PATCH', '/api/settings', { 'business.product_name': PROFILE['business.product_name'] })).status, 200);
  t.same(Object.keys((await ada.json('POST', '/api/runtime/start')).body.error.fields).sort(), ['business.industry_topics', 'business.product_keywords'], 'what is still missing');

  await setProfile(ada);
  const before = Date.now();
  const started = await ada.json('POST', '/api/runtime/start');
  t.equal(started.status, 200, JSON.stringify(started.body));
  t.match(started.body, { state: 'started', running: true, pausedUntil: null, missingSetup: {} });
  t.same(started.body.jobs.map((job: { name: string }) => job.name).filter((name: string) => JOBS.includes(name)), JOBS, 'every runtime job is defined');
  for (const job of started.body.jobs as { name: string; nextRunAt: number; lastRunAt: number | null; lastError: string | null }[]) {
    t.ok(job.nextRunAt >= before - 1_000 && job.nextRunAt <= Date.now() + 3_600_000, `${job.name}: first run within the hour`);
    t.equal(job.lastRunAt, null);
    t.equal(job.lastError, null);
  }

  // The jobs run (made due now by the dev hook): with no plan and no X they idle, and say why.
  const tenant = (await ada.json('GET', '/auth/me')).body.user.tenantId as string;
  t.equal((await ada.json('POST', `/dev/tenants/${tenant}/call/dev.runtime-run-now`, {})).status, 200);
  const idle = await eventually(async () => {
    const { body } = await ada.json('GET', '/api/runtime');
    return body.jobs.every((job: { lastRunAt: number | null }) => job.lastRunAt !== null) && body.gateReasons.length > 0 ? body : undefined;
  });
  t.match(idle.gateReasons, [{ reason: 'automation_off', message: /no active plan/ }], 'the gate says why: no plan with automation');
  t.equal(idle.gateReasons.length, 1);
  t.ok(idle.jobs.every((job: { nextRunAt: number }) => job.nextRunAt > Date.now()), 'each job has its next run');

  const past = await ada.json('POST', '/api/runtime/pause', { until: Date.now() - 1_000 });
  t.equal(past.status, 422);
  t.match(past.body.error.fields, { until: /future/ });
  t.equal((await ada.json('POST', '/api/runtime/pause', { until: 'tomorrow' })).status, 422);
  t.equal((await ada.json('POST', '/api/runtime/pause', { until: 1, forever: true })).status, 422, 'unknown fields are refused');
  const until = Date.now() + 3_600_000;
  t.match((await ada.json('POST', '/api/runtime/pause', { until })).body, { state: 'paused', running: false, pausedUntil: until });
  t.match((await ada.json('POST', '/api/runtime/pause')).body, { state: 'paused', pausedUntil: null }, 'no body: paused until started again');
  t.match((await ada.json('POST', '/api/runtime/start')).body, { state: 'started' });
  const stopped = await ada.json('POST', '/api/runtime/stop');
  t.match(stopped.body, { state: 'stopped', running: false });
  t.match((await ada.json('GET', '/api/runtime')).body, { state: 'stopped' });
});
