// Errors, security headers, request ids and cookies: what every response carries regardless of its route.
import t from 'tap';
import { HttpError } from '../../../supervisor/http/errors.js';
import { json, noContent, redirect, text, type Reply } from '../../../supervisor/http/reply.js';
import { parseCookies, serializeCookie } from '../../../supervisor/http/cookies.js';
import type { Router } from '../../../supervisor/http/router.js';
import { withSecurityHeaders } from '../../../supervisor/http/security-headers.js';
import type { Handler } from '../../../supervisor/http/server.js';
import { eventually, rawExchange, startServer } from './fixtures/harness.js';

t.test('errors at the edge', async (t) => {
  const { url, lines } = await startServer(t, (r) => {
    r.add('GET', '/boom', () => {
      throw new Error('db password is hunter2');
    });
    r.add('GET', '/async-boom', async () => {
      await Promise.resolve();
      throw new TypeError('secret internals');
    });
    r.add('GET', '/expected', () => {
      throw new HttpError(409, 'already_connected', 'this X account is already connected', { handle: 'taken' });
    });
    r.add('GET', '/bad-header', () => ({ status: 200, headers: { 'X-Evil': 'a\r\nSet-Cookie: pwned=1' }, body: 'x' }));
  });

  t.test('a plain Error is 500 internal_error with no internals, logged with reqId and stack', async (t) => {
    const res = await fetch(`${url}/boom`);
    t.equal(res.status, 500);
    const body = await res.text();
    t.same(JSON.parse(body), { error: { code: 'internal_error', message: 'internal server error' } });
    t.notMatch(body, /hunter2/);
    const reqId = res.headers.get('x-request-id');
    const logged = lines.find((l) => l.msg === 'request handler failed' && l.reqId === reqId);
    t.ok(logged, 'error logged with the request id');
    t.match((logged?.['err'] as { stack?: string })?.stack, /hunter2[\s\S]*at /, 'stack in the log');
    t.equal(logged?.level, 50);
  });
  t.test('an async rejection is handled the same way', async (t) => {
    const res = await fetch(`${url}/async-boom`);
    t.equal(res.status, 500);
    t.notMatch(await res.text(), /secret/);
  });
  t.test('a thrown HttpError becomes its envelope, fields included', async (t) => {
    const res = await fetch(`${url}/expected`);
    t.equal(res.status, 409);
    t.same(await res.json(), {
      error: { code: 'already_connected', message: 'this X account is already connected', fields: { handle: 'taken' } },
    });
  });
  t.test('a header value with CR/LF is never written; the client gets a 500 instead', async (t) => {
    const res = await fetch(`${url}/bad-header`);
    t.equal(res.status, 500);
    t.equal(res.headers.get('x-evil'), null);
    t.equal(res.headers.get('set-cookie'), null);
  });
  t.test('the access log has route, status, duration and bytes but never the query string', async (t) => {
    await fetch(`${url}/expected?token=s3cret`, { headers: { authorization: 'Bearer abc', cookie: 'sid=zzz' } });
    t.ok(await eventually(() => lines.some((l) => l.msg === 'request' && l['route'] === '/expected')));
    const line = lines.find((l) => l.msg === 'request' && l['route'] === '/expected')!;
    t.match(line, { method: 'GET', path: '/expected', status: 409, durationMs: Number, bytes: Number, reqId: String });
    const all = JSON.stringify(lines);
    t.notMatch(all, /s3cret|Bearer abc|zzz/);
  });
});

