// The GitHub client (arctic's OAuth2Client + two REST reads) against the fake GitHub over real HTTP.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startFakeGitHub, type FakeGitHub, type FakeGitHubUser } from '../../../sandbox/github.js';
import { GitHubError, githubAuthorizationUrl, identifyGitHubUser, type GitHubSettings } from '../../../supervisor/auth/github.js';

const CALLBACK = 'http://127.0.0.1:9/auth/github/callback';
const USERS: FakeGitHubUser[] = [
  { id: 7, login: 'octo', emails: [{ email: 'Octo@Example.com', primary: true, verified: true }] },
  { id: 8, login: 'unverified', emails: [{ email: 'u@example.com', primary: true, verified: false }] },
  {
    id: 9,
    login: 'secondary-only',
    emails: [
      { email: 'main@example.com', primary: true, verified: false },
      { email: 'other@example.com', primary: false, verified: true },
    ],
  },
];

const settingsFor = (fake: FakeGitHub, overrides: Partial<GitHubSettings> = {}): GitHubSettings => ({
  ...fake.settings,
  timeoutMs: 2_000,
  ...overrides,
});

/** Plays the browser at GitHub: follows the authorization URL and returns the callback's code. */
async function codeFrom(url: URL, login?: string): Promise<string> {
  if (login) url.searchParams.set('login', login);
  const res = await fetch(url, { redirect: 'manual' });
  const back = new URL(res.headers.get('location')!);
  return back.searchParams.get('code')!;
}

async function failure(promise: Promise<unknown>): Promise<GitHubError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GitHubError) return error;
    throw error;
  }
  throw new Error('expected a GitHubError');
}

t.test('the authorization URL asks for read:user and user:email with state and a S256 challenge', async (t) => {
  const fake = await startFakeGitHub({ users: USERS });
  t.teardown(() => fake.close());
  const url = githubAuthorizationUrl(settingsFor(fake), CALLBACK, 'the-state', 'v'.repeat(43));
  t.equal(`${url.origin}${url.pathname}`, fake.authorizeUrl);
  const q = url.searchParams;
  t.equal(q.get('response_type'), 'code');
  t.equal(q.get('client_id'), fake.clientId);
  t.equal(q.get('redirect_uri'), CALLBACK);
  t.equal(q.get('state'), 'the-state');
  t.equal(q.get('scope'), 'read:user user:email');
  t.equal(q.get('code_challenge_method'), 'S256');
  t.match(q.get('code_challenge'), /^[A-Za-z0-9_-]{43}$/);
});

t.test('a code becomes the user: numeric id as a string, login, primary verified email', async (t) => {
  const fake = await startFakeGitHub({ users: USERS });
  t.teardown(() => fake.close());
  const settings = settingsFor(fake);
  const verifier = 'a'.repeat(43);
  const login = async (who: string) => {
    const code = await codeFrom(githubAuthorizationUrl(settings, CALLBACK, 's', verifier), who);
    return identifyGitHubUser(settings, { redirectUri: CALLBACK, code, codeVerifier: verifier });
  };
  t.same(await login('octo'), { githubId: '7', login: 'octo', primaryVerifiedEmail: 'octo@example.com' });
  t.same(await login('unverified'), { githubId: '8', login: 'unverified', primaryVerifiedEmail: null }, 'an unverified primary counts for nothing');
  t.same(await login('secondary-only'), { githubId: '9', login: 'secondary-only', primaryVerifiedEmail: null }, 'a verified secondary is not used');

  const reads = fake.requests.filter((r) => r.path === '/user' || r.path === '/user/emails');
  t.ok(reads.length >= 2);
  for (const r of reads) {
    t.match(r, { method: 'GET', accept: 'application/vnd.github+json', authorization: /^Bearer gho_/, userAgent: 'TuitBot-Cloud' }, `${r.path} headers`);
  }
  const exchange = fake.requests.find((r) => r.path === '/login/oauth/access_token');
  t.match(exchange, { method: 'POST', accept: 'application/json', authorization: /^Basic / }, 'arctic sends the secret as HTTP Basic');
});

t.test('refusals and outages are GitHubErrors with a plain code', async (t) => {
  const fake = await startFakeGitHub({ users: USERS });
  t.teardown(() => fake.close());
  const verifier = 'b'.repeat(43);
  const attempt = async (settings: GitHubSettings, codeVerifier = verifier) => {
    const code = await codeFrom(githubAuthorizationUrl(settingsFor(fake), CALLBACK, 's', verifier), 'octo');
    return failure(identifyGitHubUser(settings, { redirectUri: CALLBACK, code, codeVerifier }));
  };

  t.test('a wrong client secret: github_failed', async (t) => {
    const error = await attempt(settingsFor(fake, { clientSecret: 'wrong' }));
    t.equal(error.code, 'github_failed');
    t.match(error.message, /incorrect_client_credentials/);
  });

  t.test('a wrong code verifier: github_failed', async (t) => {
    const error = await attempt(settingsFor(fake), 'c'.repeat(43));
    t.equal(error.code, 'github_failed');
    t.match(error.message, /bad_verification_code/);
  });

  t.test('an unknown code: github_failed', async (t) => {
    const error = await failure(identifyGitHubUser(settingsFor(fake), { redirectUri: CALLBACK, code: 'deadbeef', codeVerifier: verifier }));
    t.equal(error.code, 'github_failed');
  });

  t.test('a slow GitHub: github_unavailable at the timeout, not later', async (t) => {
    const code = await codeFrom(githubAuthorizationUrl(settingsFor(fake), CALLBACK, 's', verifier), 'octo');
    fake.setLatency(3_000);
    t.teardown(() => fake.setLatency(0));
    const started = Date.now();
    const error = await failure(identifyGitHubUser(settingsFor(fake, { timeoutMs: 200 }), { redirectUri: CALLBACK, code, codeVerifier: verifier }));
    t.equal(error.code, 'github_unavailable');
    t.match(error.message, /timed out after 200 ms/);
    t.ok(Date.now() - started < 1_500, 'gave up at the deadline');
  });

  t.test('an API answering 500 or garbage: github_unavailable', async (t) => {
    let answer = { status: 500, body: 'oops' };
    const broken = createServer((_req, res) => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => broken.close(() => resolve())));
    const apiUrl = `http://127.0.0.1:${(broken.address() as AddressInfo).port}`;
    t.equal((await attempt(settingsFor(fake, { apiUrl }))).code, 'github_unavailable');
    answer = { status: 200, body: '{"id":"not-a-number","login":3}' };
    t.equal((await attempt(settingsFor(fake, { apiUrl }))).code, 'github_unavailable');
  });

  t.test('GitHub down (connection refused): github_unavailable', async (t) => {
    const down = await startFakeGitHub({ users: USERS });
    await down.close();
    const error = await failure(
      identifyGitHubUser(settingsFor(down), { redirectUri: CALLBACK, code: 'x', codeVerifier: verifier }),
    );
    t.equal(error.code, 'github_unavailable');
  });
});
