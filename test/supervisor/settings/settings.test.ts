import t, { type Test } from 'tap';
import { addSettingsRoutes } from '../../../supervisor/routes/settings.js';
import { NO_PLAN_CEILINGS } from '../../../supervisor/billing/state.js';
import { startAuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';

async function setup(t: Test) {
  const server = await startAuthServer({ register: (router, deps) => addSettingsRoutes(router, { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 }) });
  t.teardown(() => server.close());
  const ada = new Browser(server.base);
  await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' });
  const tenantId = (server.db.prepare('SELECT tenant_id FROM users').get() as { tenant_id: string }).tenant_id;
  return { server, ada, tenantId };
}

const growth = { ...NO_PLAN_CEILINGS, plan: 'growth', repliesPerDay: 15, tweetsPerDay: 10, threadsPerWeek: 3, targets: 10, automation: true };

t.test('settings: defaults first, per-field errors, all-or-nothing writes, resets', async (t) => {
  const { ada } = await setup(t);
  const first = (await ada.json('GET', '/api/settings')).body;
  t.match(first.values, { approval_mode: true, timezone: 'UTC', 'limits.max_replies_per_day': 5 }, 'approval mode is on by default');
  t.same(first.custom, []);
  t.match(first.missing, { 'business.product_name': 'is required' });

  const bad = await ada.json('PATCH', '/api/settings', { 'limits.max_replies_per_day': -1, timezone: 'Mars/Base', 'business.product_name': 'Acme' });
  t.equal(bad.status, 422);
  t.match(bad.body.error.fields, { 'limits.max_replies_per_day': /at least 0/, timezone: /IANA time zone/ });
  t.equal((await ada.json('GET', '/api/settings')).body.values['business.product_name'], '', 'nothing was written');

  t.match((await ada.json('PATCH', '/api/settings', { 'no.such.key': 1 })).body.error.fields, { 'no.such.key': 'is not a setting' });
  t.match((await ada.json('PATCH', '/api/settings', { 'pacing.min_delay_seconds': 300, 'pacing.max_delay_seconds': 60 })).body.error.fields, {
    'pacing.min_delay_seconds': /maximum/,
  });
  t.equal((await ada.json('PATCH', '/api/settings', {})).status, 422, 'an empty change is refused');

  const ok = await ada.json('PATCH', '/api/settings', { 'business.product_name': 'Acme', timezone: 'Europe/Paris', 'business.product_keywords': ['invoicing'] });
  t.equal(ok.status, 200);
  t.match(ok.body.values, { 'business.product_name': 'Acme', timezone: 'Europe/Paris' });
  t.same(ok.body.custom, ['business.product_keywords', 'business.product_name', 'timezone']);
  const checked = await ada.json('POST', '/api/settings/validate', { 'scoring.threshold': 101 });
  t.match(checked.body, { ok: false, errors: { 'scoring.threshold': /at most 100/ } });
  t.equal((await ada.json('PATCH', '/api/settings', { timezone: null })).body.values.timezone, 'UTC', 'null resets to the default');
  t.match((await ada.json('GET', '/api/settings/defaults')).body.values, { approval_mode: true });
});

t.test('settings: limits above the plan ceiling are kept and reported as clamped; ended subscriptions are read-only', async (t) => {
  const { server, ada, tenantId } = await setup(t);
  server.host.setCeilings(tenantId, growth);
  const patched = await ada.json('PATCH', '/api/settings', { 'limits.max_replies_per_day': 40, 'limits.max_tweets_per_day': 4 });
  t.equal(patched.status, 200);
  t.same(patched.body.clamped, { 'limits.max_replies_per_day': { requested: 40, ceiling: 15, effective: 15 } });
  t.same(patched.body.limits['limits.max_tweets_per_day'], { requested: 4, ceiling: 10, effective: 4 }, 'min(user, ceiling)');

  server.host.setCeilings(tenantId, { ...growth, plan: 'pro', repliesPerDay: 30 });
  t.same((await ada.json('GET', '/api/settings')).body.limits['limits.max_replies_per_day'], { requested: 40, ceiling: 30, effective: 30 }, 'an upgrade lifts it at once');

  server.host.setCeilings(tenantId, { ...NO_PLAN_CEILINGS, plan: 'growth', readOnly: true });
  const refused = await ada.json('PATCH', '/api/settings', { 'business.product_name': 'Acme' });
  t.equal(refused.status, 409);
  t.equal(refused.body.error.code, 'read_only');
  t.equal((await ada.json('GET', '/api/settings')).status, 200, 'still readable');
});
