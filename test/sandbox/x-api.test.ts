// The sandbox X's API imitates X beyond the schema: the search language, pagination bound to its
// query, the 7-day window, scopes, rate-limit windows, fault injection, a seeded world that moves
// with the clock, and the legacy v1.1 media upload.
import t, { type Test } from 'tap';
import { startFakeX } from '../../sandbox/x/index.js';
import { connect } from '../helpers/x-client.js';

async function setup(t: Test, options: Parameters<typeof startFakeX>[0] = {}, scope?: string) {
  const clock = { now: Date.UTC(2026, 10, 26, 12) };
  const fake = await startFakeX({ now: () => clock.now, ...options });
  t.teardown(() => fake.close());
  const tokens = await connect(fake, { now: () => clock.now, ...(scope && { scope }) });
  const get = async (path: string) => {
    const res = await fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    return { status: res.status, headers: res.headers, body: (await res.json()) as any };
  };
  return { fake, clock, tokens, get };
}

const search = (query: string, extra = '') => `/2/tweets/search/recent?query=${encodeURIComponent(query)}&max_results=100&tweet.fields=lang,author_id,referenced_tweets${extra}`;

t.test('the search language', async (t) => {
  const { fake, get } = await setup(t, { world: { postsPerMinute: 10 } });

  t.test('OR, quoted phrases, negation, lang: and from:', async (t) => {
    const either = await get(search('typescript OR "ai agents"'));
    t.ok(either.body.data.length > 0);
    for (const post of either.body.data) t.match(post.text.toLowerCase(), /typescript|ai agents/);
    const noRetweets = await get(search('typescript -is:retweet lang:en'));
    for (const post of noRetweets.body.data) {
      t.equal(post.lang, 'en');
      t.equal(post.referenced_tweets?.some((r: { type: string }) => r.type === 'retweeted') ?? false, false);
    }
    const someone = fake.world.users.get(either.body.data[0].author_id)!;
    const from = await get(search(`from:${someone.username}`));
    for (const post of from.body.data) t.equal(post.author_id, someone.id);
  });

  t.test('is:, has: and lang: cannot stand alone; 512 characters at most; unbalanced is refused', async (t) => {
    for (const query of ['is:retweet', 'lang:en -is:reply', '-typescript', 'x'.repeat(513), '(typescript', 'typescript bogus:op']) {
      const res = await get(search(query));
      t.equal(res.status, 400, query.slice(0, 40));
      t.equal(res.body.type, 'https://api.twitter.com/2/problems/invalid-request');
    }
  });

  t.test('pagination tokens continue their own query only', async (t) => {
    const first = await get(`/2/tweets/search/recent?query=typescript&max_results=10`);
    const token = first.body.meta.next_token;
    t.ok(token);
    const second = await get(`/2/tweets/search/recent?query=typescript&max_results=10&pagination_token=${token}`);
    t.ok(BigInt(second.body.data[0].id) < BigInt(first.body.meta.oldest_id));
    t.equal((await get(`/2/tweets/search/recent?query=saas&max_results=10&pagination_token=${token}`)).status, 400);
  });

  t.test('recent search looks back 7 days at most; max_results is 10 to 100', async (t) => {
    const old = new Date(Date.UTC(2026, 10, 18)).toISOString();
    t.equal((await get(`/2/tweets/search/recent?query=typescript&start_time=${old}`)).status, 400);
    t.equal((await get(`/2/tweets/search/recent?query=typescript&max_results=9`)).status, 400);
    t.equal((await get(`/2/tweets/search/recent?query=typescript&max_results=101`)).status, 400);
  });

  t.test('only requested fields are returned; expansions fill includes', async (t) => {
    const plain = await get('/2/tweets/search/recent?query=typescript');
    t.same(Object.keys(plain.body.data[0]).sort(), ['edit_history_tweet_ids', 'id', 'text']);
    t.notOk(plain.body.includes);
    const expanded = await get('/2/tweets/search/recent?query=typescript&expansions=author_id');
    t.same(Object.keys(expanded.body.includes.users[0]).sort(), ['id', 'name', 'username']);
    const me = await get('/2/users/me');
    t.same(Object.keys(me.body.data).sort(), ['id', 'name', 'username']);
  });
});

