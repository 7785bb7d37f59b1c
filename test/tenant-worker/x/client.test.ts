// The tenant's X client against the sandbox X over real HTTP and a real tenant DB: every call,
// rate limits, backoff, metering and budget refusal, typed errors, threads and media.
import t from 'tap';
import type { Ceilings } from '../../../protocol/index.js';
import { XApiError, XBudgetRefusedError, XForbiddenError, XNetworkError, XRateLimitedError } from '../../../tenant-worker/x/errors.js';
import { X_PRICES } from '../../../tenant-worker/x-budget.js';
import { harness } from '../../helpers/x-client.js';

const paid = (periodStart: number, overrides: Partial<NonNullable<Ceilings>> = {}): Ceilings => ({
  plan: 'starter',
  repliesPerDay: 5,
  tweetsPerDay: 3,
  threadsPerWeek: 1,
  targets: 3,
  xCostAllowanceCents: 100,
  xPeriodStart: periodStart,
  xReadCentsPerDay: 10,
  xUrlPostsPerDay: 1,
  xOverageCapCents: null,
  automation: true,
  readOnly: false,
  ...overrides,
});

t.test('the read calls', async (t) => {
  const h = await harness(t, { fake: { world: { postsPerMinute: 6 } } });

  t.test('me and userByUsername return users; an unknown username is null', async (t) => {
    const me = await h.client.me();
    t.match(me, { username: 'sandbox_founder', name: String, followers: Number, createdAt: String });
    const other = h.fake.world.posts[0]!.authorId;
    const username = h.fake.world.users.get(other)!.username;
    t.match(await h.client.userByUsername(`@${username}`), { id: other, username });
    t.equal(await h.client.userByUsername('nobody_here_1'), null);
  });

  t.test('searchKeyword builds the query with operators and joins authors; since_id returns only newer posts', async (t) => {
    const page = await h.client.searchKeyword({ keyword: 'typescript', lang: 'en', maxResults: 10 });
    t.match(h.fake.requests.at(-1)!.query, { query: 'typescript -is:retweet lang:en', max_results: '10', expansions: 'author_id' });
    t.ok(page.posts.length > 0);
    for (const post of page.posts) {
      t.match(post.text.toLowerCase(), 'typescript');
      t.notMatch(post.text, /^RT @/);
      t.equal(post.lang, 'en');
      t.match(post.author, { id: post.authorId, username: String, followers: Number });
      t.match(post.metrics, { impressions: Number, likes: Number });
    }
    t.equal(page.newestId, page.posts[0]!.id);
    h.clock.now += 30 * 60_000;
    const newer = await h.client.searchKeyword({ keyword: 'typescript', lang: 'en', sinceId: page.newestId! });
    for (const post of newer.posts) t.ok(BigInt(post.id) > BigInt(page.newestId!), 'newer than since_id');
    t.equal(h.fake.requests.at(-1)!.query['since_id'], page.newestId);
    const phrase = await h.client.searchKeyword({ keyword: 'saas pricing' });
    t.equal(h.fake.requests.at(-1)!.query['query'], '"saas pricing" -is:retweet');
    for (const post of phrase.posts) t.match(post.text.toLowerCase(), 'saas pricing');
  });

  t.test('a query longer than 512 characters is refused without calling X', async (t) => {
    const calls = h.fake.requests.length;
    await t.rejects(h.client.searchRecent('a'.repeat(513)), XApiError);
    t.equal(h.fake.requests.length, calls);
  });

  t.test('mentions with since_id, a user’s posts, and one post with its metrics', async (t) => {
    const me = await h.client.me();
    h.clock.now += 20 * 60_000;
    const mentions = await h.client.mentions(me.id, { maxResults: 100 });
    t.ok(mentions.posts.length > 0, 'the world mentions the connected user');
    for (const post of mentions.posts) t.match(post.text, /@sandbox_founder/i);
    h.clock.now += 30 * 60_000;
    const newer = await h.client.mentions(me.id, { sinceId: mentions.newestId! });
    for (const post of newer.posts) t.ok(BigInt(post.id) > BigInt(mentions.newestId!));

    const author = mentions.posts[0]!.authorId!;
    const theirs = await h.client.userPosts(author, { maxResults: 5 });
    for (const post of theirs.posts) t.equal(post.authorId, author);

    const one = await h.client.post(mentions.posts[0]!.id);
    t.equal(one?.id, mentions.posts[0]!.id);
    const later = (h.clock.now += 60 * 60_000, await h.client.post(one!.id));
    t.ok(later!.metrics!.impressions >= one!.metrics!.impressions, 'metrics grow');
    t.equal(await h.client.post('1'), null, 'a missing post is null');
  });
});

