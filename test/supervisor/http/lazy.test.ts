// The response path makes some things only when used (the abort signal, the child logger, the decoded peer
// address, the query, a body reader); each still behaves as if it had been made up front.
import t from 'tap';
import { pino } from 'pino';
import { json, noContent, text } from '../../../supervisor/http/reply.js';
import { eventually, parseResponse, rawExchange, sleep, startServer } from './fixtures/harness.js';

t.test('a request without a body gets no body reader and no body timer', async (t) => {
  const { url, port } = await startServer(
    t,
    (r) => {
      r.add('GET', '/slow', async (ctx) => {
        await sleep(250);
        return json(200, { bytes: (await ctx.body()).length, same: ctx.body() === ctx.body() });
      });
      r.add('POST', '/echo', async (ctx) => json(200, { bytes: (await ctx.body()).length }));
    },
    { bodyTimeoutMs: 100 },
  );
  const slow = await fetch(`${url}/slow`);
  t.equal(slow.status, 200, 'a handler slower than the body timeout is not answered 408');
  t.same(await slow.json(), { bytes: 0, same: true }, 'body() is an empty buffer, the same promise each time');
  const empty = await fetch(`${url}/echo`, { method: 'POST', body: '' });
  t.same(await empty.json(), { bytes: 0 }, 'Content-Length: 0 is an empty body');
  const chunked = await rawExchange(port, {
    chunks: ['POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
  });
  t.equal(parseResponse(chunked.data).body, '{"bytes":5}', 'a chunked body (no Content-Length) is still read');
});

t.test('signal, ip and log after the client went away', async (t) => {
  const seen: Array<{ aborted: boolean; ip: string }> = [];
  let fired = 0;
  const { port, lines } = await startServer(t, (r) => {
    r.add('GET', '/late', async (ctx) => {
      // Nothing touched before the client leaves: the signal is made aborted, the address is still known.
      await sleep(150);
      seen.push({ aborted: ctx.signal.aborted, ip: ctx.ip });
      ctx.log.info('after abort');
      return noContent();
    });
    r.add('GET', '/early', async (ctx) => {
      ctx.signal.addEventListener('abort', () => (fired += 1));
      await sleep(150);
      return noContent();
    });
  });
  for (const path of ['/late', '/early']) {
    await rawExchange(port, { chunks: [`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`], destroyAfterLast: true });
  }
  t.ok(await eventually(() => seen.length === 1 && fired === 1));
  t.same(seen, [{ aborted: true, ip: '127.0.0.1' }], 'a signal first read after the abort is already aborted; ip still known');
  t.equal(fired, 1, 'a signal read before the abort fires once');
  const late = lines.find((l) => l.msg === 'request aborted' && l['route'] === '/late');
  t.ok(late?.reqId, 'the aborted access line has the request id');
  t.equal(lines.find((l) => l.msg === 'after abort')?.reqId, late?.reqId, 'the handler log line has the same id');
});

t.test('the access line carries reqId once, whether or not the handler logged', async (t) => {
  const raw: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void raw.push(line) });
  const { url } = await startServer(
    t,
    (r) => {
      r.add('GET', '/quiet', () => text(200, 'q'));
      r.add('GET', '/chatty', (ctx) => {
        ctx.log.info('hello');
        return text(200, 'c');
      });
    },
    { log },
  );
  for (const path of ['/quiet', '/chatty']) {
    const res = await fetch(`${url}${path}`, { headers: { 'x-request-id': `id-${path.slice(1)}` } });
    await res.text();
    t.ok(await eventually(() => raw.some((l) => l.includes(`"route":"${path}"`))));
    const line = raw.find((l) => l.includes(`"route":"${path}"`))!;
    t.equal(line.match(/"reqId"/g)?.length, 1, `${path}: one reqId key`);
    t.match(JSON.parse(line), { reqId: `id-${path.slice(1)}`, msg: 'request', status: 200, bytes: 1 });
  }
});

t.test('security headers: a handler override replaces the default, never duplicates it', async (t) => {
  const { url } = await startServer(
    t,
    (r) => {
      r.add('GET', '/frame', () => ({ status: 200, headers: { 'x-frame-options': 'SAMEORIGIN', 'Content-Type': 'application/problem+json' }, body: '{}' }));
      r.add('GET', '/hsts', () => ({ status: 200, headers: { 'STRICT-TRANSPORT-SECURITY': 'max-age=60' }, body: 'x' }));
    },
    { hsts: true },
  );
  const frame = await fetch(`${url}/frame`);
  t.equal(frame.headers.get('x-frame-options'), 'SAMEORIGIN');
  t.equal(frame.headers.get('cache-control'), 'no-store', '+json is JSON');
  t.equal(frame.headers.get('x-content-type-options'), 'nosniff', 'the other defaults stay');
  t.equal(frame.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
  const hsts = await fetch(`${url}/hsts`);
  t.equal(hsts.headers.get('strict-transport-security'), 'max-age=60');
  t.equal(hsts.headers.get('cache-control'), null);
});

t.test('unusual statuses and bodies still reach the wire', async (t) => {
  const { url } = await startServer(t, (r) => {
    r.add('GET', '/teapot', () => text(418, 'short and stout'));
    r.add('GET', '/custom', () => ({ status: 299, body: 'x' }));
    r.add('GET', '/bytes', () => ({ status: 200, body: new Uint8Array([0, 1, 2, 3, 4, 5]).subarray(2, 5) }));
    r.add('GET', '/utf8', () => text(200, 'café ☕'));
  });
  const teapot = await fetch(`${url}/teapot`);
  t.equal(teapot.status, 418);
  t.equal(teapot.statusText, "I'm a Teapot");
  t.equal((await fetch(`${url}/custom`)).status, 299, 'a status without a reason phrase');
  t.same([...new Uint8Array(await (await fetch(`${url}/bytes`)).arrayBuffer())], [2, 3, 4], 'a subarray body is its own bytes');
  const utf8 = await fetch(`${url}/utf8`);
  t.equal(await utf8.text(), 'café ☕');
  t.equal(utf8.headers.get('content-length'), String(Buffer.byteLength('café ☕')));
});
