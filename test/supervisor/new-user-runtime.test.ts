/**
 * The runtime issue's "done when", as a newcomer tries it on the real `tuitbot serve` in sandbox mode:
 * sign up, pay a plan on the simulated Stripe, connect X on the simulated X's consent page, fill in the
 * business profile and their time zone (one where it is day, so the default active hours are open;
 * nothing else: default settings, approval mode on), start the automation; the
 * approval queue fills with sensible replies and a tweet, and approving a reply posts it to the
 * simulated X, where it is read back over X's own API.
 *
 * The first runs after a start are spread over up to an hour (a fleet must not hit X at once). With
 * TUITBOT_DEV_HOOKS the test makes them due now (`dev.runtime-run-now`): the runs themselves — search,
 * scoring, the sandbox LLM, the guards, the queue, the poster — are the real ones.
 */
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import twitter from 'twitter-text';
import { serveTemp } from '../helpers/process.js';
import { eventually, PROFILE, readyUser } from '../helpers/sandbox-user.js';

const USERNAME = 'pricekit_hq';

/** A token of our own for the same X user (the sandbox app, PKCE), to read X's state over its API. */
async function xToken(xUrl: string, username: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL('/i/oauth2/authorize', xUrl);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'sandbox-x-client',
    redirect_uri: 'http://127.0.0.1:9/test-callback',
    scope: 'tweet.read users.read',
    state: 'test',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  const html = await (await fetch(authorize)).text();
  const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
  const decided = await fetch(authorize, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request, decision: 'authorize', username }).toString(),
  });
  const code = new URL(decided.headers.get('location')!).searchParams.get('code')!;
  const token = await fetch(new URL('/2/oauth2/token', xUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('sandbox-x-client:sandbox-x-secret').toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:9/test-callback', code_verifier: verifier }).toString(),
  });
  return ((await token.json()) as { access_token: string }).access_token;
}

interface Item {
  id: number;
  kind: string;
  status: string;
  content: string | string[];
  target: { tweetId: string; authorUsername: string | null; text: string | null } | null;
  source: string;
  topic: string | null;
  score: number | null;
  postedTweetId: string | null;
}

t.test('a newcomer in the sandbox: started with default settings, the queue fills with replies and a tweet, and an approved reply reaches X', async (t) => {
  const server = await serveTemp(t, { TUITBOT_DEV_HOOKS: '1' });
  const { browser, tenantId, xUrl } = await readyUser(server.base, 'newcomer@example.com', USERNAME);
  t.comment('signed up, subscribed, X connected, profile set');

  t.equal((await browser.json('GET', '/api/onboarding')).body.next, 'runtime', 'only starting is left');
  const started = await browser.json('POST', '/api/runtime/start');
  t.equal(started.status, 200, JSON.stringify(started.body));
  t.match(started.body, { state: 'started', approvalMode: true, x: { connected: true, username: USERNAME }, llm: 'sandbox', automation: true });
  t.ok(started.body.jobs.some((job: { nextRunAt: number }) => job.nextRunAt > Date.now() + 1_000), 'the first runs are spread, not all now');

  const runNow = await browser.json('POST', `/dev/tenants/${tenantId}/call/dev.runtime-run-now`, {});
  t.equal(runNow.status, 200, JSON.stringify(runNow.body));

  const begun = Date.now();
  const queue = await eventually(async () => {
    const { body } = await browser.json<{ items: Item[] }>('GET', '/api/approvals?kinds=reply,tweet&limit=200');
    return body.items.some((i) => i.kind === 'reply') && body.items.some((i) => i.kind === 'tweet') ? body.items : undefined;
  }, 90_000, 500);
  t.comment(`queue filled in ${Date.now() - begun} ms: ${queue.filter((i) => i.kind === 'reply').length} replies, ${queue.filter((i) => i.kind === 'tweet').length} tweets`);

  const replies = queue.filter((i) => i.kind === 'reply');
  const tweets = queue.filter((i) => i.kind === 'tweet');
  const threshold = (await browser.json('GET', '/api/settings')).body.values['scoring.threshold'] as number;
  for (const reply of replies) {
    const text = reply.content as string;
    t.ok(twitter.parseTweet(text).valid && text.trim().length > 0, `reply ${reply.id} is a post X accepts: ${JSON.stringify(text)}`);
    t.ok(reply.target?.tweetId && reply.target.text, `reply ${reply.id} names the post it answers`);
    t.not(text, reply.target?.text, 'and does not repeat it');
    if (reply.source === 'mention') t.match(reply.target?.text, new RegExp(`@${USERNAME}`, 'i'), 'a mention reply answers a post that names us');
    else t.ok((reply.score ?? 0) >= threshold, `it answers a ${reply.source} post scored above the threshold (${reply.score} ≥ ${threshold})`);
  }
  t.equal(new Set(replies.map((r) => r.target!.tweetId)).size, replies.length, 'no post answered twice');
  t.equal(new Set(replies.map((r) => r.content)).size, replies.length, 'no two replies alike');
  const tweet = tweets[0]!;
  t.ok(twitter.parseTweet(tweet.content as string).valid, `the tweet is a post X accepts: ${JSON.stringify(tweet.content)}`);
  t.ok(PROFILE['business.industry_topics'].includes(tweet.topic ?? ''), `the tweet is about one of the industry topics (${tweet.topic})`);
  t.equal((await browser.json('GET', '/api/approvals?statuses=posted,posting,approved')).body.items.length, 0, 'nothing was posted without approval');

  const chosen = replies[0]!;
  const approved = await browser.json('POST', `/api/approvals/${chosen.id}/approve`);
  t.equal(approved.status, 200, JSON.stringify(approved.body));
  t.equal(approved.body.status, 'approved');
  const posted = await eventually(async () => {
    const { body } = await browser.json<{ items: Item[] }>('GET', '/api/approvals?statuses=posted');
    return body.items.find((i) => i.id === chosen.id);
  }, 60_000, 500);
  t.ok(posted.postedTweetId, 'the item is posted with the id X gave it');

  t.comment('posted; reading it back at X');
  const token = await xToken(xUrl, USERNAME);
  const read = await fetch(`${xUrl}/2/tweets/${posted.postedTweetId}?tweet.fields=author_id,referenced_tweets&expansions=author_id`, { headers: { authorization: `Bearer ${token}` } });
  t.equal(read.status, 200);
  const atX = (await read.json()) as { data: { text: string; author_id: string; referenced_tweets?: { type: string; id: string }[] }; includes?: { users?: { id: string; username: string }[] } };
  t.equal(atX.data.text, chosen.content, 'X has the approved text');
  t.same(atX.data.referenced_tweets, [{ type: 'replied_to', id: chosen.target!.tweetId }], 'as a reply to the post it answers');
  t.equal(atX.includes?.users?.find((u) => u.id === atX.data.author_id)?.username, USERNAME, "posted as the newcomer's account");
  const me = (await (await fetch(`${xUrl}/2/users/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { id: string } };
  const timeline = (await (await fetch(`${xUrl}/2/users/${me.data.id}/tweets?max_results=10`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data?: { id: string }[] };
  t.same(timeline.data?.map((p) => p.id), [posted.postedTweetId], 'the approved reply is the only post');
});