t.test('posting', async (t) => {
  const h = await harness(t);

  t.test('a post, a reply, and a duplicate refused with XForbiddenError', async (t) => {
    const post = await h.client.createPost({ text: 'Shipping the X client today' });
    t.match(post, { id: /^\d+$/, text: 'Shipping the X client today' });
    const reply = await h.client.createPost({ text: 'And the tests', replyTo: post.id });
    t.match(h.fake.requests.at(-1)!.body, { text: 'And the tests', reply: { in_reply_to_tweet_id: post.id } });
    t.equal(h.fake.world.post(reply.id)!.referenced![0]!.id, post.id);
    const error = await h.client.createPost({ text: 'Shipping the X client today' }).catch((e: unknown) => e);
    t.type(error, XForbiddenError);
    t.match(error, { status: 403, detail: /duplicate content/ });
  });

  t.test('over 280 weighted characters is refused locally', async (t) => {
    const calls = h.fake.requests.length;
    await t.rejects(h.client.createPost({ text: '好'.repeat(141) }), XApiError, 'CJK characters weigh 2');
    t.equal(h.fake.requests.length, calls);
  });

  t.test('a thread is a chain of replies', async (t) => {
    const result = await h.client.postThread(['1/ a thread', '2/ about things', '3/ the end']);
    t.equal(result.complete, true);
    t.equal(result.ids.length, 3);
    t.equal(h.fake.world.post(result.ids[1]!)!.referenced![0]!.id, result.ids[0]);
    t.equal(h.fake.world.post(result.ids[2]!)!.referenced![0]!.id, result.ids[1]);
  });

  t.test('a thread whose first post fails reports nothing live, and the POST is not retried', async (t) => {
    const before = h.fake.requests.filter((r) => r.path === '/2/tweets').length;
    const texts = ['A/ partial', 'B/ fails', 'C/ never sent'];
    h.fake.inject({ status: 503, path: /^\/2\/tweets$/, times: 1 });
    const result = await h.client.postThread(texts);
    t.equal(result.complete, false);
    if (!result.complete) {
      t.equal(result.failedAt, 0);
      t.same(result.ids, []);
      t.type(result.error, XApiError);
    }
    const again = await h.client.postThread(texts);
    t.equal(again.complete, true, 'nothing was posted by the failed attempt');
    t.equal(h.fake.requests.filter((r) => r.path === '/2/tweets').length - before, 4, 'one attempt per post, no retries');
  });

  t.test('a failure after the first post reports the live ids', async (t) => {
    const result = await h.client.postThread(['X/ first', 'X/ first']);
    t.equal(result.complete, false);
    if (!result.complete) {
      t.equal(result.failedAt, 1);
      t.equal(result.ids.length, 1);
      t.type(result.error, XForbiddenError, 'the duplicate second post');
    }
  });
});

