import t from 'tap';
import { Router } from '../../../supervisor/http/router.js';
import { json } from '../../../supervisor/http/reply.js';
import type { Handler } from '../../../supervisor/http/server.js';
import { startServer } from './fixtures/harness.js';

t.test('Router (unit)', async (t) => {
  const r = new Router<string>()
    .add('GET', '/api/tenants/:id/items/:itemId', 'item')
    .add('GET', '/api/tenants/me', 'me')
    .add('GET', '/api/tenants/:id', 'tenant')
    .add('DELETE', '/api/tenants/:id', 'delete-tenant')
    .add('GET', '/static/*', 'static')
    .add('GET', '/', 'root');

  t.test('params are captured by name', async (t) => {
    t.same(r.match('GET', '/api/tenants/t1/items/i9'), {
      kind: 'found', handler: 'item', params: { id: 't1', itemId: 'i9' }, pattern: '/api/tenants/:id/items/:itemId',
    });
  });
  t.test('a static segment wins over a param regardless of registration order', async (t) => {
    t.match(r.match('GET', '/api/tenants/me'), { kind: 'found', handler: 'me' });
    t.match(r.match('GET', '/api/tenants/other'), { kind: 'found', handler: 'tenant', params: { id: 'other' } });
  });
  t.test('matching is per method: DELETE /me falls through to the :id route', async (t) => {
    t.match(r.match('DELETE', '/api/tenants/me'), { kind: 'found', handler: 'delete-tenant', params: { id: 'me' } });
  });
  t.test('the wildcard captures the rest of the path, including nothing', async (t) => {
    t.match(r.match('GET', '/static/a/b.css'), { kind: 'found', handler: 'static', params: { '*': 'a/b.css' } });
    t.match(r.match('GET', '/static/'), { kind: 'found', params: { '*': '' } });
    t.match(r.match('GET', '/static'), { kind: 'found', params: { '*': '' } });
  });
  t.test('the root path matches', async (t) => {
    t.match(r.match('GET', '/'), { kind: 'found', handler: 'root' });
  });
  t.test('HEAD falls back to GET', async (t) => {
    t.match(r.match('HEAD', '/api/tenants/me'), { kind: 'found', handler: 'me' });
  });
  t.test('unknown path is not_found; known path under another method lists every allowed method', async (t) => {
    t.same(r.match('GET', '/nope'), { kind: 'not_found' });
    t.same(r.match('POST', '/api/tenants/x'), { kind: 'method_not_allowed', allow: ['DELETE', 'GET', 'HEAD'] });
  });
  t.test('params are percent-decoded, a malformed escape is not_found and never throws', async (t) => {
    t.match(r.match('GET', '/api/tenants/a%20b%2Fc'), { kind: 'found', params: { id: 'a b/c' } });
    t.same(r.match('GET', '/api/tenants/%E0%A4%A'), { kind: 'not_found' });
    t.same(r.match('GET', '/api/tenants/%zz'), { kind: 'not_found' });
  });
  t.test('an empty segment never fills a param', async (t) => {
    t.same(r.match('GET', '/api/tenants//items/x'), { kind: 'not_found' });
  });
  t.test('duplicate routes and misplaced wildcards are refused at registration', async (t) => {
    t.throws(() => new Router<string>().add('GET', '/a', 'x').add('get', '/a', 'y'));
    t.throws(() => new Router<string>().add('GET', '/a/*/b', 'x'));
    t.throws(() => new Router<string>().add('GET', '/a/:id/:id', 'x'));
  });
});

t.test('routing over a real server', async (t) => {
  const { url } = await startServer(t, (r) => {
    const echo: Handler = (ctx) => json(200, { pattern: ctx.pattern, params: ctx.params, q: ctx.query.get('q') });
    r.add('GET', '/api/tenants/:id', echo).add('GET', '/api/tenants/me', echo).add('PUT', '/api/tenants/:id', echo);
  });

  t.test('params reach the handler decoded, with the query parsed separately', async (t) => {
    const res = await fetch(`${url}/api/tenants/caf%C3%A9?q=x%20y`);
    t.equal(res.status, 200);
    t.same(await res.json(), { pattern: '/api/tenants/:id', params: { id: 'café' }, q: 'x y' });
  });
  t.test('static beats param', async (t) => {
    t.same(await (await fetch(`${url}/api/tenants/me`)).json(), { pattern: '/api/tenants/me', params: {}, q: null });
  });
  t.test('an unknown path gets the 404 envelope', async (t) => {
    const res = await fetch(`${url}/nowhere`);
    t.equal(res.status, 404);
    t.match(res.headers.get('content-type'), /^application\/json/);
    t.same(Object.keys(await res.json()), ['error']);
  });
  t.test('an unknown path has code not_found', async (t) => {
    t.match(await (await fetch(`${url}/nowhere`)).json(), { error: { code: 'not_found', message: String } });
  });
  t.test('a wrong method gets the 405 envelope with Allow', async (t) => {
    const res = await fetch(`${url}/api/tenants/me`, { method: 'DELETE' });
    t.equal(res.status, 405);
    t.equal(res.headers.get('allow'), 'GET, HEAD, PUT');
    t.match(await res.json(), { error: { code: 'method_not_allowed' } });
  });
  t.test('a malformed percent escape is a 404, and the server keeps answering', async (t) => {
    const res = await fetch(`${url}/api/tenants/%E0%A4%A`);
    t.equal(res.status, 404);
    t.match(await res.json(), { error: { code: 'not_found' } });
    t.equal((await fetch(`${url}/api/tenants/me`)).status, 200);
  });
  t.test('HEAD on a GET route answers headers only', async (t) => {
    const res = await fetch(`${url}/api/tenants/me`, { method: 'HEAD' });
    t.equal(res.status, 200);
    t.equal(await res.text(), '');
    t.ok(Number(res.headers.get('content-length')) > 0, 'Content-Length of the GET body');
  });
});
