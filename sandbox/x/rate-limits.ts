/**
 * X's per-user rate limits: each (user, endpoint) has a fixed window that opens with its first call
 * and a number of calls allowed in it, announced on every answer as x-rate-limit-limit / -remaining /
 * -reset (epoch seconds).
 */

export interface Limit {
  perWindow: number;
  windowSeconds: number;
}

/** X's per-user limits for the endpoints the fake serves (15-minute windows). */
export const X_LIMITS: Record<string, Limit> = {
  'GET /2/users/me': { perWindow: 75, windowSeconds: 900 },
  'GET /2/users/by/username/:username': { perWindow: 900, windowSeconds: 900 },
  'GET /2/users/:id/tweets': { perWindow: 900, windowSeconds: 900 },
  'GET /2/users/:id/mentions': { perWindow: 180, windowSeconds: 900 },
  'GET /2/tweets/search/recent': { perWindow: 180, windowSeconds: 900 },
  'GET /2/tweets/:id': { perWindow: 900, windowSeconds: 900 },
  'POST /2/tweets': { perWindow: 100, windowSeconds: 900 },
  'media upload': { perWindow: 500, windowSeconds: 900 },
};

const FALLBACK: Limit = { perWindow: 300, windowSeconds: 900 };

export interface Quota {
  limit: number;
  remaining: number;
  /** Epoch seconds when the window starts afresh. */
  reset: number;
  allowed: boolean;
}

export class RateLimits {
  readonly #windows = new Map<string, { start: number; used: number }>();
  readonly #override: Limit | undefined;

  constructor(override?: Limit) {
    this.#override = override;
  }

  /** Takes one call from the window; a refused call takes nothing. */
  consume(userId: string, endpoint: string, now: number): Quota {
    const { perWindow, windowSeconds } = this.#override ?? X_LIMITS[endpoint] ?? FALLBACK;
    const key = `${userId} ${endpoint}`;
    let window = this.#windows.get(key);
    if (!window || now >= window.start + windowSeconds * 1000) {
      window = { start: now, used: 0 };
      this.#windows.set(key, window);
    }
    const allowed = window.used < perWindow;
    if (allowed) window.used++;
    return { limit: perWindow, remaining: perWindow - window.used, reset: Math.ceil((window.start + windowSeconds * 1000) / 1000), allowed };
  }
}