t.test('rate limits', async (t) => {
  t.test('a spent window is refused locally until its reset, then calls resume', async (t) => {
    const h = await harness(t, { fake: { rateLimit: { perWindow: 2, windowSeconds: 900 } } });
    await h.client.searchRecent('typescript');
    await h.client.searchRecent('typescript');
    t.equal(h.client.rateWindow('GET /2/tweets/search/recent')?.remaining, 0);
    const calls = h.fake.requests.length;
    const error = await h.client.searchRecent('typescript').catch((e: unknown) => e);
    t.type(error, XRateLimitedError);
    t.ok((error as XRateLimitedError).until > h.clock.now);
    t.equal(h.fake.requests.length, calls, 'X was not called');
    t.ok(await h.client.mentions((await h.client.me()).id), 'other endpoints have their own windows');
    h.clock.now = (error as XRateLimitedError).until + 1;
    await h.client.searchRecent('typescript');
    t.equal(h.fake.requests.at(-1)!.status, 200);
  });

  t.test('a 429 with a far reset is thrown with until; with a near one the GET waits and retries', async (t) => {
    const h = await harness(t);
    h.fake.inject({ status: 429, path: /search/, resetInSeconds: 600 });
    const error = await h.client.searchRecent('typescript').catch((e: unknown) => e);
    t.type(error, XRateLimitedError);
    t.equal((error as XRateLimitedError).until, (Math.ceil(h.clock.now / 1000) + 600) * 1000);
    h.clock.now += 601_000;
    h.fake.inject({ status: 429, path: /search/, resetInSeconds: 2 });
    await h.client.searchRecent('typescript');
    t.same(h.fake.requests.slice(-2).map((r) => r.status), [429, 200]);
    t.ok(h.sleeps.at(-1)! >= 2000 - 1000, 'waited for the reset');
  });

  t.test('5xx on a GET is retried with backoff, a bounded number of times', async (t) => {
    const h = await harness(t);
    h.fake.inject({ status: 503, path: /mentions/, times: 2 });
    const me = await h.client.me();
    await h.client.mentions(me.id);
    t.same(h.fake.requests.filter((r) => r.path.endsWith('/mentions')).map((r) => r.status), [503, 503, 200]);
    t.same(h.sleeps, [375, 750], 'exponential with jitter');
    h.fake.inject({ status: 500, path: /mentions/, times: 3 });
    const error = await h.client.mentions(me.id).catch((e: unknown) => e);
    t.type(error, XApiError);
    t.equal((error as XApiError).status, 500);
  });

  t.test('a POST /2/tweets is never retried', async (t) => {
    const h = await harness(t);
    h.fake.inject({ status: 429, path: /^\/2\/tweets$/, resetInSeconds: 1 });
    await t.rejects(h.client.createPost({ text: 'hello' }), XRateLimitedError);
    h.fake.inject({ status: 500, path: /^\/2\/tweets$/ });
    h.clock.now += 2000;
    await t.rejects(h.client.createPost({ text: 'hello' }), XApiError);
    t.equal(h.fake.requests.filter((r) => r.path === '/2/tweets').length, 2);
  });

  t.test('a timeout is XNetworkError, after bounded retries for a GET', async (t) => {
    const h = await harness(t, { fake: { latencyMs: [300, 300] }, client: { timeoutMs: 100, retries: 1 } });
    const error = await h.client.searchRecent('typescript').catch((e: unknown) => e);
    t.type(error, XNetworkError);
    t.match((error as Error).message, /timed out/);
    t.equal(h.sleeps.length, 1);
  });
});

