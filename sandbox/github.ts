/**
 * A fake GitHub for tests and the sandbox: the OAuth web flow and the two REST endpoints "Log in
 * with GitHub" reads, on one node:http server, speaking GitHub's wire format.
 *
 *   GET  /login/oauth/authorize     no login page: answers at once with a 302 back to redirect_uri,
 *                                   as the current user (or the `login` hint), or access_denied
 *   POST /login/oauth/access_token  form or JSON body; client secret in the body or HTTP Basic;
 *                                   PKCE S256 checked; errors are HTTP 200 with `{ error }`, as GitHub does
 *   GET  /user, GET /user/emails    `Authorization: Bearer|token <token>`, a User-Agent required
 *
 * Codes are single-use (a failed exchange burns the code too) and expire after 10 minutes; tokens
 * live as long as the server. The API is served at the root, so `apiUrl` is the server's own URL.
 * Never imported by production code paths outside the sandbox switch.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GitHubSettings } from '../supervisor/auth/github.js';

export interface FakeGitHubEmail {
  email: string;
  primary: boolean;
  verified: boolean;
  /** GitHub reports 'public' or 'private' for the primary address and null for the others. */
  visibility?: 'public' | 'private' | null;
}

export interface FakeGitHubUser {
  id: number;
  login: string;
  name?: string | null;
  emails: FakeGitHubEmail[];
}

export interface FakeGitHubOptions {
  host?: string;
  port?: number;
  clientId?: string;
  clientSecret?: string;
  /** When set, authorize and token requests must use exactly this redirect_uri. */
  callbackUrl?: string;
  users?: FakeGitHubUser[];
  /** Who "is logged in to GitHub"; defaults to the first user; null denies every authorization. */
  currentUser?: number | null;
  codeTtlMs?: number;
}

export interface FakeGitHub {
  url: string;
  authorizeUrl: string;
  tokenUrl: string;
  apiUrl: string;
  clientId: string;
  clientSecret: string;
  /** Everything our GitHub client needs to talk to this fake. */
  settings: GitHubSettings;
  /** Chooses who logs in next; null makes the user click "Cancel" (error=access_denied). */
  setCurrentUser(id: number | null): void;
  /** Adds a user or replaces the one with the same id (e.g. to verify an email later). */
  putUser(user: FakeGitHubUser): void;
  /** Delays every answer, to exercise client timeouts. */
  setLatency(ms: number): void;
  /** Requests seen, newest last (method, path, and the headers tests care about). */
  requests: { method: string; path: string; accept?: string; authorization?: string; userAgent?: string }[];
  close(): Promise<void>;
}

const SANDBOX_USER: FakeGitHubUser = {
  id: 1_000_001,
  login: 'sandbox-octocat',
  name: 'Sandbox Octocat',
  emails: [{ email: 'octocat@sandbox.tuitbot.invalid', primary: true, verified: true, visibility: 'private' }],
};

interface PendingCode {
  clientId: string;
  userId: number;
  redirectUri: string | null;
  codeChallenge: string | null;
  scopes: string[];
  expiresAt: number;
}

