// Target accounts over real HTTP. The history (their posts, our replies) is made by the runtime's
// targets loop against the sandbox X; adding is checked against the test server's own sandbox X once
// the user has connected it (the sandbox world is deterministic: same accounts, same ids).
import t from 'tap';
import { NO_PLAN_CEILINGS } from '../../../supervisor/billing/state.js';
import { addTargetRoutes } from '../../../supervisor/routes/targets.js';
import { installTenantDb, seedThroughRuntime } from '../../helpers/seeded-tenant.js';
import { USERNAME } from '../../helpers/runtime.js';
import { startXServer } from '../../helpers/x-server.js';

interface Target {
  username: string;
  xUserId: string | null;
  status: string;
  repliesSent: number;
  interactionsToday: number;
}

t.test('targets: add (checked against X when connected), list, timeline with our replies, stats, ceiling, read-only, remove', async (t) => {
  const h = await seedThroughRuntime(t, {
    // Every loop for three hours yesterday and the last two hours (today's interactions).
    days: 2,
    active: [
      [0, 10, 13],
      [1, Math.max(0, new Date().getUTCHours() - 2), 24],
    ],
    targets: ['AdaBuilds0', 'nobody_here_x'],
    settings: { 'limits.max_replies_per_author_per_day': 3, 'limits.max_target_replies_per_day': 10, 'limits.max_replies_per_day': 30, 'intervals.targets_seconds': 300 },
  });
  const ada = h.x.world.userByName('AdaBuilds0')!;
  const own = h.ownPosts();
  const toAda = own.filter((post) => post.inReplyTo !== null && h.x.world.post(post.inReplyTo)?.authorId === ada.id);
  t.ok(toAda.length >= 1, `the targets loop answered @AdaBuilds0 ${toAda.length} times`);

  const server = await startXServer({ register: (router, deps) => addTargetRoutes(router, { auth: deps.auth, host: deps.host, requestTimeoutMs: 20_000 }) });
  t.teardown(() => server.close());
  const user = await server.signup('ada@example.com');
  const tenantId = (server.db.prepare("SELECT tenant_id FROM users WHERE email = 'ada@example.com'").get() as { tenant_id: string }).tenant_id;
  t.same((await user.json('GET', '/api/targets')).body.items, []);
  await installTenantDb(server.host, server.registry, tenantId, h);

  // ── what the loop resolved and did ──
  const list = async () => (await user.json('GET', '/api/targets')).body.items as Target[];
  const seeded = await list();
  t.match(seeded, [
    { username: 'AdaBuilds0', xUserId: ada.id, status: 'active', repliesSent: toAda.length, interactionsToday: toAda.filter((post) => post.createdAt >= h.dayStart(1)).length },
    { username: 'nobody_here_x', xUserId: null, status: 'not_found', repliesSent: 0 },
  ]);

  const timeline = (await user.json('GET', '/api/targets/adabuilds0/timeline?limit=200')).body;
  t.ok(timeline.items.length >= toAda.length, `${timeline.items.length} of their posts stored`);
  for (const item of timeline.items) t.equal(h.x.world.post(item.tweetId)?.authorId, ada.id, `post ${item.tweetId} is theirs at X`);
  const answered = timeline.items.filter((item: { reply: unknown }) => item.reply !== null);
  t.same(
    answered.map((item: { tweetId: string; reply: { tweetId: string } }) => [item.tweetId, item.reply.tweetId]).sort(),
    toAda.map((post) => [post.inReplyTo, post.id]).sort(),
    'each of our replies next to the post it answers, as X has them',
  );
  const firstPage = (await user.json('GET', '/api/targets/AdaBuilds0/timeline?limit=1')).body;
  t.equal(firstPage.items[0].tweetId, timeline.items[0].tweetId);
  if (timeline.items.length > 1) t.equal((await user.json('GET', `/api/targets/AdaBuilds0/timeline?limit=1&before=${firstPage.nextCursor}`)).body.items[0].tweetId, timeline.items[1].tweetId);

  const stats = (await user.json('GET', '/api/targets/AdaBuilds0/stats')).body;
  const times = toAda.map((post) => post.createdAt).sort((a, b) => a - b);
  t.match(stats, { username: 'AdaBuilds0', totalReplies: toAda.length, postsSeen: timeline.items.length });
  t.ok(Math.abs(stats.firstInteractionAt - times[0]!) < 60_000, 'first interaction: our first reply at X');
  if (toAda.length >= 2) t.ok(Math.abs(stats.interactionFrequencyDays - (times.at(-1)! - times[0]!) / (toAda.length - 1) / 86_400_000) < 0.01, 'mean gap between replies');
  else t.equal(stats.interactionFrequencyDays, null, 'one interaction has no frequency');
  for (const path of ['/api/targets/BenCodes1/stats', '/api/targets/BenCodes1/timeline']) t.equal((await user.json('GET', path)).status, 404, `${path}: not a target`);

  // ── adding: validated against X once it is connected ──
  t.match((await user.json('POST', '/api/targets', { username: '@BenCodes1' })).body, { target: { username: 'BenCodes1', status: 'unresolved', xUserId: null }, validated: false }, 'X not connected: stored for the loop to resolve');
  t.equal(await server.callback(user, await server.x.approve(await server.connect(user), { username: USERNAME })), `${server.base}/dashboard/x?connected=${USERNAME}`);
  const chloe = [...server.x.world.users.values()].find((account) => account.username.startsWith('Chloe'))!;
  const added = await user.json('POST', '/api/targets', { username: `@${chloe.username.toLowerCase()}` });
  t.equal(added.status, 201);
  const toChloe = own.filter((post) => post.inReplyTo !== null && h.x.world.post(post.inReplyTo)?.authorId === chloe.id).length;
  t.match(added.body, { target: { username: chloe.username, xUserId: chloe.id, status: 'active' }, validated: true }, "stored with X's id and spelling");
  t.equal(added.body.target.repliesSent, toChloe, 'our earlier replies to the account count (discovery found them)');
  t.ok(server.x.requests.some((request) => request.path === `/2/users/by/username/${chloe.username.toLowerCase()}`), 'X was asked');

  const unknown = await user.json('POST', '/api/targets', { username: 'nosuch_user_zz9' });
  t.equal(unknown.status, 422);
  t.match(unknown.body.error, { code: 'invalid_params', fields: { username: /no such account on X/ } });
  t.equal((await list()).length, 4, 'an unknown account is not stored');
  t.match((await user.json('POST', '/api/targets', { username: 'adabuilds0' })).body.error, { code: 'already_exists' });
  t.equal((await user.json('POST', '/api/targets', { username: chloe.username.toUpperCase() })).status, 409, 'names compare without case');
  t.match((await user.json('POST', '/api/targets', { username: 'bad name!' })).body.error, { code: 'invalid_params', fields: { username: /X username/ } });
  t.match((await user.json('POST', '/api/targets', { username: 'x'.repeat(16) })).body.error.fields, { username: /1–15/ });
  t.equal((await user.json('POST', '/api/targets', {})).status, 422);

  // ── the plan's ceiling, checked before X is asked ──
  server.host.setCeilings(tenantId, { ...NO_PLAN_CEILINGS, targets: 4 });
  const lookups = server.x.requests.length;
  const full = await user.json('POST', '/api/targets', { username: 'DevShips3' });
  t.equal(full.status, 409);
  t.match(full.body.error, { code: 'limit_reached', message: /allows 4 target accounts/, fields: { username: /at most 4/ } });
  t.equal(server.x.requests.length, lookups, 'no read spent on a refusal');

  // ── read-only after the subscription ended ──
  server.host.setCeilings(tenantId, { ...NO_PLAN_CEILINGS, targets: null, readOnly: true });
  t.match((await user.json('POST', '/api/targets', { username: 'DevShips3' })).body.error, { code: 'read_only' });
  t.equal((await user.json('DELETE', '/api/targets/nobody_here_x')).status, 409);
  t.equal((await list()).length, 4, 'reads still work, nothing changed');
  server.host.setCeilings(tenantId, null);

  // ── removing ──
  t.same((await user.json('DELETE', '/api/targets/NOBODY_HERE_X')).body, { removed: 'nobody_here_x' });
  t.same((await list()).map((target) => target.username), ['AdaBuilds0', 'BenCodes1', chloe.username]);
  t.equal((await user.json('DELETE', '/api/targets/nobody_here_x')).status, 404);
  t.equal((await user.json('GET', '/api/targets/AdaBuilds0/timeline')).body.items.length, Math.min(50, timeline.items.length), 'their history stays');

  // ── another user's list is their own ──
  const bob = await server.signup('bob@example.com');
  t.same((await bob.json('GET', '/api/targets')).body.items, []);
  t.equal((await bob.json('GET', '/api/targets/AdaBuilds0/stats')).status, 404);
  t.equal((await bob.json('DELETE', '/api/targets/AdaBuilds0')).status, 404);
  t.equal((await list()).length, 3, "Bob's delete changed nothing of Ada's");
});
