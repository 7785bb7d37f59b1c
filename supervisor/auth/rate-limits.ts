/**
 * Rate limits on every credential endpoint (rate-limiter-flexible, in memory: there is one
 * supervisor process). Each limit counts attempts per key (an IP, an email, a user) in a fixed
 * window; going over answers 429 with Retry-After.
 */
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { HttpError } from '../http/errors.js';
import type { Reply } from '../http/reply.js';

export class RateLimitedError extends HttpError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate_limited', `Too many attempts; try again in ${retryAfterSeconds} s.`);
  }

  override toReply(): Reply {
    const reply = super.toReply();
    return { ...reply, headers: { ...reply.headers, 'Retry-After': String(this.retryAfterSeconds) } };
  }
}

export type LimitName =
  | 'login_ip'
  | 'login_account'
  | 'signup_ip'
  | 'forgot_ip'
  | 'forgot_account'
  | 'resend_account'
  | 'two_factor_ip'
  | 'two_factor_account'
  | 'token_ip'
  | 'reauth_account'
  | 'oauth_ip'
  | 'billing_account'
  | 'x_connect_account'
  | 'llm_key_account'
  | 'account_data_account'
  | 'media_upload_account';

/** Attempts per minute (tests may scale them through the constructor). */
const PER_MINUTE: Record<LimitName, number> = {
  login_ip: 5,
  login_account: 5,
  signup_ip: 5,
  forgot_ip: 5,
  forgot_account: 5,
  resend_account: 5,
  two_factor_ip: 5,
  two_factor_account: 5,
  token_ip: 10,
  reauth_account: 5,
  oauth_ip: 10,
  // Checkout and portal sessions are Stripe objects (and portal URLs credentials): a few a minute.
  billing_account: 10,
  x_connect_account: 10,
  llm_key_account: 10,
  // Exports and imports read or rewrite a whole tenant DB.
  account_data_account: 5,
  // A post takes up to 4 files; this is a dashboard's burst, not a script's.
  media_upload_account: 30,
};

export class RateLimits {
  readonly #limiters: Record<LimitName, RateLimiterMemory>;

  constructor(factor = 1) {
    this.#limiters = Object.fromEntries(
      Object.entries(PER_MINUTE).map(([name, points]) => [name, new RateLimiterMemory({ points: Math.max(1, Math.round(points * factor)), duration: 60 })]),
    ) as Record<LimitName, RateLimiterMemory>;
  }

  /** Counts one attempt against each key; throws 429 when any is over its limit. */
  async consume(...checks: [LimitName, string][]): Promise<void> {
    for (const [name, key] of checks) {
      try {
        await this.#limiters[name].consume(key);
      } catch (result) {
        if (result instanceof RateLimiterRes) throw new RateLimitedError(Math.max(1, Math.ceil(result.msBeforeNext / 1000)));
        throw result;
      }
    }
  }

  /** Forgets a key's attempts (e.g. an account's failures after it logged in). */
  async reset(name: LimitName, key: string): Promise<void> {
    await this.#limiters[name].delete(key);
  }
}
