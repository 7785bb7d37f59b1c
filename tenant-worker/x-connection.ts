/**
 * The tenant's X connection: the X identity and its OAuth tokens, sealed in the tenant DB.
 *
 * It is the `TokenStore` the X client's token manager uses: `load` opens the tokens, `save` writes
 * a refreshed pair in one statement (X rotates refresh tokens: losing the new one would disconnect
 * the user), and `markDisconnected` is what a refused refresh (`invalid_grant`) leads to. Tokens are
 * sealed by the supervisor at the OAuth callback and by this tenant on refresh, always with this
 * tenant's key and the field name bound in, so a token copied to another tenant or column does not open.
 */
import type Database from 'better-sqlite3';
import { OAuth2Client } from 'arctic';
import { RemoteError, type TenantEvent, type TenantSecrets, type XApp } from '../protocol/index.js';

export interface XTokens {
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number;
  scope: string;
}

export interface XIdentity {
  id: string;
  username: string;
  name: string;
}

/** What the supervisor hands over after the OAuth callback: the identity and the tokens, sealed for this tenant. */
export interface SealedConnection {
  identity: XIdentity;
  accessToken: string;
  refreshToken: string | null;
  expiresAt: number;
  scope: string;
}

export type DisconnectReason = 'user' | 'invalid_grant' | 'revoked';

export interface XConnectionStatus {
  connected: boolean;
  /** The account last connected, also after a disconnect (so the dashboard can say which). */
  account: (XIdentity & { connectedAt: number }) | null;
  disconnectedAt: number | null;
  disconnectedReason: DisconnectReason | null;
}

interface Row {
  x_user_id: string;
  username: string;
  name: string;
  access_token: string | null;
  refresh_token: string | null;
  expires_at: number | null;
  scope: string | null;
  status: 'connected' | 'disconnected';
  connected_at: number;
  disconnected_at: number | null;
  disconnected_reason: DisconnectReason | null;
}

const REVOKE_TIMEOUT_MS = 5_000;

export class XConnection {
  readonly #db: Database.Database;
  readonly #secrets: TenantSecrets | null;
  readonly #emit: (event: TenantEvent) => void;
  readonly #now: () => number;

  constructor(db: Database.Database, secrets: TenantSecrets | null, emit: (event: TenantEvent) => void, now: () => number = Date.now) {
    this.#db = db;
    this.#secrets = secrets;
    this.#emit = emit;
    this.#now = now;
  }

  #row(): Row | undefined {
    return this.#db.prepare<[], Row>('SELECT * FROM x_connection WHERE id = 1').get();
  }

  #box(): TenantSecrets {
    if (!this.#secrets) throw new RemoteError('secrets_unavailable', 'This tenant was started without its secret keys.');
    return this.#secrets;
  }

  status(): XConnectionStatus {
    const row = this.#row();
    return {
      connected: row?.status === 'connected',
      account: row ? { id: row.x_user_id, username: row.username, name: row.name, connectedAt: row.connected_at } : null,
      disconnectedAt: row?.disconnected_at ?? null,
      disconnectedReason: row?.disconnected_reason ?? null,
    };
  }

  /** Stores a new connection (replacing any earlier one) after checking the sealed tokens open here. */
  connect(connection: SealedConnection): XConnectionStatus {
    const box = this.#box();
    box.open('x_access_token', connection.accessToken);
    if (connection.refreshToken !== null) box.open('x_refresh_token', connection.refreshToken);
    const now = this.#now();
    const { identity } = connection;
    this.#db
      .prepare(
        `INSERT INTO x_connection (id, x_user_id, username, name, access_token, refresh_token, expires_at, scope, status, connected_at, updated_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, 'connected', ?, ?)
         ON CONFLICT (id) DO UPDATE SET x_user_id = excluded.x_user_id, username = excluded.username, name = excluded.name,
           access_token = excluded.access_token, refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
           scope = excluded.scope, status = 'connected', connected_at = excluded.connected_at, disconnected_at = NULL,
           disconnected_reason = NULL, updated_at = excluded.updated_at`,
      )
      .run(identity.id, identity.username, identity.name, connection.accessToken, connection.refreshToken, connection.expiresAt, connection.scope, now, now);
    this.#emit({ kind: 'x.connected', at: now, data: { username: identity.username } });
    return this.status();
  }

  // ---- TokenStore ------------------------------------------------------------------------------

  load(): XTokens | null {
    const row = this.#row();
    if (!row || row.status !== 'connected' || row.access_token === null) return null;
    const box = this.#box();
    const tokens = {
      accessToken: box.open('x_access_token', row.access_token),
      refreshToken: row.refresh_token === null ? null : box.open('x_refresh_token', row.refresh_token),
      expiresAt: row.expires_at ?? 0,
      scope: row.scope ?? '',
    };
    // Values sealed under a previous master key are re-sealed as they are read (key rotation).
    if (box.isStale(row.access_token) || (row.refresh_token !== null && box.isStale(row.refresh_token))) this.save(tokens);
    return tokens;
  }

  save(tokens: XTokens): void {
    const box = this.#box();
    this.#db
      .prepare("UPDATE x_connection SET access_token = ?, refresh_token = ?, expires_at = ?, scope = ?, updated_at = ? WHERE id = 1 AND status = 'connected'")
      .run(
        box.seal('x_access_token', tokens.accessToken),
        tokens.refreshToken === null ? null : box.seal('x_refresh_token', tokens.refreshToken),
        tokens.expiresAt,
        tokens.scope,
        this.#now(),
      );
  }

  markDisconnected(reason: string): void {
    this.#disconnect(reason === 'user' || reason === 'revoked' ? reason : 'invalid_grant');
  }

  /** The user disconnects: the token is revoked at X (best effort, bounded) and deleted here. */
  async disconnect(app: XApp | null): Promise<XConnectionStatus> {
    const tokens = this.#row()?.status === 'connected' ? this.load() : null;
    if (!tokens) return this.status();
    let revoked = false;
    if (app) {
      const client = new OAuth2Client(app.clientId, app.clientSecret, null);
      // Revoking the refresh token ends the whole grant; an access token alone would leave it alive.
      const token = tokens.refreshToken ?? tokens.accessToken;
      revoked = await Promise.race([
        client.revokeToken(app.revokeUrl, token).then(() => true, () => false),
        new Promise<boolean>((resolve) => setTimeout(resolve, REVOKE_TIMEOUT_MS, false).unref()),
      ]);
    }
    this.#disconnect('user', { revoked });
    return this.status();
  }

  #disconnect(reason: DisconnectReason, data: Record<string, unknown> = {}): void {
    const now = this.#now();
    const changed = this.#db
      .prepare(
        "UPDATE x_connection SET status = 'disconnected', access_token = NULL, refresh_token = NULL, expires_at = NULL, disconnected_at = ?, disconnected_reason = ?, updated_at = ? WHERE id = 1 AND status = 'connected'",
      )
      .run(now, reason, now).changes;
    if (changed > 0) this.#emit({ kind: 'x.disconnected', at: now, data: { reason, username: this.#row()!.username, ...data } });
  }
}
