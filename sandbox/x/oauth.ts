/**
 * X's OAuth 2.0 authorization server, as the fake X serves it: authorization code with PKCE, a
 * consent page, rotating refresh tokens and revocation.
 *
 *   GET  /i/oauth2/authorize   validates client and redirect_uri first (an error page otherwise: never
 *                              a redirect to an unvalidated URI), then renders the consent page
 *   POST /i/oauth2/authorize   the page's Authorize / Deny forms → 302 to redirect_uri
 *   POST /2/oauth2/token       authorization_code and refresh_token grants, form-encoded
 *   POST /2/oauth2/revoke      token (+ token_type_hint) → { revoked: true }
 *
 * The model: a consent creates a *grant* (user, client, scopes). Access and refresh tokens belong to a
 * grant. Codes live 30 s and work once. Refresh tokens rotate: each works once, and using it issues a
 * new pair (the previous access token still works until it expires, as on X). Revoking a refresh
 * token, or the user removing the app (`revokeApp`), ends the whole grant.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { escapeHtml, formDecoded, parseBasic, redirectTo, sameText, sendHtml, sendJson } from './http.js';

export interface FakeXClient {
  clientId: string;
  /** null: a public client, which sends client_id in the body instead of HTTP Basic. */
  clientSecret: string | null;
  /** Shown on the consent page. */
  name?: string;
  /** The app's registered callback URLs; unset accepts any absolute http(s) URL (a sandbox convenience). */
  redirectUris?: string[];
}

/** The scopes X knows; anything else is invalid_scope. */
const KNOWN_SCOPES = new Set([
  'tweet.read', 'tweet.write', 'tweet.moderate.write', 'users.read', 'users.email', 'follows.read', 'follows.write',
  'offline.access', 'space.read', 'mute.read', 'mute.write', 'like.read', 'like.write', 'list.read', 'list.write',
  'block.read', 'block.write', 'bookmark.read', 'bookmark.write', 'media.write', 'dm.read', 'dm.write',
]);

const CODE_TTL_MS = 30_000;
const CONSENT_TTL_MS = 10 * 60_000;
const USERNAME = /^[A-Za-z0-9_]{1,15}$/;

interface ConsentRequest {
  client: FakeXClient;
  redirectUri: string;
  state: string;
  scopes: string[];
  challenge: string;
  challengeMethod: 'S256' | 'plain';
  expiresAt: number;
}

interface Code {
  grantId: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  challengeMethod: 'S256' | 'plain';
  expiresAt: number;
}

interface Grant {
  id: string;
  userId: string;
  clientId: string;
  scopes: string[];
  alive: boolean;
}

export interface Authenticated {
  userId: string;
  scopes: readonly string[];
}

export interface OAuthServerOptions {
  clients: FakeXClient[];
  accessTokenTtlSeconds: number;
  now: () => number;
  /** The X account behind a username, created on first consent. */
  ensureUser: (username: string) => { id: string; username: string };
  userIdOf: (username: string) => string | undefined;
}

export class FakeXOAuth {
  readonly #options: OAuthServerOptions;
  readonly #consents = new Map<string, ConsentRequest>();
  readonly #codes = new Map<string, Code>();
  readonly #grants = new Map<string, Grant>();
  readonly #access = new Map<string, { grantId: string; expiresAt: number }>();
  readonly #refresh = new Map<string, { grantId: string; used: boolean }>();

  constructor(options: OAuthServerOptions) {
    this.#options = options;
  }

