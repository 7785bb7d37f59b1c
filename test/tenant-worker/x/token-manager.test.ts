// The token manager keeps the X token fresh against the sandbox X: refresh before expiry with
// rotation, one shared refresh for concurrent callers, and a clean stop on invalid_grant.
import t from 'tap';
import { XAuthExpiredError } from '../../../tenant-worker/x/errors.js';
import { TokenManager } from '../../../tenant-worker/x/token-manager.js';
import { basicAuth, harness, tokenRequest } from '../../helpers/x-client.js';

const refreshCalls = (h: { fake: { requests: { path: string; body: unknown }[] } }) =>
  h.fake.requests.filter((r) => r.path === '/2/oauth2/token' && (r.body as Record<string, string>)['grant_type'] === 'refresh_token').length;

t.test('a token with more than 5 minutes left is used as it is', async (t) => {
  const h = await harness(t);
  const before = h.store.tokens!.accessToken;
  t.equal(await h.tokens.accessToken(), before);
  t.equal(refreshCalls(h), 0);
});

t.test('under 5 minutes left it refreshes, saves the rotated pair, and X refuses the old refresh token', async (t) => {
  const h = await harness(t);
  const old = h.store.tokens!;
  h.clock.now = old.expiresAt - 4 * 60_000;
  const fresh = await h.tokens.accessToken();
  t.not(fresh, old.accessToken);
  t.equal(h.store.saves.length, 1);
  t.equal(h.store.tokens!.accessToken, fresh);
  t.not(h.store.tokens!.refreshToken, old.refreshToken);
  t.equal(h.store.tokens!.expiresAt, h.clock.now + 7200_000);
  t.equal(h.store.tokens!.scope, old.scope);
  const replay = await tokenRequest(h.fake, { grant_type: 'refresh_token', refresh_token: old.refreshToken! });
  t.equal(replay.body['error'], 'invalid_grant', 'the old refresh token is dead');
  t.equal((await h.client.me()).username, 'sandbox_founder', 'the new token works');
});

t.test('concurrent callers share one refresh', async (t) => {
  const h = await harness(t);
  h.clock.now = h.store.tokens!.expiresAt - 60_000;
  const tokens = await Promise.all(Array.from({ length: 8 }, () => h.tokens.accessToken()));
  t.equal(new Set(tokens).size, 1);
  t.equal(refreshCalls(h), 1);
  t.equal(h.store.saves.length, 1);
});

t.test('a confidential client refreshes with HTTP Basic, a public one with client_id in the body', async (t) => {
  const confidential = await harness(t);
  confidential.clock.now = confidential.store.tokens!.expiresAt - 60_000;
  await confidential.tokens.accessToken();
  t.notOk('client_id' in (confidential.fake.requests.at(-1)!.body as object), 'Basic, which the fake requires of a confidential client');

  const pub = await harness(t, { fake: { clients: [{ clientId: 'public-app', clientSecret: null }] } });
  t.equal(pub.fake.settings.clientSecret, null);
  pub.clock.now = pub.store.tokens!.expiresAt - 60_000;
  const before = pub.store.tokens!.accessToken;
  t.not(await pub.tokens.accessToken(), before);
  t.match(pub.fake.requests.at(-1), { status: 200, body: { grant_type: 'refresh_token', client_id: 'public-app' } });
});

t.test('invalid_grant marks X disconnected once and never calls X again until a new connection is saved', async (t) => {
  const h = await harness(t);
  h.fake.revokeApp('sandbox_founder');
  h.clock.now = h.store.tokens!.expiresAt - 60_000;
  const stale = h.store.tokens!;
  await t.rejects(h.tokens.accessToken(), XAuthExpiredError);
  t.equal(h.store.disconnects.length, 1);
  t.match(h.store.disconnects[0], /invalid_grant/);
  const calls = h.fake.requests.length;
  for (let i = 0; i < 5; i++) await t.rejects(h.client.searchRecent('typescript'), XAuthExpiredError);
  // Even a store that still returns the refused tokens does not make it spin.
  h.store.tokens = stale;
  for (let i = 0; i < 5; i++) await t.rejects(h.tokens.accessToken(), XAuthExpiredError);
  t.equal(h.fake.requests.length, calls, 'no request reached X');
  t.equal(h.store.disconnects.length, 1);

  const { connect } = await import('../../helpers/x-client.js');
  h.store.save(await connect(h.fake, { now: () => h.clock.now }));
  t.equal((await h.client.me()).username, 'sandbox_founder', 'a new connection works at once');
});

t.test('a 401 from the API triggers one refresh and one retry; a second 401 is XAuthExpiredError', async (t) => {
  const h = await harness(t);
  // The server forgets the access token (e.g. X revoked it) while the refresh token still works.
  const revoke = await fetch(h.fake.settings.revokeUrl, {
    method: 'POST',
    headers: { authorization: basicAuth(h.fake.settings.clientId, h.fake.settings.clientSecret!), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: h.store.tokens!.accessToken, token_type_hint: 'access_token' }).toString(),
  });
  t.equal(revoke.status, 200);
  t.equal((await h.client.me()).username, 'sandbox_founder');
  t.equal(refreshCalls(h), 1);
  t.same(h.fake.requests.filter((r) => r.path === '/2/users/me').map((r) => r.status), [401, 200]);

  h.fake.revokeApp('sandbox_founder');
  await t.rejects(h.client.me(), XAuthExpiredError);
  t.equal(h.store.disconnects.length, 1, 'the refresh after the 401 met invalid_grant');
});

t.test('without a refresh token the token is used until it expires, then X is disconnected', async (t) => {
  const h = await harness(t);
  h.store.tokens = { ...h.store.tokens!, refreshToken: null };
  h.clock.now = h.store.tokens.expiresAt - 60_000;
  t.equal(await h.tokens.accessToken(), h.store.tokens.accessToken);
  h.clock.now = h.store.tokens.expiresAt + 1;
  await t.rejects(h.tokens.accessToken(), XAuthExpiredError);
  t.equal(h.store.disconnects.length, 1);
  t.equal(refreshCalls(h), 0);
});

t.test('not connected: XAuthExpiredError without any call', async (t) => {
  const h = await harness(t);
  h.store.tokens = null;
  await t.rejects(h.client.mentions('1'), XAuthExpiredError);
});
