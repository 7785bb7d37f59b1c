/**
 * The approval reminder's rule as the tenant applies it (tenant-worker/runtime/notifications.ts and the
 * approval-reminder job), on a real tenant DB and a clock the test moves: only inside the active hours of
 * the tenant's zone, only when an item waited 4 hours, at most once per local day, never when turned off
 * or paused, and every wake-up jittered by at most an hour.
 */
import { DateTime } from 'luxon';
import t from 'tap';
import { ApprovalReminderEventSchema, NOTIFY_EVENTS } from '../../../protocol/index.js';
import * as v from 'valibot';
import { approvalReminderJob } from '../../../tenant-worker/runtime/loops/approval-reminder.js';
import type { LoopDeps } from '../../../tenant-worker/runtime/loops/deps.js';
import { setRuntimeState } from '../../../tenant-worker/runtime/state.js';
import { runtimeContext } from '../../tenant-worker/runtime/helpers.js';

const ZONE = 'Europe/Paris';
const HOUR = 3_600_000;
const local = (day: number, hour: number, minute = 0) => DateTime.fromObject({ year: 2026, month: 3, day, hour, minute }, { zone: ZONE }).toMillis();
const hourOf = (at: number) => DateTime.fromMillis(at, { zone: ZONE }).hour + DateTime.fromMillis(at, { zone: ZONE }).minute / 60;

t.test('inside active hours, after 4 hours of waiting, once per local day', async (t) => {
  const { db, clock, events, context, setSetting } = runtimeContext(t, local(10, 7));
  setSetting('timezone', ZONE);
  setSetting('schedule.active_hours_start', 8);
  setSetting('schedule.active_hours_end', 22);
  setRuntimeState(db, 'started', clock.now);
  let random = 0.5;
  const deps = { ...context, random: () => random } as unknown as LoopDeps;
  const job = approvalReminderJob(deps);
  const run = async () => (await job.run({ db, now: clock.now, signal: new AbortController().signal }))!.nextRunAt!;
  const queue = (kind: 'tweet' | 'reply', at: number, target?: string) =>
    db.prepare('INSERT INTO approval_queue (kind, content, source, target_tweet_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(kind, 'text', kind === 'reply' ? 'discovery' : 'content', target ?? null, at, at);

  queue('tweet', local(10, 2));
  let next = await run();
  t.equal(events.length, 0, '07:00: outside the active hours, nothing even with an old item');
  t.ok(next >= local(10, 8) && next <= local(10, 9), 'sleeps until the hours open, plus at most an hour of jitter');

  db.prepare('DELETE FROM approval_queue').run();
  queue('tweet', local(10, 8));
  clock.now = local(10, 10);
  next = await run();
  t.equal(events.length, 0, '10:00: the item waited 2 hours only');
  t.ok(next >= clock.now + 2 * HOUR && next <= clock.now + 3 * HOUR, 'looks again in 2 hours (+ jitter)');

  queue('reply', local(10, 9), '42');
  queue('reply', local(10, 9, 30), '43');
  clock.now = local(10, 12, 30);
  random = 0;
  next = await run();
  t.equal(events.length, 1, '12:30: the oldest waited 4.5 hours');
  t.equal(events[0]!.kind, NOTIFY_EVENTS.ApprovalReminder);
  t.same(v.parse(ApprovalReminderEventSchema, events[0]!.data), { day: '2026-03-10', pending: 3, oldestAt: local(10, 8), byKind: { reply: 2, tweet: 1, thread: 0 } });
  t.equal(next, local(11, 8), 'then sleeps until tomorrow when the hours open');

  clock.now = local(10, 18);
  next = await run();
  t.equal(events.length, 1, 'not a second time the same day');
  t.equal(next, local(11, 8));

  clock.now = local(11, 8, 15);
  await run();
  t.equal(events.length, 2, 'the next day, still waiting: reminded again');
  t.equal((events[1]!.data as { day: string }).day, '2026-03-11', 'the day is the tenant-local one');
  t.equal(db.prepare("SELECT count(*) AS n FROM notices_given WHERE key GLOB 'notify.*'").pluck().get(), 1, 'one mark kept, not one per day');

  // Turned off: nothing, whatever waits.
  setSetting('notifications.approval_reminders', false);
  clock.now = local(12, 12);
  await run();
  t.equal(events.length, 2, 'off in the settings: no reminder');
  setSetting('notifications.approval_reminders', true);

  // Paused: nothing is posted anyway, so nothing is asked of the user until it resumes.
  setRuntimeState(db, 'paused', clock.now, local(12, 20));
  random = 0.5;
  next = await run();
  t.equal(events.length, 2, 'paused: no reminder');
  t.equal(next, local(12, 20) + HOUR / 2, 'looks again when the pause ends (+ jitter)');
  setRuntimeState(db, 'started', clock.now);
  await run();
  t.equal(events.length, 3, 'resumed the same day: reminded');
  t.ok(hourOf(clock.now) >= 8 && hourOf(clock.now) < 22);
});
