/**
 * Time for the fake Stripe. Every timestamp it writes comes from one injectable clock (epoch ms), so a
 * test can move a subscription through renewals and dunning the way a Stripe test clock does.
 * Stripe speaks epoch seconds; billing periods follow its monthly rule: the same day of the month as
 * the billing cycle anchor, or the month's last day when that day does not exist (Jan 31 → Feb 28 → Mar 31).
 */

export type Clock = () => number;

export const DAY_MS = 24 * 60 * 60 * 1000;

export const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The end of the `n`-th monthly period after `anchorSec` (n = 1 is the end of the first period). */
export function monthsAfter(anchorSec: number, n: number): number {
  const anchor = new Date(anchorSec * 1000);
  const month = anchor.getUTCMonth() + n;
  const lastDay = new Date(Date.UTC(anchor.getUTCFullYear(), month + 1, 0)).getUTCDate();
  const day = Math.min(anchor.getUTCDate(), lastDay);
  return seconds(
    Date.UTC(anchor.getUTCFullYear(), month, day, anchor.getUTCHours(), anchor.getUTCMinutes(), anchor.getUTCSeconds()),
  );
}