const DOCS = 'https://docs.github.com/rest';
const ERROR_URI = '/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/';

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  const clientId = options.clientId ?? 'sandbox-github-client';
  const clientSecret = options.clientSecret ?? 'sandbox-github-secret';
  const codeTtlMs = options.codeTtlMs ?? 10 * 60 * 1000;
  const users = new Map<number, FakeGitHubUser>();
  for (const user of options.users ?? [SANDBOX_USER]) users.set(user.id, user);
  let currentUser: number | null = options.currentUser !== undefined ? options.currentUser : ([...users.keys()][0] ?? null);
  let latencyMs = 0;
  const codes = new Map<string, PendingCode>();
  const tokens = new Map<string, { userId: number; scopes: string[] }>();
  const requests: FakeGitHub['requests'] = [];

  function authorize(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    if (q.get('client_id') !== clientId) return send(res, 404, 'text/html; charset=utf-8', '<h1>404: this OAuth app is not found</h1>');
    const redirectUri = q.get('redirect_uri') ?? options.callbackUrl ?? null;
    if (redirectUri === null || !/^https?:\/\//.test(redirectUri)) return send(res, 400, 'text/plain', 'redirect_uri is required');
    const back = new URL(redirectUri);
    const state = q.get('state');
    const fail = (error: string, description: string) => {
      back.searchParams.set('error', error);
      back.searchParams.set('error_description', description);
      back.searchParams.set('error_uri', `https://docs.github.com${ERROR_URI}`);
      if (state !== null) back.searchParams.set('state', state);
      redirectTo(res, back.href);
    };
    if (options.callbackUrl !== undefined && redirectUri !== options.callbackUrl) {
      return fail('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
    }
    const challenge = q.get('code_challenge');
    if (challenge !== null && q.get('code_challenge_method') !== 'S256') {
      return fail('invalid_request', 'code_challenge_method must be S256.');
    }
    // `login` is GitHub's own hint for which account to sign in with; here it simply picks the user.
    const hinted = q.get('login');
    const user = hinted !== null ? [...users.values()].find((u) => u.login.toLowerCase() === hinted.toLowerCase()) : currentUser === null ? undefined : users.get(currentUser);
    if (!user) return fail('access_denied', 'The user has denied your application access.');
    const code = randomBytes(10).toString('hex');
    codes.set(code, {
      clientId,
      userId: user.id,
      redirectUri: q.get('redirect_uri'),
      codeChallenge: challenge,
      scopes: (q.get('scope') ?? '').split(/[ ,]+/).filter(Boolean),
      expiresAt: Date.now() + codeTtlMs,
    });
    back.searchParams.set('code', code);
    if (state !== null) back.searchParams.set('state', state);
    redirectTo(res, back.href);
  }

  function accessToken(req: IncomingMessage, body: string, res: ServerResponse): void {
    const params = parseBody(req.headers['content-type'], body);
    const basic = parseBasic(req.headers.authorization);
    const id = basic?.user ?? params.get('client_id');
    const secret = basic?.password ?? params.get('client_secret');
    const answer = (value: Record<string, string>) => {
      // GitHub answers 200 for errors too; the format follows Accept (form-encoded by default).
      if (/application\/json/.test(req.headers.accept ?? '')) return send(res, 200, 'application/json; charset=utf-8', JSON.stringify(value));
      send(res, 200, 'application/x-www-form-urlencoded; charset=utf-8', new URLSearchParams(value).toString());
    };
    const error = (code: string, description: string) => answer({ error: code, error_description: description, error_uri: `https://docs.github.com${ERROR_URI}#${code.replaceAll('_', '-')}` });
    if (id !== clientId || secret === null || !sameText(secret, clientSecret)) {
      return error('incorrect_client_credentials', 'The client_id and/or client_secret passed are incorrect.');
    }
    const code = params.get('code') ?? '';
    const pending = codes.get(code);
    codes.delete(code); // single use, whatever happens next
    if (!pending || pending.clientId !== id || pending.expiresAt <= Date.now()) {
      return error('bad_verification_code', 'The code passed is incorrect or expired.');
    }
    const redirectUri = params.get('redirect_uri');
    if (redirectUri !== null && pending.redirectUri !== null && redirectUri !== pending.redirectUri) {
      return error('redirect_uri_mismatch', 'The redirect_uri MUST match the registered callback URL for this application.');
    }
    if (pending.codeChallenge !== null) {
      const verifier = params.get('code_verifier') ?? '';
      const computed = createHash('sha256').update(verifier).digest('base64url');
      if (!sameText(computed, pending.codeChallenge)) return error('bad_verification_code', 'The code_verifier does not match the code_challenge.');
    }
    const token = `gho_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x')}`;
    tokens.set(token, { userId: pending.userId, scopes: pending.scopes });
    answer({ access_token: token, token_type: 'bearer', scope: pending.scopes.join(',') });
  }

  function api(req: IncomingMessage, path: string, res: ServerResponse): void {
    const jsonReply = (status: number, value: unknown, headers: Record<string, string> = {}) =>
      send(res, status, 'application/json; charset=utf-8', JSON.stringify(value), { 'X-GitHub-Media-Type': 'github.v3; format=json', ...headers });
    if (!req.headers['user-agent']) {
      return send(res, 403, 'text/plain', 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.');
    }
    const header = req.headers.authorization;
    if (!header) return jsonReply(401, { message: 'Requires authentication', documentation_url: DOCS, status: '401' });
    const token = /^(?:Bearer|token) (\S+)$/i.exec(header)?.[1];
    const grant = token ? tokens.get(token) : undefined;
    const user = grant ? users.get(grant.userId) : undefined;
    if (!grant || !user) return jsonReply(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    const scopeHeaders = { 'X-OAuth-Scopes': grant.scopes.join(', '), 'X-Accepted-OAuth-Scopes': path === '/user/emails' ? 'user, user:email' : '' };
    if (path === '/user') return jsonReply(200, userJson(user, url), scopeHeaders);
    if (!grant.scopes.includes('user') && !grant.scopes.includes('user:email')) {
      // GitHub hides endpoints a token has no scope for behind a 404.
      return jsonReply(404, { message: 'Not Found', documentation_url: DOCS, status: '404' }, scopeHeaders);
    }
    jsonReply(
      200,
      user.emails.map((e) => ({ email: e.email, primary: e.primary, verified: e.verified, visibility: e.visibility ?? (e.primary ? 'private' : null) })),
      scopeHeaders,
    );
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = new URL(req.url ?? '/', 'http://fake.github');
      requests.push({
        method: req.method ?? 'GET',
        path: target.pathname,
        ...(req.headers.accept !== undefined && { accept: req.headers.accept }),
        ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }),
        ...(req.headers['user-agent'] !== undefined && { userAgent: req.headers['user-agent'] }),
      });
      const route = `${req.method} ${target.pathname}`;
      const handle = () => {
        if (route === 'GET /login/oauth/authorize') return authorize(target, res);
        if (route === 'POST /login/oauth/access_token') return accessToken(req, Buffer.concat(chunks).toString('utf8'), res);
        if (route === 'GET /user' || route === 'GET /user/emails') return api(req, target.pathname, res);
        send(res, 404, 'application/json; charset=utf-8', JSON.stringify({ message: 'Not Found', documentation_url: DOCS, status: '404' }));
      };
      if (latencyMs > 0) setTimeout(handle, latencyMs).unref();
      else handle();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  const settings: GitHubSettings = {
    clientId,
    clientSecret,
    authorizeUrl: `${url}/login/oauth/authorize`,
    tokenUrl: `${url}/login/oauth/access_token`,
    apiUrl: url,
  };

  return {
    url,
    authorizeUrl: settings.authorizeUrl,
    tokenUrl: settings.tokenUrl,
    apiUrl: settings.apiUrl,
    clientId,
    clientSecret,
    settings,
    requests,
    setCurrentUser: (id) => void (currentUser = id),
    putUser: (user) => void users.set(user.id, user),
    setLatency: (ms) => void (latencyMs = ms),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** GitHub's "private user" object (what `GET /user` answers to its owner), every required field present. */
function userJson(user: FakeGitHubUser, base: string) {
  const primary = user.emails.find((e) => e.primary);
  const publicEmail = primary && (primary.visibility ?? 'private') === 'public' ? primary.email : null;
  const created = '2015-01-01T00:00:00Z';
  const api = `${base}/users/${user.login}`;
  return {
    login: user.login,
    id: user.id,
    node_id: Buffer.from(`04:User${user.id}`).toString('base64'),
    avatar_url: `${base}/avatars/u/${user.id}`,
    gravatar_id: '',
    url: api,
    html_url: `${base}/${user.login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: 'User',
    user_view_type: 'private',
    site_admin: false,
    name: user.name ?? null,
    company: null,
    blog: '',
    location: null,
    email: publicEmail,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: created,
    updated_at: created,
    private_gists: 0,
    total_private_repos: 0,
    owned_private_repos: 0,
    disk_usage: 0,
    collaborators: 0,
    two_factor_authentication: false,
  };
}

function parseBody(contentType: string | undefined, body: string): URLSearchParams {
  if (/application\/json/.test(contentType ?? '')) {
    try {
      const value = JSON.parse(body) as Record<string, unknown>;
      return new URLSearchParams(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      return new URLSearchParams();
    }
  }
  return new URLSearchParams(body);
}

function parseBasic(header: string | undefined): { user: string; password: string } | null {
  const encoded = /^Basic (\S+)$/i.exec(header ?? '')?.[1];
  if (!encoded) return null;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? null : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function redirectTo(res: ServerResponse, location: string): void {
  res.writeHead(302, { Location: location, 'Content-Length': 0 });
  res.end();
}
