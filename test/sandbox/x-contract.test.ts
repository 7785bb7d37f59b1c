// Contract: every request our X client sends and every answer the sandbox X gives validate against
// X's OpenAPI document (test/specs/x-api-v2.openapi.json), errors included. The OAuth endpoints
// and the legacy v1.1 upload are not in that document and are covered by their own tests.
import t from 'tap';
import { definitionDefects, operationFor, requestProblems, responseProblems } from '../helpers/x-openapi.js';
import { harness } from '../helpers/x-client.js';

t.test('the client’s requests and the sandbox’s answers follow X’s OpenAPI document', async (t) => {
  const h = await harness(t, { fake: { world: { postsPerMinute: 4 } } });
  const { client, fake } = h;

  // Every call the client has, successes first.
  const me = await client.me();
  await client.userByUsername(fake.world.users.values().next().value!.username);
  await client.userByUsername('nobody_at_all');
  const page = await client.searchKeyword({ keyword: 'ai agents', lang: 'en', excludeReplies: true, maxResults: 10 });
  if (page.nextToken) await client.searchRecent('"ai agents" -is:retweet -is:reply lang:en', { maxResults: 10, nextToken: page.nextToken });
  await client.searchRecent('(typescript OR "build in public") -is:retweet has:links', { startTime: new Date(h.clock.now - 3_600_000).toISOString() });
  h.clock.now += 30 * 60_000;
  const mentions = await client.mentions(me.id, { maxResults: 50 });
  await client.mentions(me.id, { sinceId: mentions.newestId ?? '1' });
  await client.userPosts(page.posts[0]?.authorId ?? me.id, { maxResults: 5, exclude: ['retweets', 'replies'] });
  await client.post(page.posts[0]?.id ?? '1');
  await client.post('1');
  const first = await client.createPost({ text: 'contract test post' });
  await client.createPost({ text: 'a reply', replyTo: first.id });
  await client.postThread(['thread 1/2', 'thread 2/2']);
  const image = await client.uploadMedia(new Uint8Array(1024).fill(1), 'image/png');
  await client.createPost({ text: 'with media', mediaIds: [image] });
  await client.uploadMedia(new Uint8Array(6 * 1024 * 1024).fill(2), 'image/gif');

  // And the failures: duplicate (403), rate limited (429), unavailable (503), bad request (400), expired token (401).
  await client.createPost({ text: 'contract test post' }).catch(() => undefined);
  fake.inject({ status: 429, path: /mentions/, resetInSeconds: 900 });
  await client.mentions(me.id).catch(() => undefined);
  fake.inject({ status: 503, path: /search/, times: 3 });
  await client.searchRecent('typescript').catch(() => undefined);
  await client.searchRecent('lang:en').catch(() => undefined);
  await client.searchRecent('is:retweet').catch(() => undefined);
  h.store.tokens = { ...h.store.tokens!, accessToken: 'expired-or-revoked' };
  await client.post(first.id);

  const calls = fake.requests.filter((r) => r.path.startsWith('/2/') && !r.path.startsWith('/2/oauth2/'));
  const statuses = new Set(calls.map((r) => r.status));
  for (const status of [200, 201, 400, 401, 403, 429, 503]) t.ok(statuses.has(status), `the run covers ${status}`);
  const operations = new Set(calls.map((r) => `${r.method} ${operationFor(r.method, r.path)?.template}`));
  for (const op of [
    'GET /2/users/me',
    'GET /2/users/by/username/{username}',
    'GET /2/tweets/search/recent',
    'GET /2/users/{id}/mentions',
    'GET /2/users/{id}/tweets',
    'GET /2/tweets/{id}',
    'POST /2/tweets',
    'POST /2/media/upload',
    'POST /2/media/upload/initialize',
    'POST /2/media/upload/{id}/append',
    'POST /2/media/upload/{id}/finalize',
    'GET /2/media/upload',
  ]) {
    t.ok(operations.has(op), `the run covers ${op}`);
  }

  for (const call of calls) {
    const label = `${call.method} ${call.path} ${JSON.stringify(call.query).slice(0, 120)} → ${call.status}`;
    t.same(requestProblems(call.method, call.path, call.query, call.body), [], `request: ${label}`);
    t.same(responseProblems(call.method, call.path, call.status, call.response), [], `response: ${label}`);
  }
});

t.test('the sandbox answers every field TuitBot may ask for in the documented shapes', async (t) => {
  const h = await harness(t);
  const token = h.store.tokens!.accessToken;
  const paths = [
    '/2/users/me?user.fields=created_at,description,protected,verified,profile_image_url,public_metrics',
    `/2/tweets/search/recent?query=${encodeURIComponent('typescript OR saas')}&max_results=100&tweet.fields=attachments,author_id,conversation_id,created_at,in_reply_to_user_id,lang,possibly_sensitive,public_metrics,referenced_tweets,reply_settings&expansions=author_id,referenced_tweets.id,in_reply_to_user_id,referenced_tweets.id.author_id&user.fields=public_metrics,username`,
    '/2/tweets/search/recent?query=typescript&max_results=5',
    `/2/tweets/search/recent?query=${'a'.repeat(513)}`,
    '/2/tweets/search/recent?query=typescript&tweet.fields=nonsense',
    '/2/users/by/username/not a name',
  ];
  for (const path of paths) {
    const res = await fetch(`${h.fake.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    const url = new URL(path, h.fake.url);
    const body = await res.json();
    t.same(responseProblems('GET', url.pathname, res.status, body), [], `${res.status} ${path.slice(0, 80)}`);
    for (const header of ['x-rate-limit-limit', 'x-rate-limit-remaining', 'x-rate-limit-reset']) t.match(res.headers.get(header), /^\d+$/, header);
    if (res.status >= 400) t.match(res.headers.get('content-type'), 'application/problem+json');
  }
});

t.test('the validator knows which definitions it had to adapt', async (t) => {
  t.same(definitionDefects.map((d) => d.replace(/:.*/, '')).sort(), ['#/components/schemas/MediaUploadAppendResponse', '#/components/schemas/MediaUploadResponse', '#/components/schemas/Note', '#/components/schemas/ProcessingInfo'].sort());
});

t.test('the validator refuses what X would not send or accept', async (t) => {
  t.not(responseProblems('GET', '/2/users/me', 200, { data: { id: 'abc' } }).length, 0, 'a user without name and username, with a bad id');
  t.not(responseProblems('GET', '/2/tweets/search/recent', 200, { data: [] }).length, 0, 'data present but empty');
  t.not(responseProblems('POST', '/2/tweets', 403, { detail: 'no type or title' }).length, 0, 'a problem without type and title');
  t.not(requestProblems('GET', '/2/tweets/search/recent', { query: 'x', max_results: '500' }, undefined).length, 0, 'max_results over 100');
  t.not(requestProblems('GET', '/2/tweets/search/recent', { max_results: '10' }, undefined).length, 0, 'no query');
  t.not(requestProblems('GET', '/2/tweets/search/recent', { query: 'x', 'tweet.fields': 'bogus' }, undefined).length, 0, 'an unknown field');
  t.not(requestProblems('GET', '/2/tweets/search/recent', { query: 'x', since: '1' }, undefined).length, 0, 'an unknown parameter');
  t.not(requestProblems('POST', '/2/tweets', {}, { text: 'x', media: { media_ids: [] } }).length, 0, 'an empty media_ids');
});