t.test('the world', async (t) => {
  t.test('the same seed and clock show the same posts; another seed another world', async (t) => {
    const at = Date.UTC(2026, 10, 26, 12);
    const a = await startFakeX({ now: () => at, seed: 7 });
    const b = await startFakeX({ now: () => at, seed: 7 });
    const c = await startFakeX({ now: () => at, seed: 8 });
    t.teardown(() => Promise.all([a.close(), b.close(), c.close()]));
    t.same(a.world.posts.map((p) => [p.id, p.text]), b.world.posts.map((p) => [p.id, p.text]));
    t.not(JSON.stringify(a.world.posts.map((p) => p.text)), JSON.stringify(c.world.posts.map((p) => p.text)));
  });

  t.test('advance() brings new posts and mentions on the configured topics', async (t) => {
    const fake = await startFakeX({ world: { topics: ['sourdough'], postsPerMinute: 1 } });
    t.teardown(() => fake.close());
    await connect(fake);
    const before = fake.world.posts.length;
    fake.advance(60 * 60_000);
    const added = fake.world.posts.slice(before);
    t.ok(added.length >= 50);
    t.ok(added.some((p) => /sourdough/.test(p.text)));
    t.ok(added.some((p) => /@sandbox_founder/.test(p.text)), 'the connected user is mentioned');
  });

  t.test('advance() refuses to fight an injected clock', async (t) => {
    const fake = await startFakeX({ now: () => 0 + Date.UTC(2026, 0, 1) });
    t.teardown(() => fake.close());
    t.throws(() => fake.advance(1000), /options\.now/);
  });
});

t.test('rate limits, scopes and faults', async (t) => {
  t.test('every answer carries the window; an exhausted window is 429 until its reset', async (t) => {
    const { clock, get } = await setup(t, { rateLimit: { perWindow: 2, windowSeconds: 60 } });
    const first = await get('/2/users/me');
    t.equal(first.headers.get('x-rate-limit-limit'), '2');
    t.equal(first.headers.get('x-rate-limit-remaining'), '1');
    t.equal(first.headers.get('x-rate-limit-reset'), String(Math.ceil((clock.now + 60_000) / 1000)));
    await get('/2/users/me');
    const limited = await get('/2/users/me');
    t.equal(limited.status, 429);
    t.same(limited.body, { title: 'Too Many Requests', type: 'about:blank', status: 429, detail: 'Too Many Requests' });
    t.equal((await get('/2/tweets/search/recent?query=a')).status, 200, 'windows are per endpoint');
    clock.now += 60_000;
    t.equal((await get('/2/users/me')).status, 200);
  });

  t.test('a token without media.write cannot upload; without tweet.write cannot post', async (t) => {
    const { fake, tokens } = await setup(t, {}, 'tweet.read users.read');
    const post = await fetch(`${fake.settings.apiUrl}/tweets`, { method: 'POST', headers: { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json' }, body: '{"text":"hi"}' });
    t.equal(post.status, 403);
    const upload = await fetch(`${fake.settings.apiUrl}/media/upload/initialize`, { method: 'POST', headers: { authorization: `Bearer ${tokens.accessToken}`, 'content-type': 'application/json' }, body: '{}' });
    t.equal(upload.status, 403);
  });

  t.test('inject() fails the next matching calls; random429 fails some unprovoked', async (t) => {
    const { fake, get } = await setup(t, { random429: 0.5, seed: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await get('/2/tweets/search/recent?query=a')).status);
    t.ok(statuses.includes(429) && statuses.includes(200));
    const quiet = await setup(t);
    quiet.fake.inject({ status: 500, times: 2, path: /users/ });
    t.same([(await quiet.get('/2/users/me')).status, (await quiet.get('/2/tweets/search/recent?query=a')).status, (await quiet.get('/2/users/me')).status, (await quiet.get('/2/users/me')).status], [500, 200, 500, 200]);
    t.ok(fake.requests.every((r) => !JSON.stringify(r).includes('Bearer')), 'the log has no tokens');
  });
});

t.test('the legacy v1.1 upload: simple, and INIT/APPEND/FINALIZE/STATUS', async (t) => {
  const { fake, clock, tokens } = await setup(t);
  const call = async (form: FormData | URLSearchParams, method = 'POST', query = '') => {
    const res = await fetch(`${fake.settings.uploadUrl}${query}`, { method, headers: { authorization: `Bearer ${tokens.accessToken}` }, ...(method === 'POST' && { body: form }) });
    return { status: res.status, body: res.status === 204 ? null : ((await res.json()) as any) };
  };
  const simple = new FormData();
  simple.set('media', new Blob([new Uint8Array(100)]), 'a.png');
  const image = await call(simple);
  t.equal(image.status, 200);
  t.match(image.body, { media_id: Number, media_id_string: /^\d+$/, image: { image_type: String } });

  const init = await call(new URLSearchParams({ command: 'INIT', total_bytes: '10', media_type: 'video/mp4', media_category: 'tweet_video' }));
  t.equal(init.status, 202);
  const id = init.body.media_id_string;
  const append = new FormData();
  append.set('command', 'APPEND');
  append.set('media_id', id);
  append.set('segment_index', '0');
  append.set('media', new Blob([new Uint8Array(10)]), 'blob');
  t.equal((await call(append)).status, 204);
  const done = await call(new URLSearchParams({ command: 'FINALIZE', media_id: id }));
  t.equal(done.status, 201);
  t.equal(done.body.processing_info.state, 'pending');
  clock.now += 10_000;
  const status = await call(new URLSearchParams(), 'GET', `?command=STATUS&media_id=${id}`);
  t.equal(status.body.processing_info.state, 'succeeded');
});
