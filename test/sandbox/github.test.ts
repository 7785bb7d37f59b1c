// The fake GitHub speaks GitHub's wire format: the OAuth web flow with PKCE, and /user, /user/emails
// in the shapes GitHub documents (contract-checked here), so the real client code runs against it.
import { createHash } from 'node:crypto';
import t from 'tap';
import * as v from 'valibot';
import { startFakeGitHub, type FakeGitHub, type FakeGitHubUser } from '../../sandbox/github.js';

const ALICE: FakeGitHubUser = {
  id: 101,
  login: 'alice',
  name: 'Alice',
  emails: [
    { email: 'alice@example.com', primary: true, verified: true, visibility: 'public' },
    { email: 'old-alice@example.com', primary: false, verified: false },
  ],
};
const BOB: FakeGitHubUser = { id: 202, login: 'bob', emails: [{ email: 'bob@example.com', primary: true, verified: false }] };
const CALLBACK = 'http://127.0.0.1:9/auth/github/callback';

const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

async function authorize(fake: FakeGitHub, params: Record<string, string> = {}): Promise<URL> {
  const url = new URL(fake.authorizeUrl);
  const verifier = params['verifier'] ?? 'v'.repeat(43);
  delete params['verifier'];
  for (const [k, value] of Object.entries({
    client_id: fake.clientId,
    redirect_uri: CALLBACK,
    state: 'st4te',
    scope: 'read:user user:email',
    code_challenge: challengeOf(verifier),
    code_challenge_method: 'S256',
    ...params,
  })) {
    url.searchParams.set(k, value);
  }
  const res = await fetch(url, { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}`);
  return new URL(res.headers.get('location')!);
}

async function exchange(fake: FakeGitHub, form: Record<string, string>, headers: Record<string, string> = { accept: 'application/json' }) {
  const res = await fetch(fake.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, contentType: res.headers.get('content-type') ?? '', text: await res.text() };
}

async function tokenFor(fake: FakeGitHub, login?: string, scope = 'read:user user:email'): Promise<string> {
  const verifier = 'x'.repeat(50);
  const back = await authorize(fake, { verifier, scope, ...(login && { login }) });
  const res = await exchange(fake, {
    client_id: fake.clientId,
    client_secret: fake.clientSecret,
    code: back.searchParams.get('code')!,
    redirect_uri: CALLBACK,
    code_verifier: verifier,
  });
  return (JSON.parse(res.text) as { access_token: string }).access_token;
}

const api = (fake: FakeGitHub, path: string, token?: string, headers: Record<string, string> = { 'user-agent': 'test' }) =>
  fetch(`${fake.apiUrl}${path}`, { headers: { accept: 'application/vnd.github+json', ...(token && { authorization: `Bearer ${token}` }), ...headers } });

t.test('the authorization step', async (t) => {
  const fake = await startFakeGitHub({ users: [ALICE, BOB] });
  t.teardown(() => fake.close());

  t.test('redirects back at once with a code and the same state, for the current user', async (t) => {
    const back = await authorize(fake);
    t.equal(`${back.origin}${back.pathname}`, CALLBACK);
    t.equal(back.searchParams.get('state'), 'st4te');
    t.match(back.searchParams.get('code'), /^[0-9a-f]{20}$/);
  });

  t.test('the login hint or setCurrentUser chooses who logs in; nobody means access_denied', async (t) => {
    const asBob = await tokenFor(fake, 'bob');
    t.equal(((await (await api(fake, '/user', asBob)).json()) as { login: string }).login, 'bob');
    fake.setCurrentUser(202);
    t.equal(((await (await api(fake, '/user', await tokenFor(fake))).json()) as { login: string }).login, 'bob');
    fake.setCurrentUser(null);
    const denied = await authorize(fake);
    t.equal(denied.searchParams.get('error'), 'access_denied');
    t.equal(denied.searchParams.get('state'), 'st4te');
    t.notOk(denied.searchParams.has('code'));
    fake.setCurrentUser(101);
  });

  t.test('an unknown client is a 404 page; a plain PKCE challenge is refused', async (t) => {
    const res = await fetch(`${fake.authorizeUrl}?client_id=nope&redirect_uri=${encodeURIComponent(CALLBACK)}`, { redirect: 'manual' });
    t.equal(res.status, 404);
    const plain = await authorize(fake, { code_challenge_method: 'plain' });
    t.equal(plain.searchParams.get('error'), 'invalid_request');
  });
});

t.test('the token exchange', async (t) => {
  const fake = await startFakeGitHub({ users: [ALICE], codeTtlMs: 300 });
  t.teardown(() => fake.close());
  const verifier = 'correct-horse-battery-staple-correct-horse-battery';
  const codeFor = async () => (await authorize(fake, { verifier })).searchParams.get('code')!;
  const form = (code: string, extra: Record<string, string> = {}) => ({
    client_id: fake.clientId,
    client_secret: fake.clientSecret,
    code,
    redirect_uri: CALLBACK,
    code_verifier: verifier,
    ...extra,
  });

  t.test('the right verifier gets a bearer token in JSON when asked for JSON', async (t) => {
    const res = await exchange(fake, form(await codeFor()));
    t.equal(res.status, 200);
    t.match(res.contentType, /application\/json/);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    t.match(body, { access_token: /^gho_\w+$/, token_type: 'bearer', scope: 'read:user,user:email' });
  });

  t.test('a wrong PKCE verifier is refused, and burns the code', async (t) => {
    const code = await codeFor();
    const wrong = await exchange(fake, form(code, { code_verifier: 'w'.repeat(50) }));
    t.equal(wrong.status, 200, 'GitHub reports OAuth errors with HTTP 200');
    t.match(JSON.parse(wrong.text), { error: 'bad_verification_code', error_description: String });
    t.match(JSON.parse((await exchange(fake, form(code))).text), { error: 'bad_verification_code' });
    t.match(JSON.parse((await exchange(fake, form(await codeFor(), { code_verifier: '' }))).text), { error: 'bad_verification_code' }, 'a missing verifier too');
  });

  t.test('a code works once', async (t) => {
    const code = await codeFor();
    t.ok(JSON.parse((await exchange(fake, form(code))).text).access_token);
    t.match(JSON.parse((await exchange(fake, form(code))).text), { error: 'bad_verification_code' });
  });

  t.test('a code expires', async (t) => {
    const code = await codeFor();
    await new Promise((resolve) => setTimeout(resolve, 350));
    t.match(JSON.parse((await exchange(fake, form(code))).text), { error: 'bad_verification_code' });
  });

  t.test('the client secret is checked, in the body or as HTTP Basic (as arctic sends it)', async (t) => {
    t.match(JSON.parse((await exchange(fake, form(await codeFor(), { client_secret: 'guess' }))).text), { error: 'incorrect_client_credentials' });
    const { client_id: _id, client_secret: _secret, ...rest } = form(await codeFor());
    const basic = (secret: string) => ({ accept: 'application/json', authorization: `Basic ${Buffer.from(`${fake.clientId}:${secret}`).toString('base64')}` });
    t.ok(JSON.parse((await exchange(fake, rest, basic(fake.clientSecret))).text).access_token);
    t.match(JSON.parse((await exchange(fake, { ...rest, code: await codeFor() }, basic('guess'))).text), { error: 'incorrect_client_credentials' });
  });

  t.test('the redirect_uri must be the one the code was issued for', async (t) => {
    t.match(JSON.parse((await exchange(fake, form(await codeFor(), { redirect_uri: 'http://evil.example/cb' }))).text), { error: 'redirect_uri_mismatch' });
  });

  t.test('without Accept: application/json the answer is form-encoded, as GitHub does', async (t) => {
    const res = await exchange(fake, form(await codeFor()), {});
    t.match(res.contentType, /application\/x-www-form-urlencoded/);
    const params = new URLSearchParams(res.text);
    t.match(params.get('access_token'), /^gho_/);
    t.equal(params.get('token_type'), 'bearer');
  });
});

t.test('the REST API', async (t) => {
  const fake = await startFakeGitHub({ users: [ALICE, BOB] });
  t.teardown(() => fake.close());

  t.test('contract: GET /user has the fields and types GitHub documents for a private user', async (t) => {
    const res = await api(fake, '/user', await tokenFor(fake, 'alice'));
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /application\/json/);
    t.match(res.headers.get('x-oauth-scopes'), /user:email/);
    const nullableString = v.nullable(v.string());
    const count = v.pipe(v.number(), v.integer(), v.minValue(0));
    const PrivateUser = v.object({
      login: v.string(),
      id: v.pipe(v.number(), v.integer()),
      node_id: v.string(),
      avatar_url: v.pipe(v.string(), v.url()),
      gravatar_id: nullableString,
      url: v.pipe(v.string(), v.url()),
      html_url: v.pipe(v.string(), v.url()),
      followers_url: v.string(),
      following_url: v.string(),
      gists_url: v.string(),
      starred_url: v.string(),
      subscriptions_url: v.string(),
      organizations_url: v.string(),
      repos_url: v.string(),
      events_url: v.string(),
      received_events_url: v.string(),
      type: v.string(),
      site_admin: v.boolean(),
      name: nullableString,
      company: nullableString,
      blog: nullableString,
      location: nullableString,
      email: v.nullable(v.pipe(v.string(), v.email())),
      hireable: v.nullable(v.boolean()),
      bio: nullableString,
      twitter_username: v.optional(nullableString),
      public_repos: count,
      public_gists: count,
      followers: count,
      following: count,
      created_at: v.pipe(v.string(), v.isoTimestamp()),
      updated_at: v.pipe(v.string(), v.isoTimestamp()),
      private_gists: count,
      total_private_repos: count,
      owned_private_repos: count,
      disk_usage: count,
      collaborators: count,
      two_factor_authentication: v.boolean(),
    });
    const body: unknown = await res.json();
    const parsed = v.safeParse(PrivateUser, body);
    t.ok(parsed.success, parsed.success ? 'matches' : JSON.stringify(v.flatten(parsed.issues)));
    t.match(body, { id: 101, login: 'alice', name: 'Alice', email: 'alice@example.com' }, 'a public primary email shows as `email`');
  });

  t.test('contract: GET /user/emails lists every address with primary, verified and visibility', async (t) => {
    const res = await api(fake, '/user/emails', await tokenFor(fake, 'alice'));
    t.equal(res.status, 200);
    const Emails = v.array(
      v.object({
        email: v.pipe(v.string(), v.email()),
        primary: v.boolean(),
        verified: v.boolean(),
        visibility: v.nullable(v.picklist(['public', 'private'])),
      }),
    );
    const body: unknown = await res.json();
    t.ok(v.is(Emails, body), JSON.stringify(body));
    t.same(body, [
      { email: 'alice@example.com', primary: true, verified: true, visibility: 'public' },
      { email: 'old-alice@example.com', primary: false, verified: false, visibility: null },
    ]);
    const bob = await (await api(fake, '/user', await tokenFor(fake, 'bob'))).json();
    t.equal((bob as { email: unknown }).email, null, 'a private primary email is not on /user');
  });

  t.test('a bad or missing token is 401 with GitHub\'s message', async (t) => {
    const bad = await api(fake, '/user', 'gho_not-a-token');
    t.equal(bad.status, 401);
    t.match(await bad.json(), { message: 'Bad credentials', documentation_url: String });
    const none = await api(fake, '/user/emails');
    t.equal(none.status, 401);
    t.match(await none.json(), { message: 'Requires authentication' });
  });

  t.test('GitHub requires a User-Agent', async (t) => {
    const token = await tokenFor(fake, 'alice');
    const res = await fetch(`${fake.apiUrl}/user`, { headers: { authorization: `Bearer ${token}`, 'user-agent': '' } });
    t.equal(res.status, 403);
  });

  t.test('/user/emails needs the user:email scope (404 without it, as GitHub hides it)', async (t) => {
    const res = await api(fake, '/user/emails', await tokenFor(fake, 'alice', 'read:user'));
    t.equal(res.status, 404);
  });
});
