// The real server's live snapshot: what a dashboard has before any event — the job runner, the
// automation's status, the pending approvals with their counts, today's usage, X and billing.
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import t from 'tap';
import WebSocket from 'ws';
import { startSupervisor } from '../../../supervisor/app.js';
import { loadConfig } from '../../../supervisor/config.js';
import { signUp } from '../../helpers/sandbox-user.js';
import { tempDataDir } from '../../helpers/tenants.js';

t.test('the snapshot carries runtime status, pending approvals and usage, from the caller’s own tenant', async (t) => {
  const dir = tempDataDir();
  const supervisor = await startSupervisor(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', TENANT_THREADS: '2' }), pino({ level: 'silent' }));
  t.teardown(async () => {
    await supervisor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${supervisor.port}`;
  const ada = await signUp(base, 'ada@example.com');
  const composed = await ada.json('POST', '/api/content/compose', { kind: 'tweet', content: 'Anchor your pricing on the value, not your costs.' });
  t.equal(composed.status, 201, 'approval mode (the default) queues the composed tweet');

  const snapshotOf = async (cookies: Map<string, string>) => {
    const cookie = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, { headers: { cookie, origin: base } });
    t.teardown(() => ws.terminate());
    return new Promise<any>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data))));
      ws.once('error', reject);
    });
  };
  const snapshot = await snapshotOf(ada.cookies);
  t.match(snapshot, {
    type: 'snapshot',
    runtime: { jobs: Array, nextAlarmAt: null },
    automation: { state: 'stopped', running: false, x: { connected: false } },
    approvals: { counts: { pending: 1 }, pending: { items: [{ kind: 'tweet', status: 'pending', content: 'Anchor your pricing on the value, not your costs.' }] } },
    usage: { replies: { used: 0 }, tweets: { used: 0 }, threads: { used: 0 } },
    x: { connected: false },
    billing: { status: String },
  });
  const other = await snapshotOf((await signUp(base, 'cleo@example.com')).cookies);
  t.match(other.approvals, { counts: { pending: 0 }, pending: { items: [] } }, 'another user sees only their own queue');
});
