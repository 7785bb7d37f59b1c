import t from 'tap';
import { DateTime } from 'luxon';
import { parseRuntimeSettings, type Schedule } from '../../../tenant-worker/runtime/config.js';
import { actionDelayMs, isActiveAt, nextActiveAt, nextIntervalRun, nextPostAt, nextSlotAt, nextThreadSlotAt } from '../../../tenant-worker/runtime/pacing.js';

function schedule(values: Record<string, unknown>): Schedule {
  const { config, errors } = parseRuntimeSettings(values);
  if (Object.keys(errors).length) throw new Error(JSON.stringify(errors));
  return config.schedule;
}
const at = (iso: string, zone: string) => DateTime.fromISO(iso, { zone }).toMillis();
const pacing = { minDelayMs: 45_000, maxDelayMs: 180_000 };

t.test('posts are 45–180 s apart, jittered', async (t) => {
  t.equal(actionDelayMs(pacing, () => 0), 45_000);
  t.equal(actionDelayMs(pacing, () => 0.999_999_9), 180_000);
  t.equal(actionDelayMs({ minDelayMs: 180_000, maxDelayMs: 45_000 }, () => 0), 45_000, 'min and max swapped');
  t.equal(nextPostAt(null, 1_000, pacing, () => 0.5), 1_000, 'nothing posted yet: now');
  t.equal(nextPostAt(1_000_000, 1_010_000, pacing, () => 0), 1_045_000);
  t.equal(nextPostAt(1_000_000, 2_000_000, pacing, () => 0), 2_000_000, 'never in the past');
  t.equal(nextIntervalRun(null, 0, 10_800_000, pacing, () => 0), 45_000, 'a new tenant gets its first tweet within minutes');
  t.equal(nextIntervalRun(0, 60_000, 10_800_000, pacing, () => 0), 10_845_000, 'a restart does not post at once');
});

t.test('active hours and days are read in the tenant zone', async (t) => {
  const paris = schedule({ timezone: 'Europe/Paris', 'schedule.active_days': ['mon', 'tue', 'wed', 'thu', 'fri'] });
  t.equal(isActiveAt(paris, at('2026-03-10T08:00', 'Europe/Paris')), true, 'Tuesday 08:00 opens');
  t.equal(isActiveAt(paris, at('2026-03-10T07:59', 'Europe/Paris')), false);
  t.equal(isActiveAt(paris, at('2026-03-10T22:00', 'Europe/Paris')), false, 'end is exclusive');
  t.equal(isActiveAt(paris, Date.UTC(2026, 2, 10, 21, 30)), false, '21:30 UTC is 22:30 in Paris');
  t.equal(isActiveAt(paris, at('2026-03-14T12:00', 'Europe/Paris')), false, 'Saturday is off');
  t.equal(nextActiveAt(paris, at('2026-03-13T23:00', 'Europe/Paris')), at('2026-03-16T08:00', 'Europe/Paris'), 'Friday night → Monday 08:00');
  t.equal(nextActiveAt(paris, at('2026-03-10T12:00', 'Europe/Paris')), at('2026-03-10T12:00', 'Europe/Paris'), 'already active');
});

t.test('a window across midnight belongs to the day it opened; start == end is all day', async (t) => {
  const night = schedule({ 'schedule.active_hours_start': 22, 'schedule.active_hours_end': 6, 'schedule.active_days': ['fri'] });
  t.equal(isActiveAt(night, at('2026-03-13T23:00', 'UTC')), true, 'Friday 23:00');
  t.equal(isActiveAt(night, at('2026-03-14T03:00', 'UTC')), true, 'Saturday 03:00 continues Friday night');
  t.equal(isActiveAt(night, at('2026-03-13T03:00', 'UTC')), false, 'Friday 03:00 belongs to Thursday night');
  t.equal(isActiveAt(night, at('2026-03-14T06:00', 'UTC')), false);
  const always = schedule({ 'schedule.active_hours_start': 9, 'schedule.active_hours_end': 9 });
  t.equal(isActiveAt(always, at('2026-03-14T03:00', 'UTC')), true);
  const weekends = schedule({ 'schedule.active_hours_start': 0, 'schedule.active_hours_end': 0, 'schedule.active_days': ['sat'] });
  t.equal(nextActiveAt(weekends, at('2026-03-12T15:00', 'UTC')), at('2026-03-14T00:00', 'UTC'));
});

