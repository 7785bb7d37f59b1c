// The account page's data routes over real HTTP: download an export, load it into another
// account, refusals as clear envelopes, and the rate limit.
import t from 'tap';
import { addAccountDataRoutes } from '../../../supervisor/routes/account-data.js';
import { startAuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';

const PASSWORD = 'correct horse battery staple';

t.test('export downloads the account’s data; import loads it into another account', async (t) => {
  const server = await startAuthServer({
    register: (router, deps) => addAccountDataRoutes(router, { auth: deps.auth, limits: deps.limits, host: deps.host, requestTimeoutMs: 20_000 }),
  });
  t.teardown(() => server.close());
  const signUp = async (email: string) => {
    const browser = new Browser(server.base);
    t.equal((await browser.json('POST', '/auth/signup', { email, password: PASSWORD })).status, 201);
    const tenantId = (server.db.prepare('SELECT tenant_id FROM users WHERE email = ?').get(email) as { tenant_id: string }).tenant_id;
    return { browser, tenantId };
  };
  t.equal((await new Browser(server.base).json('GET', '/api/account/export')).status, 401, 'only for a session');
  const ada = await signUp('ada@example.com');
  const bob = await signUp('bob@example.com');
  await server.host.request(ada.tenantId, 'settings.put', { key: 'timezone', value: 'Europe/Paris' }, 20_000);

  const download = await ada.browser.json('GET', '/api/account/export');
  t.equal(download.status, 200);
  t.match(download.headers.get('content-disposition'), /^attachment; filename="tuitbot-export-\d{4}-\d{2}-\d{2}\.json"$/);
  t.match(download.body, { format: 'tuitbot-export', version: 1, secrets: 'excluded', tables: { settings: { columns: ['key', 'value', 'updated_at'] } } });
  t.same(download.body.tables.settings.rows.map((row: unknown[]) => row[0]), ['timezone']);

  const loaded = await bob.browser.json('POST', '/api/account/import', { file: download.body });
  t.equal(loaded.status, 200, JSON.stringify(loaded.body));
  t.match(loaded.body, { tables: { settings: 1 }, secrets: 'excluded', dropped: [] });
  const bobs = await bob.browser.json('GET', '/api/account/export');
  t.same(bobs.body.tables, download.body.tables, 'Bob now has exactly Ada’s data');

  const occupied = await bob.browser.json('POST', '/api/account/import', { file: download.body });
  t.equal(occupied.status, 409);
  t.equal(occupied.body.error.code, 'not_empty');
  t.equal((await bob.browser.json('POST', '/api/account/import', { file: download.body, replace: true })).status, 200, 'replace overwrites');

  const newer = await bob.browser.json('POST', '/api/account/import', { file: { ...download.body, version: 99 }, replace: true });
  t.equal(newer.status, 422);
  t.equal(newer.body.error.code, 'format_too_new');
  const malformed = await ada.browser.json('POST', '/api/account/import', { file: { ...download.body, tables: { settings: { columns: ['key'], rows: [[1, 2]] } } }, replace: true });
  t.equal(malformed.status, 422);
  t.match(malformed.body.error, { code: 'invalid_file', fields: { 'file.tables.settings.rows.0': /cells/ } });
  t.equal((await bob.browser.json('POST', '/api/account/import', { file: download.body, extra: 1 })).status, 422, 'unknown fields are refused');
  const limited = await bob.browser.json('GET', '/api/account/export');
  t.equal(limited.status, 429, 'a few a minute');
  t.ok(limited.headers.get('retry-after'));
});
