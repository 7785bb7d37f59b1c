/**
 * What can go wrong talking to X, as types the runtime's jobs branch on: whether to wait (rate
 * limited until T), stop (auth expired: X is disconnected until the user reconnects), skip (budget,
 * forbidden) or retry later (network, 5xx).
 */
import type { BudgetDenial } from '../x-budget.js';

export class XError extends Error {
  override readonly name: string = 'XError';
}

/** The connection to X is gone (refresh refused, revoked, never connected): only the user can fix it. */
export class XAuthExpiredError extends XError {
  override readonly name = 'XAuthExpiredError';
}

/** X refused at its edge or the network failed; the call may be retried later (a POST may have happened). */
export class XNetworkError extends XError {
  override readonly name = 'XNetworkError';
}

/** Rate limited by X (or by what X told us before): nothing is sent to that endpoint before `until` (epoch ms). */
export class XRateLimitedError extends XError {
  override readonly name = 'XRateLimitedError';
  constructor(
    readonly endpoint: string,
    readonly until: number,
  ) {
    super(`X rate limit on ${endpoint} until ${new Date(until).toISOString()}`);
  }
}

/** The plan's X allowance said no; the call was not made. */
export class XBudgetRefusedError extends XError {
  override readonly name = 'XBudgetRefusedError';
  constructor(
    readonly reason: BudgetDenial,
    message: string,
  ) {
    super(message);
  }
}

/** X answered with an error status. */
export class XApiError extends XError {
  override readonly name: string = 'XApiError';
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly body?: unknown,
  ) {
    super(`X answered ${status} ${title}: ${detail}`);
  }
}

/** 403: not allowed, e.g. a duplicate post, a missing scope, a protected account. Retrying will not help. */
export class XForbiddenError extends XApiError {
  override readonly name = 'XForbiddenError';
}