t.test('DST: the window follows local time across the change, and a missing hour moves forward', async (t) => {
  const ny = schedule({ timezone: 'America/New_York', 'schedule.active_hours_start': 2, 'schedule.active_hours_end': 4 });
  // 2026-03-08: New York springs forward at 02:00 → 03:00 (UTC−5 → UTC−4).
  t.equal(nextActiveAt(ny, Date.UTC(2026, 2, 8, 5, 0)), Date.UTC(2026, 2, 8, 7, 0), '02:00 does not exist: opens at 03:00 EDT');
  t.equal(isActiveAt(ny, Date.UTC(2026, 2, 8, 7, 30)), true);
  t.equal(isActiveAt(ny, Date.UTC(2026, 2, 8, 8, 0)), false, '04:00 EDT closes');
  const paris = schedule({ timezone: 'Europe/Paris' });
  // 2026-03-29: Paris springs forward; 08:00 local is 06:00 UTC after and 07:00 UTC the day before.
  t.equal(nextActiveAt(paris, Date.UTC(2026, 2, 28, 22, 0)), Date.UTC(2026, 2, 29, 6, 0));
  t.equal(nextActiveAt(paris, Date.UTC(2026, 2, 27, 22, 0)), Date.UTC(2026, 2, 28, 7, 0));
  // 2026-10-25: the clocks go back; 21:30 local exists once, at 20:30 UTC.
  t.equal(isActiveAt(paris, Date.UTC(2026, 9, 25, 20, 30)), true);
  t.equal(isActiveAt(paris, Date.UTC(2026, 9, 25, 21, 0)), false);
});

t.test('preferred slots: next free one, ±15 min jitter, used when posted within 30 min, overrides per weekday', async (t) => {
  const slots = schedule({ timezone: 'Europe/Paris', 'schedule.preferred_times': ['auto'], 'schedule.preferred_times_override': { sat: [] } });
  const tuesday = (time: string) => at(`2026-03-10T${time}`, 'Europe/Paris');
  t.equal(nextSlotAt(slots, tuesday('08:00'), [], () => 0.5), tuesday('09:15'), 'jitter 0 at the middle draw');
  t.equal(nextSlotAt(slots, tuesday('08:00'), [], () => 0), tuesday('09:00'), '−15 min');
  t.equal(nextSlotAt(slots, tuesday('08:00'), [tuesday('09:40')], () => 0.5), tuesday('12:30'), '09:15 was used (posted 09:40)');
  t.equal(nextSlotAt(slots, tuesday('09:20'), [], () => 0), tuesday('09:20'), 'a slot just past is still taken, never before now');
  t.equal(nextSlotAt(slots, tuesday('18:00'), [], () => 0.5), at('2026-03-11T09:15', 'Europe/Paris'), 'tomorrow');
  t.equal(nextSlotAt(slots, at('2026-03-13T18:00', 'Europe/Paris'), [], () => 0.5), at('2026-03-15T09:15', 'Europe/Paris'), 'Saturday has no slots');
  const early = schedule({ 'schedule.preferred_times': ['06:00', '10:00'] });
  t.equal(nextSlotAt(early, at('2026-03-10T05:00', 'UTC'), [], () => 0.5), at('2026-03-10T10:00', 'UTC'), 'a slot outside active hours is skipped');
  t.equal(nextSlotAt(schedule({}), 0, []), null, 'interval mode');
});

t.test('thread slot: the preferred weekday and time in the tenant zone', async (t) => {
  const s = schedule({ timezone: 'Asia/Tokyo', 'schedule.thread_preferred_day': 'wed', 'schedule.thread_preferred_time': '10:00' });
  t.equal(nextThreadSlotAt(s, at('2026-03-10T12:00', 'Asia/Tokyo'), () => 0.5), at('2026-03-11T10:00', 'Asia/Tokyo'));
  t.equal(nextThreadSlotAt(s, at('2026-03-11T10:30', 'Asia/Tokyo'), () => 0.5), at('2026-03-18T10:00', 'Asia/Tokyo'));
  t.equal(nextThreadSlotAt(schedule({}), 0), null);
});
