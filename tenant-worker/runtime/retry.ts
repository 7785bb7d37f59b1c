/**
 * Back-off for posting an approved or scheduled item that failed for a passing reason.
 *
 * The reference retried a failed approval every 15 s forever; here attempt n waits 1 min × 2^(n−1)
 * (1, 2, 4, 8 min) and the fifth failure is final: the item becomes `failed` with its error shown,
 * and only the user retries it. Errors that no retry can fix (X refused the post) are final at once.
 */
export const MAX_POST_ATTEMPTS = 5;
const BASE_MS = 60_000;
const CAP_MS = 3_600_000;

export function retryDelayMs(attempts: number): number {
  return Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/** What happens to an item after its `attempts`-th failure. */
export function afterFailure(attempts: number, permanent: boolean, now: number): { final: true } | { final: false; nextAttemptAt: number } {
  if (permanent || attempts >= MAX_POST_ATTEMPTS) return { final: true };
  return { final: false, nextAttemptAt: now + retryDelayMs(attempts) };
}
