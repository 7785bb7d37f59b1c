import net from 'node:net';
import t from 'tap';
import { json } from '../../../supervisor/http/reply.js';
import { sleep, startServer } from './fixtures/harness.js';

const connect = (port: number) =>
  new Promise<'connected' | string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });

t.test('stopListening lets in-flight requests finish, refuses new connections, and drain() resolves', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const { server, url, port } = await startServer(t, (r) => {
    r.add('GET', '/work', async () => {
      await released;
      return json(200, { finished: true });
    });
  });

  const inflight = fetch(`${url}/work`);
  while (server.inflight() === 0) await sleep(5);
  t.equal(server.inflight(), 1);

  server.stopListening();
  t.equal(await connect(port), 'ECONNREFUSED', 'new connections are refused');
  const drained = server.drain(2_000);
  t.equal(await server.drain(20), false, 'drain reports false when time runs out');

  release();
  const res = await inflight;
  t.equal(res.status, 200);
  t.same(await res.json(), { finished: true });
  t.equal(res.headers.get('connection'), 'close', 'keep-alive clients are told to go away while stopping');
  t.equal(await drained, true);
  t.equal(server.inflight(), 0);
  t.equal(await server.drain(10), true, 'drain with nothing in flight resolves at once');
});