t.test('metering', async (t) => {
  t.test('every billable call lands in the ledger; a post read twice in a UTC day is charged once', async (t) => {
    const h = await harness(t);
    const me = await h.client.me();
    const page = await h.client.searchRecent('typescript', { maxResults: 10 });
    await h.client.post(page.posts[0]!.id);
    await h.client.createPost({ text: 'plain post' });
    await h.client.createPost({ text: 'with a link https://example.com/x' });
    await h.client.me();
    const ledger = h.ledger();
    t.match(ledger, [
      { kind: 'read', endpoint: 'GET /2/users/me', units: 1, cost_micros: X_PRICES.userRead },
      { kind: 'read', endpoint: 'GET /2/tweets/search/recent', units: page.posts.length, cost_micros: page.posts.length * X_PRICES.postRead },
      { kind: 'read', endpoint: 'GET /2/tweets/:id', units: 0, cost_micros: 0 },
      { kind: 'create', endpoint: 'POST /2/tweets', units: 1, cost_micros: X_PRICES.create },
      { kind: 'create_url', endpoint: 'POST /2/tweets', units: 1, cost_micros: X_PRICES.createWithUrl },
      { kind: 'read', endpoint: 'GET /2/users/me', units: 0, cost_micros: 0 },
    ]);
    t.ok(me);
  });

  t.test('failed calls are not charged', async (t) => {
    const h = await harness(t);
    h.fake.inject({ status: 500, path: /^\/2\/tweets$/ });
    await t.rejects(h.client.createPost({ text: 'fails' }));
    t.same(h.ledger(), []);
  });

  t.test('reads are refused first at the daily read budget, without calling X; posts go on', async (t) => {
    const h = await harness(t);
    h.ceilings.value = paid(h.clock.now - 86_400_000, { xReadCentsPerDay: 10 }); // 20 post reads a day
    await h.client.searchRecent('typescript', { maxResults: 10 });
    const spentReads = h.budget.readMicrosToday();
    const calls = h.fake.requests.length;
    const error = await h.client.searchRecent('typescript', { maxResults: 100 }).catch((e: unknown) => e);
    t.type(error, XBudgetRefusedError);
    t.equal((error as XBudgetRefusedError).reason, 'read_budget_today');
    t.equal(h.fake.requests.length, calls, 'X was not called');
    t.equal(h.budget.readMicrosToday(), spentReads);
    t.ok(await h.client.createPost({ text: 'posts are still allowed' }));
    t.equal(h.events.filter((e) => e.kind === 'billing.x_budget').length, 1);
  });

  t.test('URL posts are rationed, and no automation means no X calls at all', async (t) => {
    const h = await harness(t);
    h.ceilings.value = paid(h.clock.now - 86_400_000, { xUrlPostsPerDay: 1 });
    await h.client.createPost({ text: 'one link https://example.com/a' });
    const refused = await h.client.createPost({ text: 'another link example.com/b' }).catch((e: unknown) => e);
    t.match(refused, { reason: 'url_posts_today' });
    h.ceilings.value = paid(h.clock.now - 86_400_000, { automation: false });
    const calls = h.fake.requests.length;
    await t.rejects(h.client.me(), XBudgetRefusedError);
    await t.rejects(h.client.postThread(['a', 'b']), XBudgetRefusedError);
    t.equal(h.fake.requests.length, calls);
  });

  t.test('a thread the allowance cannot finish is refused before its first post', async (t) => {
    const h = await harness(t);
    // $0.05 allowance: 3 plain posts, not 4.
    h.ceilings.value = paid(h.clock.now - 86_400_000, { xCostAllowanceCents: 5 });
    await t.rejects(h.client.postThread(['1', '2', '3', '4']), XBudgetRefusedError);
    t.same(h.ledger(), []);
    t.equal((await h.client.postThread(['1', '2', '3'])).complete, true);
  });
});

t.test('media upload', async (t) => {
  const h = await harness(t);

  t.test('an image goes in one request and can be attached', async (t) => {
    const id = await h.client.uploadMedia(new Uint8Array(200_000).fill(7), 'image/png');
    t.match(id, /^\d+$/);
    t.equal(h.fake.requests.at(-1)!.path, '/2/media/upload');
    const post = await h.client.createPost({ text: 'with a picture', mediaIds: [id] });
    t.same(h.fake.world.post(post.id)!.mediaKeys, [`3_${id}`]);
  });

  t.test('a video is chunked in 5 MB segments, then polled until processed', async (t) => {
    const bytes = new Uint8Array(11 * 1024 * 1024).fill(1);
    const id = await h.client.uploadMedia(bytes, 'video/mp4');
    const media = h.fake.requests.filter((r) => r.path.startsWith('/2/media/upload'));
    const posts = media.filter((r) => r.method === 'POST').map((r) => r.path.replace(id, ':id'));
    t.same(posts.slice(-5), ['/2/media/upload/initialize', '/2/media/upload/:id/append', '/2/media/upload/:id/append', '/2/media/upload/:id/append', '/2/media/upload/:id/finalize']);
    const polls = media.filter((r) => r.method === 'GET');
    t.ok(polls.length >= 1);
    t.match(polls.at(-1), { query: { command: 'STATUS', media_id: id }, response: { data: { processing_info: { state: 'succeeded' } } } });
    t.ok(await h.client.createPost({ text: 'with a video', mediaIds: [id] }));
  });

  t.test('limits are X’s: images 5 MB, GIFs 15 MB; unknown types refused', async (t) => {
    await t.rejects(h.client.uploadMedia(new Uint8Array(5 * 1024 * 1024 + 1), 'image/jpeg'), /at most 5 MB/);
    await t.rejects(h.client.uploadMedia(new Uint8Array(15 * 1024 * 1024 + 1), 'image/gif'), /at most 15 MB/);
    await t.rejects(h.client.uploadMedia(new Uint8Array(10), 'application/pdf'), XApiError);
  });
});
