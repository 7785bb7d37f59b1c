/**
 * The GitHub side of "Log in with GitHub": the authorization URL (state + PKCE S256), the code
 * exchange (arctic's generic OAuth2Client, so every endpoint is a setting), and the two reads that
 * say who the user is: `GET /user` and `GET /user/emails`.
 *
 * Only a **primary and verified** address counts as the user's email: an unverified one proves
 * nothing, and a secondary one may be an old address that now belongs to someone else.
 *
 * Failures are a GitHubError with a plain code: `github_failed` when GitHub refused (a bad or used
 * code, wrong client credentials), `github_unavailable` when it could not be asked or answered
 * nonsense (network, timeout, 5xx, an unexpected body). Messages never carry a code or a token.
 */
import { CodeChallengeMethod, OAuth2Client, OAuth2RequestError } from 'arctic';
import * as v from 'valibot';

export interface GitHubSettings {
  clientId: string;
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  /** https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise. */
  apiUrl: string;
  /** Per call; default 10 s. */
  timeoutMs?: number;
  userAgent?: string;
}

export interface GitHubIdentity {
  /** GitHub's numeric user id, as a string: logins can be renamed, ids cannot. */
  githubId: string;
  login: string;
  primaryVerifiedEmail: string | null;
}

export type GitHubErrorCode = 'github_failed' | 'github_unavailable';

export class GitHubError extends Error {
  override readonly name = 'GitHubError';
  constructor(
    readonly code: GitHubErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Enough to read the profile and every address with its verified flag; nothing else. */
export const GITHUB_SCOPES = ['read:user', 'user:email'];
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_USER_AGENT = 'TuitBot-Cloud';

const UserSchema = v.object({ id: v.pipe(v.number(), v.integer(), v.minValue(1)), login: v.pipe(v.string(), v.minLength(1)) });
const EmailsSchema = v.array(v.object({ email: v.string(), primary: v.boolean(), verified: v.boolean() }));

function client(settings: GitHubSettings, redirectUri: string): OAuth2Client {
  return new OAuth2Client(settings.clientId, settings.clientSecret, redirectUri);
}

/** Where to send the browser; `state` and `codeVerifier` must be kept (cookies) for the callback. */
export function githubAuthorizationUrl(settings: GitHubSettings, redirectUri: string, state: string, codeVerifier: string): URL {
  return client(settings, redirectUri).createAuthorizationURLWithPKCE(settings.authorizeUrl, state, CodeChallengeMethod.S256, codeVerifier, GITHUB_SCOPES);
}

/** Exchanges the callback's code for an access token. */
export async function exchangeGitHubCode(settings: GitHubSettings, redirectUri: string, code: string, codeVerifier: string): Promise<string> {
  let data: object;
  try {
    // arctic sends the request itself and takes no AbortSignal, so the deadline is a race: the
    // callback stops waiting at the timeout; the orphaned request is left to undici's own timeouts.
    const tokens = await deadline(client(settings, redirectUri).validateAuthorizationCode(settings.tokenUrl, code, codeVerifier), timeoutOf(settings), 'token exchange');
    data = tokens.data;
  } catch (error) {
    if (error instanceof GitHubError) throw error;
    if (error instanceof OAuth2RequestError) throw new GitHubError('github_failed', `GitHub refused the code: ${error.code}`, { cause: error });
    throw new GitHubError('github_unavailable', `GitHub token endpoint failed: ${(error as Error).message}`, { cause: error });
  }
  // GitHub answers a refused exchange with HTTP 200 and `{ error, error_description }`.
  const record = data as Record<string, unknown>;
  if (typeof record['error'] === 'string') throw new GitHubError('github_failed', `GitHub refused the code: ${record['error']}`);
  if (typeof record['access_token'] !== 'string' || record['access_token'] === '') {
    throw new GitHubError('github_unavailable', 'GitHub token endpoint answered without an access_token');
  }
  return record['access_token'];
}

/** Who the token belongs to, and their primary verified email if they have one. */
export async function fetchGitHubIdentity(settings: GitHubSettings, accessToken: string): Promise<GitHubIdentity> {
  const [user, emails] = await Promise.all([
    getJson(settings, accessToken, '/user', UserSchema),
    getJson(settings, accessToken, '/user/emails', EmailsSchema),
  ]);
  const primary = emails.find((e) => e.primary && e.verified);
  return { githubId: String(user.id), login: user.login, primaryVerifiedEmail: primary ? primary.email.trim().toLowerCase() : null };
}

/** The whole callback step: code → token → identity. */
export async function identifyGitHubUser(settings: GitHubSettings, input: { redirectUri: string; code: string; codeVerifier: string }): Promise<GitHubIdentity> {
  const token = await exchangeGitHubCode(settings, input.redirectUri, input.code, input.codeVerifier);
  return fetchGitHubIdentity(settings, token);
}

async function getJson<S extends v.GenericSchema>(settings: GitHubSettings, accessToken: string, path: string, schema: S): Promise<v.InferOutput<S>> {
  const url = `${settings.apiUrl.replace(/\/+$/, '')}${path}`;
  let response: Response;
  let body: unknown;
  try {
    response = await fetch(url, {
      headers: {
        Authorization: `Bearer ${accessToken}`,
        Accept: 'application/vnd.github+json',
        'X-GitHub-Api-Version': '2022-11-28',
        'User-Agent': settings.userAgent ?? DEFAULT_USER_AGENT,
      },
      signal: AbortSignal.timeout(timeoutOf(settings)),
    });
    body = response.ok ? await response.json() : await response.text().catch(() => null);
  } catch (error) {
    const what = (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutOf(settings)} ms` : (error as Error).message;
    throw new GitHubError('github_unavailable', `GET ${path} failed: ${what}`, { cause: error });
  }
  if (response.status === 401 || response.status === 403 || response.status === 404) {
    throw new GitHubError('github_failed', `GET ${path} answered ${response.status}`);
  }
  if (!response.ok) throw new GitHubError('github_unavailable', `GET ${path} answered ${response.status}`);
  const parsed = v.safeParse(schema, body);
  if (!parsed.success) throw new GitHubError('github_unavailable', `GET ${path} answered an unexpected body`);
  return parsed.output;
}

function timeoutOf(settings: GitHubSettings): number {
  return settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
}

function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new GitHubError('github_unavailable', `${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