  /** Who a bearer token acts for, 'invalid' when it is unknown, expired or revoked. */
  authenticate(token: string): Authenticated | 'invalid' {
    const access = this.#access.get(token);
    const grant = access && this.#grants.get(access.grantId);
    if (!access || !grant?.alive || access.expiresAt <= this.#options.now()) return 'invalid';
    return { userId: grant.userId, scopes: grant.scopes };
  }

  /** The user removes the app in X's settings: every grant of theirs ends. */
  revokeUser(username: string): void {
    const userId = this.#options.userIdOf(username);
    for (const grant of this.#grants.values()) if (grant.userId === userId) grant.alive = false;
  }

  authorizePage(url: URL, res: ServerResponse): void {
    const q = url.searchParams;
    const client = this.#options.clients.find((c) => c.clientId === q.get('client_id'));
    if (!client) return errorPage(res, 400, 'This app is not registered with X (unknown client_id).');
    const redirectUri = q.get('redirect_uri') ?? '';
    if (!validRedirect(client, redirectUri)) return errorPage(res, 400, 'The redirect_uri is not a callback URL registered for this app.');

    // From here on the redirect_uri is trusted, so errors go back to the app, as on X.
    const state = q.get('state');
    const back = (error: string, description: string) => redirectTo(res, withParams(redirectUri, { error, error_description: description, ...(state !== null && { state }) }));
    if (q.get('response_type') !== 'code') return back('unsupported_response_type', 'response_type must be code.');
    if (!state) return back('invalid_request', 'state is required.');
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method') ?? 'plain';
    if (!challenge || (method !== 'S256' && method !== 'plain')) return back('invalid_request', 'A PKCE code_challenge (S256 or plain) is required.');
    const scopes = (q.get('scope') ?? '').split(' ').filter(Boolean);
    const unknown = scopes.find((s) => !KNOWN_SCOPES.has(s));
    if (scopes.length === 0 || unknown !== undefined) return back('invalid_scope', `Unknown or missing scope${unknown ? `: ${unknown}` : ''}.`);

    const id = randomBytes(16).toString('base64url');
    this.#consents.set(id, { client, redirectUri, state, scopes, challenge, challengeMethod: method, expiresAt: this.#options.now() + CONSENT_TTL_MS });
    sendHtml(res, 200, consentPage(id, client, scopes, 'sandbox_founder', null));
  }

  consent(form: URLSearchParams, res: ServerResponse): void {
    const id = form.get('request') ?? '';
    const request = this.#consents.get(id);
    if (!request || request.expiresAt <= this.#options.now()) {
      this.#consents.delete(id);
      return errorPage(res, 400, 'This authorization request has expired or was already answered. Start again from the app.');
    }
    if (form.get('decision') === 'deny') {
      this.#consents.delete(id);
      return redirectTo(res, withParams(request.redirectUri, { error: 'access_denied', state: request.state }));
    }
    const username = (form.get('username') ?? '').trim().replace(/^@/, '');
    if (!USERNAME.test(username)) {
      return sendHtml(res, 400, consentPage(id, request.client, request.scopes, username, 'A username is 1 to 15 letters, digits or underscores.'));
    }
    this.#consents.delete(id);
    const user = this.#options.ensureUser(username);
    const grant: Grant = { id: randomBytes(12).toString('hex'), userId: user.id, clientId: request.client.clientId, scopes: request.scopes, alive: true };
    this.#grants.set(grant.id, grant);
    const code = randomBytes(32).toString('base64url');
    this.#codes.set(code, {
      grantId: grant.id,
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      challenge: request.challenge,
      challengeMethod: request.challengeMethod,
      expiresAt: this.#options.now() + CODE_TTL_MS,
    });
    redirectTo(res, withParams(request.redirectUri, { state: request.state, code }));
  }

  token(req: IncomingMessage, form: URLSearchParams, res: ServerResponse): void {
    const client = this.#authenticateClient(req, form);
    if (client === null) return sendJson(res, 401, { error: 'invalid_client', error_description: 'Missing or invalid client authentication.' });
    const grantType = form.get('grant_type');
    if (grantType === 'authorization_code') return this.#exchangeCode(client, form, res);
    if (grantType === 'refresh_token') return this.#refreshGrant(client, form, res);
    sendJson(res, 400, { error: 'unsupported_grant_type', error_description: 'grant_type must be authorization_code or refresh_token.' });
  }

  revoke(req: IncomingMessage, form: URLSearchParams, res: ServerResponse): void {
    const client = this.#authenticateClient(req, form);
    if (client === null) return sendJson(res, 401, { error: 'invalid_client', error_description: 'Missing or invalid client authentication.' });
    const token = form.get('token');
    if (!token) return sendJson(res, 400, { error: 'invalid_request', error_description: 'token is required.' });
    // RFC 7009: an unknown token is not an error, so revocation can be retried safely.
    const access = this.#access.get(token);
    if (access && this.#grants.get(access.grantId)?.clientId === client.clientId) this.#access.delete(token);
    const refresh = this.#refresh.get(token);
    const grant = refresh && this.#grants.get(refresh.grantId);
    if (grant && grant.clientId === client.clientId) grant.alive = false;
    sendJson(res, 200, { revoked: true });
  }

  #authenticateClient(req: IncomingMessage, form: URLSearchParams): FakeXClient | null {
    const basic = parseBasic(req.headers.authorization);
    if (basic) {
      const client = this.#options.clients.find((c) => c.clientId === basic.user || c.clientId === formDecoded(basic.user));
      const secret = client?.clientSecret ?? null;
      return client && secret !== null && (sameText(basic.password, secret) || sameText(formDecoded(basic.password), secret)) ? client : null;
    }
    // Without Basic only a public client may identify itself by client_id alone.
    const client = this.#options.clients.find((c) => c.clientId === form.get('client_id'));
    return client && client.clientSecret === null ? client : null;
  }