t.test('security headers, request ids and cookies', async (t) => {
  const { url } = await startServer(t, (r) => {
    r.add('GET', '/json', () => json(200, { ok: true }));
    r.add('GET', '/html', () => ({
      ...text(200, '<p>hi</p>', 'text/html; charset=utf-8'),
      headers: { 'Content-Type': 'text/html; charset=utf-8', 'content-security-policy': "default-src 'self'" },
    }));
    r.add('GET', '/cached', () => json(200, 1, { 'Cache-Control': 'public, max-age=60' }));
    r.add('GET', '/empty', () => noContent());
    r.add('GET', '/go', () => redirect('/json'));
    r.add('GET', '/whoami', (ctx) => json(200, { cookies: ctx.cookies, ip: ctx.ip, requestId: ctx.requestId }));
    r.add('POST', '/login', (ctx) => {
      ctx.setCookie('sid', 'abc 123', { secure: true, maxAge: 3600 });
      ctx.setCookie('theme', 'dark', { httpOnly: false, sameSite: 'strict' });
      return noContent();
    });
  });

  t.test('every response carries the default security headers and JSON is no-store', async (t) => {
    for (const path of ['/json', '/nowhere']) {
      const res = await fetch(`${url}${path}`);
      t.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      t.equal(res.headers.get('x-frame-options'), 'DENY');
      t.equal(res.headers.get('referrer-policy'), 'strict-origin-when-cross-origin');
      t.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
      t.equal(res.headers.get('cross-origin-resource-policy'), 'same-origin');
      t.equal(res.headers.get('content-security-policy'), "default-src 'none'; frame-ancestors 'none'");
      t.equal(res.headers.get('cache-control'), 'no-store');
      t.equal(res.headers.get('strict-transport-security'), null, 'no HSTS unless asked');
    }
  });
  t.test('a handler overrides a default by setting the header itself, in any case', async (t) => {
    const html = await fetch(`${url}/html`);
    t.equal(html.headers.get('content-security-policy'), "default-src 'self'");
    t.equal(html.headers.get('cache-control'), null, 'non-JSON is not forced no-store');
    t.equal((await fetch(`${url}/cached`)).headers.get('cache-control'), 'public, max-age=60');
  });
  t.test('HSTS only with hsts: true', async (t) => {
    t.equal(withSecurityHeaders({}, { hsts: true })['Strict-Transport-Security'], 'max-age=31536000; includeSubDomains');
    const hsts = await startServer(t, (r) => r.add('GET', '/', () => noContent()), { hsts: true });
    t.equal((await fetch(hsts.url)).headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
  });
  t.test('204 has no body and a redirect has its Location', async (t) => {
    const empty = await fetch(`${url}/empty`);
    t.equal(empty.status, 204);
    t.equal(await empty.text(), '');
    const go = await fetch(`${url}/go`, { redirect: 'manual' });
    t.equal(go.status, 302);
    t.equal(go.headers.get('location'), '/json');
  });
  t.test('a fresh X-Request-Id is generated and echoed', async (t) => {
    const res = await fetch(`${url}/whoami`);
    const id = res.headers.get('x-request-id');
    t.match(id, /^[0-9a-f-]{36}$/);
    t.equal(((await res.json()) as { requestId: string }).requestId, id);
  });
  t.test('a well-formed incoming X-Request-Id is kept', async (t) => {
    const res = await fetch(`${url}/whoami`, { headers: { 'x-request-id': 'edge-42.abc_Z' } });
    t.equal(res.headers.get('x-request-id'), 'edge-42.abc_Z');
  });
  t.test('a malformed incoming X-Request-Id is replaced', async (t) => {
    for (const bad of ['has space', 'x'.repeat(65), 'semi;colon', '<script>']) {
      const res = await fetch(`${url}/whoami`, { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id');
      t.not(id, bad);
      t.match(id, /^[0-9a-f-]{36}$/);
    }
  });
  t.test('the Cookie header is parsed for the handler', async (t) => {
    const res = await fetch(`${url}/whoami`, { headers: { cookie: 'sid=abc%20123; theme=dark; __proto__=x' } });
    const body = (await res.json()) as { cookies: Record<string, string>; ip: string };
    // A cookie named __proto__ is plain data, not a prototype swap.
    t.same(body.cookies, JSON.parse('{"sid":"abc 123","theme":"dark","__proto__":"x"}'));
    t.equal(body.ip, '127.0.0.1');
  });
  t.test('setCookie adds one Set-Cookie per cookie with secure defaults', async (t) => {
    const res = await fetch(`${url}/login`, { method: 'POST' });
    t.equal(res.status, 204);
    t.same(res.headers.getSetCookie(), [
      'sid=abc%20123; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax',
      'theme=dark; Path=/; SameSite=Strict',
    ]);
  });
});

t.test('client ip honours X-Forwarded-For only when trustProxy is set', async (t) => {
  const route = (r: Router<Handler>) => r.add('GET', '/ip', (ctx) => text(200, ctx.ip));
  const headers = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' };
  const trusting = await startServer(t, route, { trustProxy: true });
  t.equal(await (await fetch(`${trusting.url}/ip`, { headers })).text(), '203.0.113.7');
  const direct = await startServer(t, route);
  t.equal(await (await fetch(`${direct.url}/ip`, { headers })).text(), '127.0.0.1');
});

t.test('cookie helpers', async (t) => {
  t.same(parseCookies(undefined), {});
  t.same(parseCookies('a=1; b=two%3D'), { a: '1', b: 'two=' });
  t.equal(serializeCookie('s', 'v'), 's=v; Path=/; HttpOnly; SameSite=Lax');
  t.equal(serializeCookie('s', '', { maxAge: 0, secure: true }), 's=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax');
  t.match(serializeCookie('x', 'y', { sameSite: 'none' }), /; Secure; SameSite=None$/, 'SameSite=None implies Secure');
});

t.test('a handler returning a malformed reply still gets the client a 500', async (t) => {
  const { url, port } = await startServer(t, (r) => {
    r.add('GET', '/undefined', () => undefined as unknown as Reply);
    r.add('GET', '/status', () => ({ status: 42 }));
    r.add('GET', '/body', () => ({ status: 200, body: 12 as unknown as string }));
    r.add('POST', '/ignores-body', () => noContent());
  });
  for (const path of ['/undefined', '/status', '/body']) {
    const res = await fetch(`${url}${path}`);
    t.equal(res.status, 500, path);
    t.match(await res.json(), { error: { code: 'internal_error' } });
  }

  t.test('an unread body (404 or a handler that ignores it) is skipped and keep-alive still works', async (t) => {
    const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello`;
    const { data } = await rawExchange(port, {
      chunks: [post('/nowhere') + post('/ignores-body') + 'GET /status HTTP/1.1\r\nHost: t\r\n\r\n'],
      timeoutMs: 500,
    });
    t.same(
      [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]),
      ['404', '204', '500'],
      'three responses on one connection',
    );
  });
});
