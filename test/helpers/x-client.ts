/** Shared setup for the X client tests: a sandbox X on a test clock, a connected account, a real tenant DB. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { openDatabase } from '../../migrations/runner.js';
import type { Ceilings, TenantEvent } from '../../protocol/index.js';
import { startFakeX, type FakeX, type FakeXOptions } from '../../sandbox/x/index.js';
import { XClient, type XClientOptions } from '../../tenant-worker/x/client.js';
import { TokenManager, type TokenStore, type XTokens } from '../../tenant-worker/x/token-manager.js';
import { XBudget } from '../../tenant-worker/x-budget.js';

export const CALLBACK = 'http://127.0.0.1:9/api/x/callback';
export const SCOPES = 'tweet.read tweet.write users.read offline.access media.write';

export function authorizeUrl(fake: FakeX, params: Record<string, string> = {}): { url: string; verifier: string } {
  const verifier = params['verifier'] ?? randomBytes(32).toString('base64url');
  const url = new URL(fake.settings.authorizeUrl);
  const values: Record<string, string> = {
    response_type: 'code',
    client_id: fake.settings.clientId,
    redirect_uri: CALLBACK,
    scope: SCOPES,
    state: 'st4te',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    ...params,
  };
  delete values['verifier'];
  for (const [k, v] of Object.entries(values)) url.searchParams.set(k, v);
  return { url: url.href, verifier };
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export async function tokenRequest(fake: FakeX, form: Record<string, string>, authorization: string | null = basicAuth(fake.settings.clientId, fake.settings.clientSecret ?? '')) {
  const res = await fetch(fake.settings.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization && { authorization }) },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** The whole consent flow, as the supervisor's callback would finish it. */
export async function connect(fake: FakeX, options: { username?: string; scope?: string; now?: () => number } = {}): Promise<XTokens> {
  const { url, verifier } = authorizeUrl(fake, options.scope ? { scope: options.scope } : {});
  const back = new URL(await fake.approve(url, options.username ? { username: options.username } : {}));
  const form = { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: CALLBACK, code_verifier: verifier };
  const secret = fake.settings.clientSecret;
  const { status, body } = secret === null ? await tokenRequest(fake, { ...form, client_id: fake.settings.clientId }, null) : await tokenRequest(fake, form, basicAuth(fake.settings.clientId, secret));
  if (status !== 200) throw new Error(`token exchange answered ${status}: ${JSON.stringify(body)}`);
  return { accessToken: body['access_token'], refreshToken: body['refresh_token'] ?? null, expiresAt: (options.now ?? Date.now)() + body['expires_in'] * 1000, scope: body['scope'] };
}

export class MemoryTokenStore implements TokenStore {
  saves: XTokens[] = [];
  disconnects: string[] = [];
  constructor(public tokens: XTokens | null) {}
  load(): XTokens | null {
    return this.tokens;
  }
  save(tokens: XTokens): void {
    this.tokens = tokens;
    this.saves.push(tokens);
  }
  markDisconnected(reason: string): void {
    this.tokens = null;
    this.disconnects.push(reason);
  }
}

export interface Harness {
  fake: FakeX;
  clock: { now: number };
  store: MemoryTokenStore;
  tokens: TokenManager;
  budget: XBudget;
  /** The x_spend ledger, oldest first. */
  ledger(): { kind: string; endpoint: string; units: number; cost_micros: number }[];
  events: TenantEvent[];
  client: XClient;
  ceilings: { value: Ceilings };
  /** Sleeps the client asked for (ms); they advance the test clock instead of waiting. */
  sleeps: number[];
}

/** A sandbox X and a connected client on one test clock, over a real tenant DB. */
export async function harness(t: Test, options: { fake?: FakeXOptions; client?: Partial<XClientOptions>; ceilings?: Ceilings; username?: string } = {}): Promise<Harness> {
  const clock = { now: Date.now() };
  const now = () => clock.now;
  const fake = await startFakeX({ now, ...options.fake });
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-x-'));
  const db = openDatabase(join(dir, 'tenant.db'), 'tenant');
  t.teardown(async () => {
    await fake.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const store = new MemoryTokenStore(await connect(fake, { now, ...(options.username && { username: options.username }) }));
  const tokens = new TokenManager({ store, settings: fake.settings, now });
  const events: TenantEvent[] = [];
  const ceilings = { value: options.ceilings ?? null };
  const budget = new XBudget({ db, ceilings: () => ceilings.value, emit: (e) => events.push(e), now });
  const sleeps: number[] = [];
  const client = new XClient({
    apiUrl: fake.settings.apiUrl,
    tokens,
    budget,
    now,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock.now += ms;
    },
    ...options.client,
  });
  const ledger = () => db.prepare('SELECT kind, endpoint, units, cost_micros FROM x_spend ORDER BY id').all() as ReturnType<Harness['ledger']>;
  return { fake, clock, store, tokens, budget, ledger, events, client, ceilings, sleeps };
}
