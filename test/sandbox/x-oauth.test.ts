// The sandbox X's OAuth 2.0 server behaves like X's: a consent page, PKCE S256, single-use codes,
// confidential and public clients, rotating refresh tokens, revocation, and a user revoking the app.
import t from 'tap';
import { startFakeX } from '../../sandbox/x/index.js';
import { CALLBACK, authorizeUrl, basicAuth, connect, tokenRequest } from '../helpers/x-client.js';

t.test('the consent page', async (t) => {
  const fake = await startFakeX({ clients: [{ clientId: 'app', clientSecret: 'secret', name: '<b>Evil & Co</b>' }] });
  t.teardown(() => fake.close());

  t.test('shows the sandbox banner, the app, the scopes, a username field and two POST forms, all escaped', async (t) => {
    const res = await fetch(authorizeUrl(fake).url);
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /text\/html/);
    t.equal(res.headers.get('x-frame-options'), 'DENY');
    const html = await res.text();
    t.match(html, 'Sandbox X — nothing is posted to the real X');
    t.match(html, '&lt;b&gt;Evil &amp; Co&lt;/b&gt;');
    t.notMatch(html, '<b>Evil');
    t.match(html, 'tweet.write');
    t.match(html, /name="username" value="sandbox_founder"/);
    t.equal(html.match(/<form method="post"/g)?.length, 2);
  });

  t.test('approve redirects to the callback with a code and the same state', async (t) => {
    const back = new URL(await fake.approve(authorizeUrl(fake).url));
    t.equal(`${back.origin}${back.pathname}`, CALLBACK);
    t.equal(back.searchParams.get('state'), 'st4te');
    t.match(back.searchParams.get('code'), /^[\w-]{40,}$/);
    t.ok(fake.users.byUsername('sandbox_founder'), 'the account exists once it consented');
  });

  t.test('deny redirects with access_denied and the state, and no code', async (t) => {
    const back = new URL(await fake.deny(authorizeUrl(fake).url));
    t.equal(back.searchParams.get('error'), 'access_denied');
    t.equal(back.searchParams.get('state'), 'st4te');
    t.notOk(back.searchParams.has('code'));
  });

  t.test('an unknown client or an unregistered redirect is an error page, never a redirect', async (t) => {
    for (const params of [{ client_id: 'nope' }, { redirect_uri: 'javascript:alert(1)' }, { redirect_uri: 'http://x.test/cb#frag' }] as Record<string, string>[]) {
      const res = await fetch(authorizeUrl(fake, params).url, { redirect: 'manual' });
      t.equal(res.status, 400, JSON.stringify(params));
      t.equal(res.headers.get('location'), null);
      t.match(await res.text(), 'Something went wrong');
    }
    await t.rejects(fake.approve(authorizeUrl(fake, { client_id: 'nope' }).url), /unknown client_id/);
  });

  t.test('with a valid redirect, protocol errors go back to the app', async (t) => {
    const noPkce = new URL(authorizeUrl(fake).url);
    noPkce.searchParams.delete('code_challenge');
    const res = await fetch(noPkce, { redirect: 'manual' });
    t.equal(res.status, 302);
    t.match(res.headers.get('location'), /error=invalid_request.*state=st4te/);
    const badScope = await fetch(authorizeUrl(fake, { scope: 'tweet.read everything' }).url, { redirect: 'manual' });
    t.match(badScope.headers.get('location'), /error=invalid_scope/);
  });

  t.test('a consent form works once', async (t) => {
    const html = await (await fetch(authorizeUrl(fake).url)).text();
    const request = /name="request" value="([^"]+)"/.exec(html)![1]!;
    const submit = () => fetch(`${fake.url}/i/oauth2/authorize`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `request=${request}&decision=authorize&username=alice` });
    t.equal((await submit()).status, 302);
    t.equal((await submit()).status, 400);
  });
});

