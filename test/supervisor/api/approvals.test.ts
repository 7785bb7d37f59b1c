// The approval queue over real HTTP: the real supervisor in sandbox mode, real tenant threads. Items
// of a known shape are queued through the store as the loops queue them (a dev hook); the failed item
// comes from the real poster against the simulated X.
import { rmSync } from 'node:fs';
import { pino } from 'pino';
import t, { type Test } from 'tap';
import WebSocket from 'ws';
import { startSupervisor, type Supervisor } from '../../../supervisor/app.js';
import { NO_PLAN_CEILINGS } from '../../../supervisor/billing/state.js';
import { loadConfig } from '../../../supervisor/config.js';
import { Browser } from '../../helpers/browser.js';
import { eventually, readyUser, signUp } from '../../helpers/sandbox-user.js';
import { tempDataDir } from '../../helpers/tenants.js';

const TIMEOUT = 20_000;

async function start(t: Test): Promise<{ supervisor: Supervisor; base: string }> {
  const dir = tempDataDir();
  const supervisor = await startSupervisor(loadConfig({ DATA_DIR: dir, PORT: '0', LOG_LEVEL: 'silent', TENANT_THREADS: '2', TUITBOT_DEV_HOOKS: '1' }), pino({ level: 'silent' }));
  t.teardown(async () => {
    await supervisor.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { supervisor, base: `http://127.0.0.1:${supervisor.port}` };
}

async function tenantOf(browser: Browser): Promise<string> {
  return (await browser.json('GET', '/auth/me')).body.user.tenantId;
}

/** A server, a signed-up user and a way to queue items in their tenant as the loops do. */
async function owner(t: Test) {
  const { supervisor, base } = await start(t);
  const ada = await signUp(base, 'ada@example.com');
  const tenant = await tenantOf(ada);
  const enqueue = (item: object) => supervisor.host.request(tenant, 'dev.enqueue-approval', item, TIMEOUT) as Promise<{ id: number }>;
  return { supervisor, base, ada, tenant, enqueue };
}

const reply = (tweetId: string, content: string) => ({ kind: 'reply', content, target: { tweetId, authorId: `9${tweetId}`, authorUsername: `author${tweetId}` }, topic: 'saas pricing', score: 71.5 });

t.test('the list: newest first, filtered by status and kind, paged by cursor; counts by status; bad queries refused', async (t) => {
  const { base, ada, enqueue } = await owner(t);
  const r = await enqueue(reply('111', 'Pricing pages convert better with one clear plan.'));
  const tw = await enqueue({ kind: 'tweet', content: 'Annual plans are a loan from your customers.', topic: 'saas pricing' });
  const th = await enqueue({ kind: 'thread', content: ['How we priced v1 (1/3)', 'We anchored on value (2/3)', 'Then we raised it (3/3)'], topic: 'indie hacking' });
  const tw2 = await enqueue({ kind: 'tweet', content: 'Ship the pricing page before the product.' });

  const all = await ada.json('GET', '/api/approvals');
  t.equal(all.status, 200);
  t.same(all.body.items.map((i: { id: number }) => i.id), [tw2.id, th.id, tw.id, r.id], 'pending items, newest first');
  t.equal(all.body.nextCursor, null);
  t.match(all.body.items[3], {
    id: r.id,
    kind: 'reply',
    status: 'pending',
    content: 'Pricing pages convert better with one clear plan.',
    target: { tweetId: '111', authorUsername: 'author111' },
    topic: 'saas pricing',
    score: 71.5,
    media: [],
    attempts: 0,
    lastError: null,
    createdAt: Number,
    updatedAt: Number,
  });
  const threads = await ada.json('GET', '/api/approvals?kinds=thread');
  t.same(threads.body.items.map((i: { content: unknown }) => i.content), [['How we priced v1 (1/3)', 'We anchored on value (2/3)', 'Then we raised it (3/3)']], 'a thread is its parts');
  t.same((await ada.json('GET', '/api/approvals?kinds=reply,tweet')).body.items.map((i: { id: number }) => i.id), [tw2.id, tw.id, r.id]);

  const first = await ada.json('GET', '/api/approvals?limit=3');
  t.equal(first.body.items.length, 3);
  t.same(first.body.items.map((i: { id: number }) => i.id), [tw2.id, th.id, tw.id]);
  t.equal(first.body.nextCursor, tw.id, 'the cursor is the last id of the page');
  const rest = await ada.json('GET', `/api/approvals?limit=3&before=${first.body.nextCursor}`);
  t.same(rest.body.items.map((i: { id: number }) => i.id), [r.id]);
  t.equal(rest.body.nextCursor, null);

  t.equal((await ada.json('POST', `/api/approvals/${tw.id}/reject`)).status, 200);
  t.same((await ada.json('GET', '/api/approvals?statuses=rejected')).body.items.map((i: { id: number }) => i.id), [tw.id]);
  t.same((await ada.json('GET', '/api/approvals?statuses=pending,rejected')).body.items.length, 4);
  t.match((await ada.json('GET', '/api/approvals/stats')).body, { pending: 3, rejected: 1, approved: 0, posted: 0, failed: 0, expired: 0, posting: 0 });

  for (const [q, field] of [
    ['statuses=maybe', 'statuses.0'],
    ['kinds=reply,poll', 'kinds.1'],
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['before=abc', 'before'],
    ['sort=oldest', 'sort'],
  ] as const) {
    const bad = await ada.json('GET', `/api/approvals?${q}`);
    t.equal(bad.status, 422, `?${q} is refused`);
    t.ok(bad.body.error.fields?.[field], `?${q}: ${JSON.stringify(bad.body.error.fields)} names ${field}`);
  }
  t.equal((await new Browser(base).json('GET', '/api/approvals')).status, 401, 'logged out: 401');
});

t.test('edit, approve, reject and approve-all: X weighting, states, 404s, and one event each', async (t) => {
  const { base, ada, enqueue } = await owner(t);
  const a = await enqueue(reply('201', 'First draft of a reply.'));
  const b = await enqueue(reply('202', 'Another reply.'));
  const c = await enqueue({ kind: 'thread', content: ['one (1/2)', 'two (2/2)'] });
  const d = await enqueue({ kind: 'tweet', content: 'A tweet.' });
  const e = await enqueue({ kind: 'tweet', content: 'Another tweet.' });

  const events: { kind: string; data: { ids?: number[]; status?: string } }[] = [];
  const cookie = [...ada.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/ws`, { headers: { cookie, origin: base } });
  t.teardown(() => ws.close());
  ws.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as { type: string; event?: (typeof events)[number] };
    if (message.type === 'event' && message.event) events.push(message.event);
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const updated = (id: number, status: string) => eventually(async () => events.find((ev) => ev.kind === 'runtime.approval_updated' && ev.data.ids?.includes(id) && ev.data.status === status), TIMEOUT, 50);

  // Edit: trimmed, weighted as X weighs it (a URL counts 23 however long it is).
  const url = `https://example.com/${'p'.repeat(120)}`;
  const long = `${'w'.repeat(250)} ${url}`;
  t.ok(long.length > 280, 'more than 280 characters as typed');
  const edited = await ada.json('PATCH', `/api/approvals/${a.id}`, { content: `  ${long}  ` });
  t.equal(edited.status, 200, JSON.stringify(edited.body));
  t.equal(edited.body.content, long);
  t.equal(edited.body.status, 'pending');
  await updated(a.id, 'pending');
  t.pass('an edit emits ApprovalUpdated (the reference emitted nothing)');
  const tooLong = await ada.json('PATCH', `/api/approvals/${a.id}`, { content: 'x'.repeat(281) });
  t.equal(tooLong.status, 422);
  t.match(tooLong.body.error.fields, { content: /281 weighted characters/ });
  const emoji = await ada.json('PATCH', `/api/approvals/${a.id}`, { content: '🙂'.repeat(141) });
  t.equal(emoji.status, 422, 'an emoji weighs 2');
  t.equal((await ada.json('PATCH', `/api/approvals/${a.id}`, { content: '   ' })).status, 422, 'empty text is refused');
  t.equal((await ada.json('PATCH', `/api/approvals/${c.id}`, { content: 'a thread is parts' })).status, 422, 'a thread needs its parts');
  t.equal((await ada.json('PATCH', `/api/approvals/${c.id}`, { content: ['new one (1/2)', 'new two (2/2)'] })).status, 200);
  t.equal((await ada.json('PATCH', `/api/approvals/${d.id}`, { content: ['a', 'b'] })).status, 422, 'a tweet is one text');

  const missing = await ada.json('PATCH', '/api/approvals/9999', { content: 'hello' });
  t.equal(missing.status, 404);
  t.equal(missing.body.error.code, 'not_found');
  for (const path of ['/api/approvals/9999/approve', '/api/approvals/9999/reject', '/api/approvals/9999/retry', '/api/approvals/abc/approve', '/api/approvals/0/reject', '/api/approvals/-1/retry']) {
    const answer = await ada.json('POST', path);
    t.equal(answer.status, 404, `${path}: 404`);
    t.equal(answer.body.error.code, 'not_found');
  }

  // Approve, with the last edit in the same step.
  const approved = await ada.json('POST', `/api/approvals/${b.id}/approve`, { content: 'Edited while approving.' });
  t.equal(approved.status, 200, JSON.stringify(approved.body));
  t.match(approved.body, { status: 'approved', content: 'Edited while approving.', reviewedAt: Number });
  await updated(b.id, 'approved');
  const again = await ada.json('POST', `/api/approvals/${b.id}/approve`);
  t.equal(again.status, 409);
  t.equal(again.body.error.code, 'invalid_state');
  t.equal((await ada.json('POST', `/api/approvals/${b.id}/retry`)).status, 409, 'only a failed item is retried');
  t.equal((await ada.json('POST', `/api/approvals/${d.id}/approve`, { content: 'x'.repeat(300) })).status, 422, 'an approval with text X refuses is refused whole');
  t.equal((await ada.json('GET', '/api/approvals?statuses=pending')).body.items.some((i: { id: number }) => i.id === d.id), true, 'and the item stays pending');

  const rejected = await ada.json('POST', `/api/approvals/${d.id}/reject`);
  t.equal(rejected.body.status, 'rejected');
  await updated(d.id, 'rejected');
  t.equal((await ada.json('POST', `/api/approvals/${d.id}/reject`)).status, 409);
  t.equal((await ada.json('PATCH', `/api/approvals/${d.id}`, { content: 'too late' })).status, 409, 'a rejected item is settled');

  const before = events.length;
  const all = await ada.json('POST', '/api/approvals/approve-all');
  t.equal(all.status, 200);
  t.same(all.body, { count: 3, ids: [a.id, c.id, e.id] }, 'every pending item, and only those');
  await updated(e.id, 'approved');
  t.equal(events.slice(before).filter((ev) => ev.kind === 'runtime.approval_updated').length, 1, 'one event for all of them');
  t.same((await ada.json('POST', '/api/approvals/approve-all')).body, { count: 0, ids: [] });
  t.match((await ada.json('GET', '/api/approvals/stats')).body, { pending: 0, approved: 4, rejected: 1 });
});

t.test('a reply X refuses fails with its error shown; retry approves it again with fresh attempts', async (t) => {
  const { supervisor, base } = await start(t);
  const { browser: ada, tenantId } = await readyUser(base, 'ada@example.com', 'ada_builds');
  t.equal((await ada.json('POST', '/api/runtime/start')).status, 200);
  // The post it answers does not exist at X: X answers 400, which no retry can fix.
  const item = (await supervisor.host.request(tenantId, 'dev.enqueue-approval', reply('1', 'Answering a post that is gone.'), TIMEOUT)) as { id: number };
  t.equal((await ada.json('POST', `/api/approvals/${item.id}/approve`)).status, 200);
  const failed = await eventually(async () => {
    const { body } = await ada.json('GET', '/api/approvals?statuses=failed');
    return body.items.find((i: { id: number }) => i.id === item.id) as { attempts: number; lastError: string } | undefined;
  }, TIMEOUT);
  t.match(failed, { status: 'failed', attempts: 1, lastError: /could not be found|400/ });
  t.match((await ada.json('GET', '/api/approvals/stats')).body, { failed: 1 });
  t.equal((await ada.json('POST', `/api/approvals/${item.id}/approve`)).status, 409, 'a failed item is retried, not approved');

  const retried = await ada.json('POST', `/api/approvals/${item.id}/retry`);
  t.equal(retried.status, 200, JSON.stringify(retried.body));
  t.match(retried.body, { status: 'approved', attempts: 0 });
  // X still refuses it: it fails again, and the user rejects it.
  await eventually(async () => ((await ada.json('GET', '/api/approvals?statuses=failed')).body.items.length === 1 ? true : undefined), TIMEOUT);
  t.equal((await ada.json('POST', `/api/approvals/${item.id}/reject`)).body.status, 'rejected', 'a failed item can be rejected');
});

t.test('after the subscription ended the queue is read-only: decisions answer 409 read_only, reading still works', async (t) => {
  const { supervisor, ada, tenant, enqueue } = await owner(t);
  const item = await enqueue({ kind: 'tweet', content: 'Kept, not posted.' });
  supervisor.host.setCeilings(tenant, { ...NO_PLAN_CEILINGS, plan: 'growth', readOnly: true });
  await eventually(async () => ((await ada.json('GET', '/api/settings')).body.readOnly ? true : undefined), TIMEOUT);
  for (const [method, path, body] of [
    ['PATCH', `/api/approvals/${item.id}`, { content: 'changed' }],
    ['POST', `/api/approvals/${item.id}/approve`, undefined],
    ['POST', `/api/approvals/${item.id}/reject`, undefined],
    ['POST', `/api/approvals/${item.id}/retry`, undefined],
    ['POST', '/api/approvals/approve-all', undefined],
  ] as const) {
    const answer = await ada.json(method, path, body);
    t.equal(answer.status, 409, `${method} ${path}: 409`);
    t.equal(answer.body.error.code, 'read_only');
  }
  const list = await ada.json('GET', '/api/approvals');
  t.match(list.body.items, [{ id: item.id, status: 'pending', content: 'Kept, not posted.' }], 'the item is unchanged and readable');
});
