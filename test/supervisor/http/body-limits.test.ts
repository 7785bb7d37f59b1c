import t, { type Test } from 'tap';
import { json } from '../../../supervisor/http/reply.js';
import { eventually, parseResponse, rawExchange, sleep, startServer } from './fixtures/harness.js';

const head = (path: string, extra: string) => `POST ${path} HTTP/1.1\r\nHost: test\r\n${extra}\r\n`;
const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;

t.test('request bodies are bounded in size and time', async (t) => {
  let handlerRuns = 0;
  const slowDone: string[] = [];
  const ctx = await startServer(
    t,
    (r) => {
      r.add('POST', '/upload', async (c) => {
        handlerRuns += 1;
        return json(200, { bytes: (await c.body()).length });
      });
      r.add('GET', '/slow', async (c) => {
        await sleep(200);
        slowDone.push(c.requestId);
        return json(200, { late: true });
      });
      r.add('GET', '/ping', () => json(200, { pong: true }));
    },
    { maxBodyBytes: 1024, bodyTimeoutMs: 300 },
  );
  const { url, port, lines, responses } = ctx;
  const alive = async (t: Test) => t.same(await (await fetch(`${url}/ping`)).json(), { pong: true }, 'next request works');

  t.test('a body within the limit is read whole', async (t) => {
    const res = await fetch(`${url}/upload`, { method: 'POST', body: 'x'.repeat(1024) });
    t.same(await res.json(), { bytes: 1024 });
  });

  t.test('a declared Content-Length over the limit is 413 without reading or running the handler', async (t) => {
    const before = handlerRuns;
    const { data, closedByServer } = await rawExchange(port, { chunks: [head('/upload', 'Content-Length: 5000000\r\n')] });
    const res = parseResponse(data);
    t.equal(res.status, 413);
    t.match(JSON.parse(res.body), { error: { code: 'payload_too_large' } });
    t.ok(closedByServer, 'connection closed after the 413');
    t.equal(handlerRuns, before, 'handler never ran');
    await alive(t);
  });

  t.test('a chunked body that grows past the limit is 413 and the connection is closed', async (t) => {
    const piece = chunk('y'.repeat(400));
    const { data, closedByServer } = await rawExchange(port, {
      chunks: [head('/upload', 'Transfer-Encoding: chunked\r\n'), piece, piece, piece, piece, piece, '0\r\n\r\n'],
      gapMs: 20,
    });
    const res = parseResponse(data);
    t.equal(res.status, 413);
    t.match(JSON.parse(res.body), { error: { code: 'payload_too_large' } });
    t.ok(closedByServer);
    await alive(t);
  });

  t.test('a streamed fetch body over the limit gets 413', async (t) => {
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await sleep(5);
        controller.enqueue(new Uint8Array(512));
      },
    });
    try {
      const res = await fetch(`${url}/upload`, { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
      t.equal(res.status, 413);
    } catch (err) {
      // undici may see the reset of the closed connection before it reads the 413; the raw test proves the 413.
      t.pass(`client saw the connection close: ${(err as Error).message}`);
    }
    await alive(t);
  });

  t.test('a slowloris body (a byte every 100 ms) is 408 request_timeout', async (t) => {
    const bytes = Array.from({ length: 20 }, () => 'z');
    const { data } = await rawExchange(port, { chunks: [head('/upload', 'Content-Length: 20\r\n'), ...bytes], gapMs: 100 });
    const res = parseResponse(data);
    t.equal(res.status, 408);
    t.match(JSON.parse(res.body), { error: { code: 'request_timeout' } });
    await alive(t);
  });

  t.test('a client that aborts mid-body does not crash the server and is logged as aborted', async (t) => {
    const responsesBefore = responses.length;
    await rawExchange(port, {
      chunks: [head('/upload', 'Content-Length: 800\r\n'), 'a'.repeat(400)],
      destroyAfterLast: true,
    });
    t.ok(await eventually(() => lines.some((l) => l['aborted'] === true && l['route'] === '/upload')), 'access log shows aborted');
    const aborted = lines.find((l) => l['aborted'] === true && l['route'] === '/upload')!;
    t.equal(aborted['status'], 499);
    t.type(aborted.reqId, 'string');
    t.ok(responses.slice(responsesBefore).some((r) => r.status === 499 && r.route === '/upload'), 'onResponse got 499');
    await alive(t);
  });

  t.test('a handler still awaiting something slow when the client aborts never writes to the dead response', async (t) => {
    const doneBefore = slowDone.length;
    await rawExchange(port, { chunks: ['GET /slow HTTP/1.1\r\nHost: test\r\n\r\n'], destroyAfterLast: true });
    t.ok(await eventually(() => slowDone.length > doneBefore), 'handler finished after the abort');
    await sleep(20);
    t.ok(lines.some((l) => l['aborted'] === true && l['route'] === '/slow'), 'logged as aborted');
    t.notOk(lines.some((l) => l.msg === 'writing the response failed'), 'no write was attempted');
    t.equal(ctx.server.inflight(), 0);
    await alive(t);
  });
});