t.test('the token endpoint', async (t) => {
  let now = Date.now();
  const fake = await startFakeX({ now: () => now, clients: [{ clientId: 'conf', clientSecret: 's3cret' }, { clientId: 'pub', clientSecret: null }] });
  t.teardown(() => fake.close());
  const codeFor = async (clientId = 'conf', scope?: string) => {
    const { url, verifier } = authorizeUrl(fake, { client_id: clientId, ...(scope && { scope }) });
    return { code: new URL(await fake.approve(url)).searchParams.get('code')!, verifier };
  };
  const exchange = (code: string, verifier: string, extra: Record<string, string> = {}, auth: string | null = basicAuth('conf', 's3cret')) =>
    tokenRequest(fake, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, ...extra }, auth);

  t.test('a confidential client exchanges a code with HTTP Basic for a bearer token and a refresh token', async (t) => {
    const { code, verifier } = await codeFor();
    const { status, body } = await exchange(code, verifier);
    t.equal(status, 200);
    t.match(body, { token_type: 'bearer', expires_in: 7200, access_token: String, refresh_token: String, scope: 'tweet.read tweet.write users.read offline.access media.write' });
  });

  t.test('without offline.access there is no refresh token', async (t) => {
    const { code, verifier } = await codeFor('conf', 'tweet.read users.read');
    const { body } = await exchange(code, verifier);
    t.equal(body['refresh_token'], undefined);
  });

  t.test('a public client sends its client_id in the body; a confidential one must use Basic', async (t) => {
    const pub = await codeFor('pub');
    t.equal((await exchange(pub.code, pub.verifier, { client_id: 'pub' }, null)).status, 200);
    const conf = await codeFor();
    const refused = await exchange(conf.code, conf.verifier, { client_id: 'conf' }, null);
    t.equal(refused.status, 401);
    t.equal(refused.body['error'], 'invalid_client');
    t.equal((await exchange((await codeFor()).code, 'x'.repeat(43), {}, basicAuth('conf', 'wrong'))).body['error'], 'invalid_client');
  });

  t.test('codes are single-use, bound to the verifier and redirect_uri, and expire after 30 s', async (t) => {
    const a = await codeFor();
    t.equal((await exchange(a.code, 'w'.repeat(43))).body['error'], 'invalid_grant', 'wrong verifier');
    t.equal((await exchange(a.code, a.verifier)).body['error'], 'invalid_grant', 'the failed attempt burnt the code');
    const b = await codeFor();
    t.equal((await exchange(b.code, b.verifier, { redirect_uri: 'http://127.0.0.1:9/other' })).body['error'], 'invalid_grant');
    const c = await codeFor();
    t.equal((await exchange(c.code, c.verifier)).status, 200);
    t.equal((await exchange(c.code, c.verifier)).status, 400, 'replayed');
    const d = await codeFor();
    now += 31_000;
    t.equal((await exchange(d.code, d.verifier)).body['error'], 'invalid_grant', 'expired');
    t.equal((await exchange('', d.verifier)).body['error'], 'invalid_request');
  });

  t.test('refresh tokens rotate: each works once', async (t) => {
    const first = await connect(fake, { now: () => now });
    const refresh = (token: string) => tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: token });
    const second = await refresh(first.refreshToken!);
    t.equal(second.status, 200);
    t.not(second.body['refresh_token'], first.refreshToken);
    t.not(second.body['access_token'], first.accessToken);
    const replay = await refresh(first.refreshToken!);
    t.equal(replay.status, 400);
    t.match(replay.body, { error: 'invalid_grant', error_description: String });
    t.equal((await refresh(second.body['refresh_token'])).status, 200);
  });

  t.test('access tokens expire; the API then answers X’s 401 problem', async (t) => {
    const tokens = await connect(fake, { now: () => now });
    const me = () => fetch(`${fake.settings.apiUrl}/users/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
    t.equal((await me()).status, 200);
    now += 7200_000;
    const res = await me();
    t.equal(res.status, 401);
    t.same(await res.json(), { title: 'Unauthorized', type: 'about:blank', status: 401, detail: 'Unauthorized' });
  });

  t.test('revoking a refresh token ends its grant; revoke answers { revoked: true } even for unknown tokens', async (t) => {
    const tokens = await connect(fake, { now: () => now });
    const revoke = (token: string) =>
      fetch(fake.settings.revokeUrl, { method: 'POST', headers: { authorization: basicAuth('conf', 's3cret'), 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, token_type_hint: 'refresh_token' }) });
    const res = await revoke(tokens.refreshToken!);
    t.equal(res.status, 200);
    t.same(await res.json(), { revoked: true });
    t.same(await (await revoke('unknown')).json(), { revoked: true });
    t.equal((await fetch(`${fake.settings.apiUrl}/users/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } })).status, 401);
    t.equal((await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: tokens.refreshToken! })).body['error'], 'invalid_grant');
  });

  t.test('revokeApp kills every token of that user only', async (t) => {
    const mine = await connect(fake, { username: 'revoker', now: () => now });
    const theirs = await connect(fake, { username: 'bystander', now: () => now });
    fake.revokeApp('revoker');
    const me = (token: string) => fetch(`${fake.settings.apiUrl}/users/me`, { headers: { authorization: `Bearer ${token}` } });
    t.equal((await me(mine.accessToken)).status, 401);
    t.equal((await tokenRequest(fake, { grant_type: 'refresh_token', refresh_token: mine.refreshToken! })).body['error'], 'invalid_grant');
    t.equal((await me(theirs.accessToken)).status, 200);
  });

  t.test('the request log never holds a secret', async (t) => {
    const logged = JSON.stringify(fake.requests);
    t.notMatch(logged, /s3cret/);
    for (const r of fake.requests.filter((r) => r.path === '/2/oauth2/token')) {
      const body = r.body as Record<string, string>;
      for (const field of ['code', 'code_verifier', 'refresh_token']) if (field in body) t.equal(body[field], '[redacted]');
    }
  });
});
