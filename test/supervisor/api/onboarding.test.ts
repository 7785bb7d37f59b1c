// The onboarding checklist over real HTTP, walked as a newcomer does in the sandbox (each step done
// through the API a wizard would call), and on a self-hosted server, which needs no plan.
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import { startSupervisor } from '../../../supervisor/app.js';
import { loadConfig } from '../../../supervisor/config.js';
import type { Browser } from '../../helpers/browser.js';
import { connectX, setProfile, signUp, subscribe } from '../../helpers/sandbox-user.js';
import { tempDataDir } from '../../helpers/tenants.js';

async function server(t: Test, env: Record<string, string> = {}): Promise<string> {
  const dir = tempDataDir();
  const supervisor = await startSupervisor(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', TENANT_THREADS: '2', ...env }), pino({ level: 'silent' }));
  t.teardown(async () => {
    await supervisor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return `http://127.0.0.1:${supervisor.port}`;
}

async function checklist(browser: Browser) {
  const answer = await browser.json('GET', '/api/onboarding');
  if (answer.status !== 200) throw new Error(`onboarding: ${answer.status} ${JSON.stringify(answer.body)}`);
  const steps = Object.fromEntries((answer.body.steps as { id: string }[]).map((step) => [step.id, step])) as Record<string, Record<string, unknown>>;
  return { ...answer.body, byId: steps } as { steps: { id: string; done: boolean }[]; next: string | null; complete: boolean; byId: typeof steps };
}

t.test('sandbox: the checklist follows the newcomer from sign-up to a started runtime', async (t) => {
  const base = await server(t);
  const ada = await signUp(base, 'ada@example.com');

  const first = await checklist(ada);
  t.same(first.steps.map((step) => step.id), ['business', 'x', 'llm', 'approval', 'plan', 'runtime'], "in the wizard's order");
  t.equal(first.next, 'business');
  t.equal(first.complete, false);
  t.match(first.byId, {
    business: { done: false, missing: { 'business.product_name': String, 'business.product_keywords': String, 'business.industry_topics': String } },
    x: { done: false, configured: true, username: null },
    llm: { done: true, kind: 'sandbox' },
    approval: { done: true, chosen: false, approvalMode: true, mode: 'autopilot' },
    plan: { done: false, needed: true, status: 'none', plan: null },
    runtime: { done: false, state: 'stopped' },
  });

  await setProfile(ada);
  t.match(await checklist(ada), { next: 'x', byId: { business: { done: true, missing: {} } } });
  await connectX(ada, 'ada_builds');
  t.match(await checklist(ada), { next: 'plan', byId: { x: { done: true, username: 'ada_builds' } } });
  t.equal((await ada.json('PATCH', '/api/settings', { approval_mode: false })).status, 200);
  t.match((await checklist(ada)).byId, { approval: { done: true, chosen: true, approvalMode: false } }, 'the approval step shows the choice');
  await subscribe(ada, 'starter');
  t.match(await checklist(ada), { next: 'runtime', byId: { plan: { done: true, status: 'active', plan: 'starter' } } });
  t.equal((await ada.json('POST', '/api/runtime/start')).status, 200);
  const done = await checklist(ada);
  t.match(done, { next: null, complete: true, byId: { runtime: { done: true, state: 'started' } } });
  t.ok(done.steps.every((step) => step.done));
});

t.test('self-host: no plan is needed, and without an LLM key the LLM step is open', async (t) => {
  const base = await server(t, { TUITBOT_MODE: 'self-host', HOST: '127.0.0.1' });
  const owner = await signUp(base, 'owner@example.com');
  const list = await checklist(owner);
  t.match(list.byId, { plan: { done: true, needed: false }, llm: { done: false, kind: 'none' }, x: { done: false, configured: false } });
  t.equal(list.next, 'business');
  await setProfile(owner);
  t.equal((await checklist(owner)).next, 'x');
});
