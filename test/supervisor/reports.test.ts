import t from 'tap';
import Database from 'better-sqlite3';
import { addReportRoutes } from '../../supervisor/routes/reports.js';
import { logAction } from '../../tenant-worker/runtime/action-log.js';
import { LlmUsageLedger } from '../../tenant-worker/llm/usage.js';
import { startAuthServer } from '../helpers/auth-server.js';
import { Browser } from '../helpers/browser.js';
import { until } from '../helpers/tenants.js';

t.test('activity feed: newest first, filters, cursor pages, usage bars; costs by day in the tenant zone', async (t) => {
  const server = await startAuthServer({ register: (router, deps) => addReportRoutes(router, { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 }) });
  t.teardown(() => server.close());
  const ada = new Browser(server.base);
  await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' });
  const bob = new Browser(server.base);
  await bob.json('POST', '/auth/signup', { email: 'bob@example.com', password: 'correct horse battery staple' });
  const tenantId = (server.db.prepare("SELECT tenant_id FROM users WHERE email = 'ada@example.com'").get() as { tenant_id: string }).tenant_id;
  await ada.json('GET', '/api/activity'); // creates the tenant DB
  await until(() => server.host.state(tenantId) === 'hibernated');

  const now = Date.now();
  const db = new Database(server.registry.dbPath(tenantId));
  for (let i = 0; i < 5; i++) logAction(db, now - 10_000 + i, { action: i % 2 ? 'reply' : 'tweet', status: i === 4 ? 'skipped' : 'success', source: 'discovery', message: `action ${i}` });
  db.prepare("INSERT INTO x_spend (at, kind, endpoint, units, cost_micros, status) VALUES (?, 'read', 'GET /2/tweets/search/recent', 10, 50000, 200), (?, 'create', 'POST /2/tweets', 1, 15000, 201), (?, 'other', 'POST /2/tweets', 0, 0, 429)").run(now - 5000, now - 4000, now - 3000);
  new LlmUsageLedger(db).record({ at: now - 2000, provider: 'openai', model: 'gpt-4o-mini', purpose: 'reply', inputTokens: 1000, outputTokens: 100, status: 'ok', httpStatus: 200, durationMs: 300 });
  db.close();

  const page1 = await ada.json('GET', '/api/activity?limit=2');
  t.equal(page1.status, 200);
  t.same(page1.body.items.map((i: { message: string }) => i.message), ['action 4', 'action 3']);
  t.ok(page1.body.nextCursor);
  t.match(page1.body.usage, { replies: { window: 'day' }, threads: { window: 'week' } });
  const page2 = await ada.json('GET', `/api/activity?limit=2&before=${page1.body.nextCursor}`);
  t.same(page2.body.items.map((i: { message: string }) => i.message), ['action 2', 'action 1']);
  const replies = await ada.json('GET', '/api/activity?actions=reply&statuses=success');
  t.same(replies.body.items.map((i: { message: string }) => i.message), ['action 3', 'action 1']);
  t.match((await ada.json('GET', '/api/activity?actions=dance')).body.error, { code: 'invalid_params', fields: { 'actions.0': /must be one of/ } });
  t.match((await ada.json('GET', '/api/activity?limit=abc')).body.error.fields, { limit: /whole number/ });
  t.match((await ada.json('GET', '/api/activity?page=2')).status, 422, 'unknown query parameters are refused');
  t.same((await bob.json('GET', '/api/activity')).body.items, [], "Bob sees none of Ada's activity");

  const costs = await ada.json('GET', `/api/costs?from=${now - 60_000}&to=${now + 1}`);
  t.equal(costs.status, 200);
  t.match(costs.body.x.total, { calls: 3, failed: 1, costMicros: 65_000 });
  t.match(costs.body.x.byKind, [{ kind: 'read', costMicros: 50_000 }, { kind: 'create', costMicros: 15_000 }, { kind: 'other', costMicros: 0 }]);
  t.match(costs.body.llm.total, { calls: 1 });
  t.match(costs.body.llm.byModel, [{ model: 'gpt-4o-mini' }]);
  t.match((await ada.json('GET', `/api/costs?from=${now}&to=${now - 1}`)).body.error.code, 'invalid_params');
  t.match((await bob.json('GET', '/api/costs')).body.x.total, { calls: 0 }, "Bob's costs are his own");
});
