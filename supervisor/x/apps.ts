/**
 * Which X app a user connects through: the server's (ours in the cloud, paid by us under the plan's
 * allowance; a self-hoster's own) or the user's own app, whose keys they enter so that X bills
 * them directly and no allowance applies. Own apps use X's endpoints from the configuration; their
 * client secret is sealed for the user's tenant (field `x_client_secret`).
 */
import type Database from 'better-sqlite3';
import type { SecretBox, XApp } from '../../protocol/index.js';
import type { XAppSettings, XEndpoints } from '../config.js';

export interface ResolvedXApp {
  settings: XAppSettings;
  /** The user's own app: X bills them, no allowance. */
  own: boolean;
  /** We pay X for this app's calls (the allowance applies). */
  managed: boolean;
}

export interface OwnXApp {
  clientId: string;
  hasSecret: boolean;
  updatedAt: number;
}

interface OwnRow {
  client_id: string;
  client_secret: string | null;
  updated_at: number;
}

export class XApps {
  readonly #db: Database.Database;
  readonly #secrets: SecretBox;
  readonly #server: { settings: XAppSettings; managed: boolean } | null;
  readonly #endpoints: XEndpoints;

  constructor(options: { db: Database.Database; secrets: SecretBox; server: { settings: XAppSettings; managed: boolean } | null; endpoints: XEndpoints }) {
    this.#db = options.db;
    this.#secrets = options.secrets;
    this.#server = options.server;
    this.#endpoints = options.endpoints;
  }

  /** Whether anyone can connect X here without bringing an app. */
  get serverApp(): boolean {
    return this.#server !== null;
  }

  #own(userId: string): OwnRow | undefined {
    return this.#db.prepare<[string], OwnRow>('SELECT client_id, client_secret, updated_at FROM x_own_apps WHERE user_id = ?').get(userId);
  }

  own(userId: string): OwnXApp | null {
    const row = this.#own(userId);
    return row ? { clientId: row.client_id, hasSecret: row.client_secret !== null, updatedAt: row.updated_at } : null;
  }

  forUser(userId: string, tenantId: string): ResolvedXApp | null {
    const row = this.#own(userId);
    if (row) {
      const clientSecret = row.client_secret === null ? null : this.#secrets.open(tenantId, 'x_client_secret', row.client_secret);
      return { settings: { ...this.#endpoints, clientId: row.client_id, clientSecret }, own: true, managed: false };
    }
    return this.#server ? { settings: this.#server.settings, own: false, managed: this.#server.managed } : null;
  }

  /** What a tenant's thread gets at activation. */
  forTenant(tenantId: string): XApp | null {
    const user = this.#db.prepare<[string], { id: string }>('SELECT id FROM users WHERE tenant_id = ?').get(tenantId);
    const resolved = user ? this.forUser(user.id, tenantId) : this.#server && { settings: this.#server.settings, own: false, managed: this.#server.managed };
    return resolved ? tenantAppOf(resolved) : null;
  }

  /** Whether X bills this user directly (own app), so no allowance applies. */
  billsUserDirectly(userId: string): boolean {
    return this.#own(userId) !== undefined;
  }

  setOwn(userId: string, tenantId: string, input: { clientId: string; clientSecret: string | null }, now = Date.now()): void {
    const secret = input.clientSecret === null ? null : this.#secrets.seal(tenantId, 'x_client_secret', input.clientSecret);
    this.#db
      .prepare(
        `INSERT INTO x_own_apps (user_id, client_id, client_secret, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id) DO UPDATE SET client_id = excluded.client_id, client_secret = excluded.client_secret, updated_at = excluded.updated_at`,
      )
      .run(userId, input.clientId, secret, now, now);
  }

  removeOwn(userId: string): boolean {
    return this.#db.prepare('DELETE FROM x_own_apps WHERE user_id = ?').run(userId).changes > 0;
  }
}

export function tenantAppOf(resolved: ResolvedXApp): XApp {
  const { clientId, clientSecret, tokenUrl, revokeUrl, apiUrl, uploadUrl } = resolved.settings;
  return { clientId, clientSecret, tokenUrl, revokeUrl, apiUrl, uploadUrl, managed: resolved.managed };
}
