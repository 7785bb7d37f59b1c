// Tenant isolation on every documented route: user A leaves a marker wherever the API lets a user
// write (settings, LLM settings, own X app); then every GET of the API document is called as user
// B, and nothing of A's may appear. Routes with ids in their path are walked with A's ids as B.
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import t from 'tap';
import { startSupervisor } from '../../../supervisor/app.js';
import { NO_PLAN_CEILINGS } from '../../../supervisor/billing/state.js';
import { loadConfig } from '../../../supervisor/config.js';
import { Browser } from '../../helpers/browser.js';
import { fixtures } from '../../helpers/media-files.js';
import { tempDataDir } from '../../helpers/tenants.js';

const MARKER = 'alphamarker7731';

t.test("no route shows or changes one tenant's data to another", async (t) => {
  const dir = tempDataDir();
  const supervisor = await startSupervisor(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', TENANT_THREADS: '2', TUITBOT_DEV_HOOKS: '1' }), pino({ level: 'silent' }));
  t.teardown(async () => {
    await supervisor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const base = `http://127.0.0.1:${supervisor.port}`;
  const a = new Browser(base);
  const b = new Browser(base);
  await a.json('POST', '/auth/signup', { email: `${MARKER}@example.com`, password: 'correct horse battery staple' });
  await b.json('POST', '/auth/signup', { email: 'bob@example.com', password: 'correct horse battery staple' });

  t.equal((await a.json('PATCH', '/api/settings', { 'business.product_name': MARKER, 'business.product_keywords': [MARKER] })).status, 200);
  t.equal((await a.json('PUT', '/api/settings/llm', { provider: 'openai-compatible', baseUrl: `http://${MARKER}.example.com/v1`, model: MARKER })).status, 200);
  t.equal((await a.json('PUT', '/api/x/app', { clientId: MARKER, clientSecret: MARKER })).status, 200);

  // ── A's objects: every route module that stores something adds a line here (content, targets, …). ──
  // A's media (an image whose bytes carry the marker); the id walk below names it as B.
  const aCookie = [...a.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const aMedia = (await (await fetch(`${base}/api/media`, { method: 'POST', headers: { 'content-type': 'image/png', cookie: aCookie, origin: base }, body: new Uint8Array(Buffer.concat([fixtures.png(), Buffer.from(MARKER)])) })).json()) as { id: string; url: string };
  // Target accounts are a plan ceiling (none without a plan): A's plan allows them.
  supervisor.host.setCeilings((await a.json('GET', '/auth/me')).body.user.tenantId, { ...NO_PLAN_CEILINGS, targets: null });
  t.equal((await a.json('POST', '/api/targets', { username: MARKER })).status, 201);
  // (Nothing yet beyond the settings above.)
  // An approval item queued as the runtime's loops queue them (dev hook), marked in its text and target.
  await supervisor.host.request((await a.json('GET', '/auth/me')).body.user.tenantId, 'dev.enqueue-approval', { kind: 'reply', content: `A's reply ${MARKER}`, target: { tweetId: '1', authorId: '1', authorUsername: MARKER } }, 20_000);
  t.equal((await a.json('POST', '/api/content/drafts', { kind: 'tweet', content: `A's draft ${MARKER}` })).status, 201);
  const aScheduled = await a.json('POST', '/api/content/drafts', { kind: 'tweet', content: `A's scheduled tweet ${MARKER}` });
  t.match(await a.json('POST', `/api/content/drafts/${aScheduled.body.id}/schedule`, { scheduledFor: Date.now() + 86_400_000 }), { status: 200, body: { status: 'scheduled' } });

  const doc = (await (await fetch(`${base}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
  const gets = Object.entries(doc.paths).filter(([path, ops]) => path.startsWith('/api/') && ops['get']?.security?.length && !path.includes('{'));
  t.ok(gets.length >= 8, `${gets.length} GET routes walked`);
  const markersSeenBy = async (user: Browser) => {
    let count = 0;
    for (const [path] of gets) count += (await (await user.request('GET', path)).text()).toLowerCase().split(MARKER).length - 1;
    return count;
  };
  const aBefore = await markersSeenBy(a);
  for (const [path] of gets) {
    const response = await b.request('GET', path);
    const text = await response.text();
    t.ok(response.status < 500, `GET ${path} as B: ${response.status}`);
    t.notOk(text.toLowerCase().includes(MARKER), `GET ${path} as B shows nothing of A`);
    t.notOk((response.headers.get('location') ?? '').includes(MARKER), `GET ${path} as B does not send B to A's app`);
  }

  // Routes with ids: B names A's objects. Ids are per tenant (each has its own DB), so A's first
  // objects are 1, 2, …, and usernames are the marker: B must get B's own answer (a 404), never A's
  // object, and must change nothing of A's. Bodies are empty objects (a write that validated would
  // act on B's tenant only).
  const withIds = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/') && path.includes('{'));
  for (const [template, ops] of withIds) {
    for (const value of ['1', '2', '3', MARKER, aMedia.id]) {
      const path = template.replace(/\{[^}]+\}/g, value);
      for (const method of Object.keys(ops).filter((m) => ['get', 'post', 'put', 'patch', 'delete'].includes(m))) {
        const response = await b.request(method.toUpperCase(), path, method === 'get' || method === 'delete' ? undefined : {});
        const text = await response.text();
        t.ok(response.status < 500, `${method.toUpperCase()} ${path} as B: ${response.status}`);
        t.notOk(text.toLowerCase().includes(MARKER), `${method.toUpperCase()} ${path} as B shows nothing of A`);
      }
    }
  }
  t.equal(await markersSeenBy(a), aBefore, "A's marked objects are all still there after B's walk");
  t.ok(Buffer.from(await (await a.request('GET', aMedia.url)).arrayBuffer()).includes(MARKER), "A's media is still A's after B's walk");

  // B's writes change B only.
  await b.json('PATCH', '/api/settings', { 'business.product_name': 'Bob Co' });
  await b.json('DELETE', '/api/settings/llm');
  await b.json('DELETE', '/api/x/app');
  t.equal((await a.json('GET', '/api/settings')).body.values['business.product_name'], MARKER);
  t.match((await a.json('GET', '/api/settings/llm')).body, { model: MARKER });
  t.match((await a.json('GET', '/api/x/app')).body, { own: { clientId: MARKER } });
});
