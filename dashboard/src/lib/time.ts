/** "3 min ago", "in 2 h": timestamps are epoch milliseconds everywhere in the API. */
const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
];
const format = new Intl.RelativeTimeFormat('en', { numeric: 'auto', style: 'short' });

export function relativeTime(at: number, now = Date.now()): string {
  const diff = at - now;
  for (const [unit, ms] of units) {
    if (Math.abs(diff) >= ms || unit === 'second') return format.format(Math.round(diff / ms), unit);
  }
  return '';
}

export function dateTime(at: number): string {
  return new Date(at).toLocaleString();
}
