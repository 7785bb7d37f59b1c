import t from 'tap';
import WebSocket from 'ws';
import { addLiveSocket, LIVE_PATH, type LiveSocket } from '../../../supervisor/live/socket.js';
import { startAuthServer, type AuthServer } from '../../helpers/auth-server.js';
import { Browser } from '../../helpers/browser.js';
import { until } from '../../helpers/tenants.js';

interface Live extends AuthServer {
  live: LiveSocket;
  signup(email: string): Promise<Browser>;
  open(browser: Browser, headers?: Record<string, string>): Promise<{ ws: WebSocket; messages: any[]; closed: Promise<number> }>;
}

async function startLive(options: { heartbeatMs?: number; maxBackpressureBytes?: number } = {}): Promise<Live> {
  let live!: LiveSocket;
  const server = await startAuthServer({
    // Two dashboards of two tenants stay attached at once: one thread each.
    tenants: { threads: 2 },
    attach(app, deps) {
      live = addLiveSocket(app, {
        auth: deps.auth,
        host: deps.host,
        log: deps.log,
        heartbeatMs: options.heartbeatMs ?? 60_000,
        ...(options.maxBackpressureBytes !== undefined && { maxBackpressureBytes: options.maxBackpressureBytes }),
        snapshot: async (user) => ({ runtime: await deps.host.request(user.tenant_id, 'status', {}, 20_000) }),
      });
    },
  });
  return {
    ...server,
    live,
    async signup(email) {
      const browser = new Browser(server.base);
      const response = await browser.json('POST', '/auth/signup', { email, password: 'correct horse battery staple' });
      if (response.status !== 201) throw new Error('signup failed');
      return browser;
    },
    open(browser, headers = {}) {
      const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const ws = new WebSocket(`${server.base.replace('http', 'ws')}${LIVE_PATH}`, { headers: { cookie, origin: server.base, ...headers } });
      const messages: any[] = [];
      ws.on('message', (data) => messages.push(JSON.parse(String(data))));
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      return new Promise((resolve, reject) => {
        ws.once('open', () => resolve({ ws, messages, closed }));
        ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`handshake answered ${res.statusCode}`), { status: res.statusCode })));
        ws.once('error', reject);
      });
    },
    async close() {
      live.close();
      await server.close();
    },
  };
}

const tenantOf = (server: AuthServer, email: string) => (server.db.prepare('SELECT tenant_id FROM users WHERE email = ?').get(email) as { tenant_id: string }).tenant_id;

t.test('the handshake needs a session and our own origin', async (t) => {
  const server = await startLive();
  t.teardown(() => server.close());
  const anonymous = new Browser(server.base);
  const refusedWith = (opening: Promise<unknown>) => opening.then(() => 101, (error: { status?: number }) => error.status);
  t.equal(await refusedWith(server.open(anonymous)), 401);
  const ada = await server.signup('ada@example.com');
  t.equal(await refusedWith(server.open(ada, { origin: 'https://evil.example' })), 403, 'a cross-site page cannot ride the cookie');
  const { ws } = await server.open(ada);
  ws.close();
});

t.test('a connection gets a snapshot, then its own tenant’s events only, and pongs', async (t) => {
  const server = await startLive();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const bob = await server.signup('bob@example.com');
  const a = await server.open(ada);
  const b = await server.open(bob);
  await until(() => a.messages.length > 0 && b.messages.length > 0, 20_000);
  t.match(a.messages[0], { type: 'snapshot', runtime: { tenantId: tenantOf(server, 'ada@example.com') } });

  // A real event from Ada's tenant thread (an X connection event would do the same).
  const adaTenant = tenantOf(server, 'ada@example.com');
  server.host.emit('event', adaTenant, { kind: 'runtime.status', at: Date.now(), data: { running: true } });
  await until(() => a.messages.some((m) => m.type === 'event'));
  t.match(a.messages.find((m) => m.type === 'event'), { event: { kind: 'runtime.status', data: { running: true } } });
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.notOk(b.messages.some((m) => m.type === 'event'), "Bob never sees Ada's events");

  a.ws.send(JSON.stringify({ type: 'ping' }));
  await until(() => a.messages.some((m) => m.type === 'pong'));
  a.ws.close();
  b.ws.close();
});

t.test('an open dashboard keeps its tenant active; after the last one closes it hibernates', async (t) => {
  const server = await startLive();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const tenantId = tenantOf(server, 'ada@example.com');
  const first = await server.open(ada);
  const second = await server.open(ada);
  // A fresh thread loads the tenant code first: generous on a busy machine.
  await until(() => server.host.state(tenantId) === 'active', 20_000);
  await new Promise((resolve) => setTimeout(resolve, 600)); // three idle timeouts of the test host
  t.equal(server.host.state(tenantId), 'active', 'attached: not hibernated while idle');
  first.ws.close();
  await first.closed;
  await new Promise((resolve) => setTimeout(resolve, 400));
  t.equal(server.host.state(tenantId), 'active', 'one dashboard still open');
  second.ws.close();
  await second.closed;
  await until(() => server.host.state(tenantId) === 'hibernated', 10_000);
});

t.test('heartbeats arrive, and a connection whose session ended is closed', async (t) => {
  const server = await startLive({ heartbeatMs: 100 });
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const { messages, closed } = await server.open(ada);
  await until(() => messages.some((m) => m.type === 'heartbeat'));
  t.equal((await ada.json('POST', '/auth/logout')).status, 204);
  t.equal(await closed, 4001, 'logged out: the live connection ends');
});

t.test('a client that does not read is dropped instead of growing server memory', async (t) => {
  const server = await startLive({ maxBackpressureBytes: 64 * 1024 });
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const tenantId = tenantOf(server, 'ada@example.com');
  const { ws, closed } = await server.open(ada);
  // Stop reading: the kernel buffers fill, then uWS's per-socket buffer.
  (ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const big = 'x'.repeat(16 * 1024);
  for (let i = 0; i < 2_000 && server.live.connections() > 0; i++) {
    server.host.emit('event', tenantId, { kind: 'runtime.flood', at: Date.now(), data: { big } });
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await until(() => server.live.connections() === 0, 5_000);
  (ws as unknown as { _socket: { resume(): void } })._socket.resume();
  t.ok((await closed) > 0, 'the slow client was disconnected');
});

t.test('dashboards never pin every thread: an idle attached tenant yields to one that is waiting', async (t) => {
  const server = await startLive();
  t.teardown(() => server.close());
  const ada = await server.signup('ada@example.com');
  const bob = await server.signup('bob@example.com');
  const carol = await server.signup('carol@example.com');
  // Two threads, two dashboards holding them.
  const a = await server.open(ada);
  const b = await server.open(bob);
  await until(() => a.messages.length > 0 && b.messages.length > 0, 20_000);
  const answer = await server.host.request(tenantOf(server, 'carol@example.com'), 'ping', {}, 10_000);
  t.match(answer, { tenantId: tenantOf(server, 'carol@example.com') }, "Carol's request was served");
  t.equal(server.live.connections(), 2, 'the dashboards stay connected');
  void carol;
  a.ws.close();
  b.ws.close();
});
