/**
 * The tenant's X, assembled once per activation: the stored connection (tokens), the token
 * manager that refreshes them, the budget every billable call passes, and the client. One per
 * activation so concurrent callers share one refresh (X rotates refresh tokens: two refreshes
 * racing would disconnect the user).
 */
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { RemoteError, type Ceilings, type TenantEvent, type TenantSecrets, type XApp } from '../protocol/index.js';
import { XBudget } from './x-budget.js';
import { XConnection } from './x-connection.js';
import { TokenManager, XApiError, XAuthExpiredError, XBudgetRefusedError, XClient, XForbiddenError, XNetworkError, XRateLimitedError } from './x/index.js';

export interface XAccountOptions {
  db: Database.Database;
  secrets: TenantSecrets | null;
  app: XApp | null;
  ceilings: () => Ceilings;
  emit: (event: TenantEvent) => void;
  log?: Logger;
}

export class XAccount {
  readonly connection: XConnection;
  readonly budget: XBudget;
  readonly #app: XApp | null;
  readonly #log: Logger | undefined;
  #client: XClient | null = null;

  constructor(options: XAccountOptions) {
    this.connection = new XConnection(options.db, options.secrets, options.emit);
    // A user's own X app is billed by X to them: no allowance applies, only the automation switch.
    const managed = options.app?.managed ?? false;
    this.budget = new XBudget({
      db: options.db,
      ceilings: () => {
        const ceilings = options.ceilings();
        return ceilings && !managed ? { ...ceilings, xCostAllowanceCents: null, xPeriodStart: null } : ceilings;
      },
      emit: options.emit,
    });
    this.#app = options.app;
    this.#log = options.log;
  }

  get app(): XApp | null {
    return this.#app;
  }

  /** The X client, or null when no X app is configured. */
  client(): XClient | null {
    if (!this.#app) return null;
    this.#client ??= new XClient({
      apiUrl: this.#app.apiUrl,
      uploadUrl: this.#app.uploadUrl,
      tokens: new TokenManager({ store: this.connection, settings: this.#app, ...(this.#log && { log: this.#log }) }),
      budget: this.budget,
      onFailure: (endpoint, status) => this.budget.recordFailure(endpoint, status),
      ...(this.#log && { log: this.#log }),
    });
    return this.#client;
  }
}

/** An X failure as the protocol's error, for handlers that call X on a user's behalf. */
export function remoteErrorOfX(error: unknown): RemoteError | null {
  if (error instanceof XAuthExpiredError) return new RemoteError('x_disconnected', 'X no longer accepts this connection; connect X again.');
  if (error instanceof XBudgetRefusedError) return new RemoteError('x_budget_refused', error.message);
  if (error instanceof XRateLimitedError) return new RemoteError('x_rate_limited', `X asks us to wait until ${new Date(error.until).toISOString()}.`);
  if (error instanceof XForbiddenError) return new RemoteError('x_forbidden', `X refused: ${error.detail}`);
  if (error instanceof XNetworkError || error instanceof XApiError) return new RemoteError('x_unavailable', 'X could not be reached or answered with an error; try again shortly.');
  return null;
}