  #exchangeCode(client: FakeXClient, form: URLSearchParams, res: ServerResponse): void {
    const codeText = form.get('code');
    const redirectUri = form.get('redirect_uri');
    const verifier = form.get('code_verifier');
    if (!codeText || !redirectUri || !verifier) {
      return sendJson(res, 400, { error: 'invalid_request', error_description: 'code, redirect_uri and code_verifier are required.' });
    }
    const code = this.#codes.get(codeText);
    this.#codes.delete(codeText); // single use, whatever happens next
    const invalid = (description: string) => sendJson(res, 400, { error: 'invalid_grant', error_description: description });
    if (!code || code.expiresAt <= this.#options.now() || code.clientId !== client.clientId) return invalid('Value passed for the authorization code was invalid or expired.');
    if (code.redirectUri !== redirectUri) return invalid('redirect_uri does not match the one the code was issued for.');
    const computed = code.challengeMethod === 'S256' ? createHash('sha256').update(verifier).digest('base64url') : verifier;
    if (!sameText(computed, code.challenge)) return invalid('code_verifier does not match the code_challenge.');
    const grant = this.#grants.get(code.grantId);
    if (!grant?.alive) return invalid('The authorization was revoked.');
    sendJson(res, 200, this.#issue(grant), { 'Cache-Control': 'no-store' });
  }

  #refreshGrant(client: FakeXClient, form: URLSearchParams, res: ServerResponse): void {
    const token = form.get('refresh_token');
    if (!token) return sendJson(res, 400, { error: 'invalid_request', error_description: 'refresh_token is required.' });
    const refresh = this.#refresh.get(token);
    const grant = refresh && this.#grants.get(refresh.grantId);
    if (!refresh || !grant || refresh.used || !grant.alive || grant.clientId !== client.clientId) {
      return sendJson(res, 400, { error: 'invalid_grant', error_description: 'Value passed for the token was invalid.' });
    }
    refresh.used = true;
    sendJson(res, 200, this.#issue(grant), { 'Cache-Control': 'no-store' });
  }

  #issue(grant: Grant) {
    const ttl = this.#options.accessTokenTtlSeconds;
    const accessToken = randomBytes(48).toString('base64url');
    this.#access.set(accessToken, { grantId: grant.id, expiresAt: this.#options.now() + ttl * 1000 });
    const body: { token_type: 'bearer'; expires_in: number; access_token: string; scope: string; refresh_token?: string } = {
      token_type: 'bearer',
      expires_in: ttl,
      access_token: accessToken,
      scope: grant.scopes.join(' '),
    };
    if (grant.scopes.includes('offline.access')) {
      body.refresh_token = randomBytes(48).toString('base64url');
      this.#refresh.set(body.refresh_token, { grantId: grant.id, used: false });
    }
    return body;
  }
}

function validRedirect(client: FakeXClient, uri: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return false;
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hash !== '') return false;
  return client.redirectUris === undefined || client.redirectUris.includes(uri);
}

function withParams(uri: string, params: Record<string, string>): string {
  const url = new URL(uri);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

const SCOPE_TEXT: Record<string, string> = {
  'tweet.read': 'Read posts you can see, including from protected accounts',
  'tweet.write': 'Post and repost for you',
  'users.read': 'Read any account you can view',
  'offline.access': 'Stay connected until you revoke access',
  'media.write': 'Upload media for you',
};

const STYLE = 'body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#0f1419}'
  + '.banner{background:#fff4cc;border:1px solid #e6c200;padding:.6rem .8rem;border-radius:6px}'
  + 'button{font-size:1rem;padding:.5rem 1.2rem;border-radius:999px;border:1px solid #0f1419;margin-right:.5rem;cursor:pointer}'
  + '.go{background:#0f1419;color:#fff}.err{color:#b00020}';

function consentPage(requestId: string, client: FakeXClient, scopes: string[], username: string, error: string | null): string {
  const app = escapeHtml(client.name ?? client.clientId);
  const id = escapeHtml(requestId);
  const items = scopes.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)} <code>${escapeHtml(s)}</code></li>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Authorize ${app} — Sandbox X</title><style>${STYLE}</style></head><body>
<p class="banner"><strong>Sandbox X — nothing is posted to the real X.</strong> This page imitates X's consent screen.</p>
<h1>${app} wants to access your X account</h1>
<p>It will be able to:</p><ul>${items}</ul>
${error === null ? '' : `<p class="err">${escapeHtml(error)}</p>`}
<form method="post" action="/i/oauth2/authorize">
<input type="hidden" name="request" value="${id}"><input type="hidden" name="decision" value="authorize">
<label>Sign in as @<input name="username" value="${escapeHtml(username)}" maxlength="16" autocomplete="username"></label>
<p><button class="go" type="submit">Authorize app</button></p>
</form>
<form method="post" action="/i/oauth2/authorize">
<input type="hidden" name="request" value="${id}"><input type="hidden" name="decision" value="deny">
<button type="submit">Deny</button>
</form>
</body></html>`;
}

function errorPage(res: ServerResponse, status: number, message: string): void {
  sendHtml(res, status, `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sandbox X</title><style>${STYLE}</style></head><body>
<p class="banner"><strong>Sandbox X — nothing is posted to the real X.</strong></p>
<h1>Something went wrong</h1><p>${escapeHtml(message)}</p></body></html>`);
}
