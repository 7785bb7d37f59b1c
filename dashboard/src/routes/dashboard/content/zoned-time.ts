/**
 * Times in the tenant's zone (the calendar and the schedule live there, not in the browser's zone): the API
 * speaks epoch milliseconds; people read and type local wall-clock times of that zone.
 */
import { DateTime } from 'luxon';

/** `YYYY-MM-DDTHH:mm` in `zone` (what a datetime-local input holds). */
export function toLocalInput(at: number, zone: string): string {
  return DateTime.fromMillis(at, { zone }).toFormat("yyyy-MM-dd'T'HH:mm");
}

/** A datetime-local value read as a wall-clock time in `zone`; null when it is not a time. */
export function fromLocalInput(value: string, zone: string): number | null {
  const time = DateTime.fromISO(value, { zone });
  return time.isValid ? time.toMillis() : null;
}

export function formatIn(at: number, zone: string, format = 'ccc d LLL, HH:mm'): string {
  return DateTime.fromMillis(at, { zone }).toFormat(format);
}

export type View = 'week' | 'month';

/** The range the API is asked for: a Monday-first week, or the whole weeks covering a month (≤ 42 days). */
export function rangeOf(view: View, anchor: string, zone: string): { from: number; to: number; title: string } {
  const day = DateTime.fromISO(anchor, { zone }).startOf('day');
  if (view === 'week') {
    const start = day.startOf('week');
    const end = start.plus({ weeks: 1 });
    return { from: start.toMillis(), to: end.toMillis(), title: `${start.toFormat('d LLL')} – ${end.minus({ days: 1 }).toFormat('d LLL yyyy')}` };
  }
  const month = day.startOf('month');
  return { from: month.startOf('week').toMillis(), to: month.endOf('month').endOf('week').plus({ milliseconds: 1 }).toMillis(), title: month.toFormat('LLLL yyyy') };
}

/** The anchor date moved by one period. */
export function shift(view: View, anchor: string, zone: string, by: 1 | -1): string {
  return DateTime.fromISO(anchor, { zone }).plus(view === 'week' ? { weeks: by } : { months: by }).toISODate()!;
}

export function today(zone: string): string {
  return DateTime.now().setZone(zone).toISODate()!;
}
