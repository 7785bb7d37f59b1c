import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type Database from 'better-sqlite3';
import { checkpointAndClose, openDatabase } from '../../migrations/runner.js';
import { JobRunner, type JobDefinition, type JobRunnerOptions } from '../../tenant-worker/jobs.js';

const T0 = 1_700_000_000_000;

interface Env {
  path: string;
  db: Database.Database;
  /** The injected clock; tests move it by assigning `env.now`. */
  now: number;
  /** What the injected random returns next (cycled); defaults to 0. */
  randoms: number[];
  options: JobRunnerOptions;
  reopen(): Database.Database;
}

/** A tenant DB in a temp dir with a controllable clock and random source. */
function setup(t: Test): Env {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-jobs-'));
  const path = join(dir, 'tenant.db');
  let calls = 0;
  const env: Env = {
    path,
    db: openDatabase(path, 'tenant'),
    now: T0,
    randoms: [0],
    options: {
      clock: () => env.now,
      random: () => env.randoms[calls++ % env.randoms.length]!,
    },
    reopen() {
      if (env.db.open) checkpointAndClose(env.db);
      env.db = openDatabase(path, 'tenant');
      return env.db;
    },
  };
  t.teardown(() => {
    if (env.db.open) env.db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return env;
}

function job(name: string, overrides: Partial<JobDefinition> = {}): JobDefinition {
  return { name, everyMs: 60_000, run: async () => undefined, ...overrides };
}

function setRow(db: Database.Database, name: string, columns: Record<string, number | string | null>): void {
  const sets = Object.keys(columns).map((column) => `${column} = @${column}`).join(', ');
  db.prepare(`UPDATE jobs SET ${sets} WHERE name = @name`).run({ ...columns, name });
}

function row(db: Database.Database, name: string): Record<string, unknown> | undefined {
  return db.prepare('SELECT * FROM jobs WHERE name = ?').get(name) as Record<string, unknown> | undefined;
}

t.test('first runs are spread over firstRunSpreadMs with the injected random, and only once', async (t) => {
  const env = setup(t);
  env.randoms = [0.25, 0.5, 0.999];
  const definitions = [job('a', { firstRunSpreadMs: 1_000 }), job('b', { firstRunSpreadMs: 1_000 }), job('c')];
  const runner = new JobRunner(env.db, definitions, env.options);
  t.same(
    runner.list().map((s) => [s.name, s.nextRunAt]),
    [
      ['a', T0 + 250],
      ['b', T0 + 500],
      ['c', T0],
    ],
    'each first run lands at now + floor(random * spread); no spread means now',
  );

  env.now = T0 + 5_000;
  env.randoms = [0.75];
  const again = new JobRunner(env.db, definitions, env.options);
  t.same(
    again.list().map((s) => s.nextRunAt),
    [T0 + 250, T0 + 500, T0],
    'a later construction keeps the existing schedule instead of spreading again',
  );
});

t.test('a tick runs only due jobs, oldest due first, and reports the earliest due time as the next alarm', async (t) => {
  const env = setup(t);
  const ran: string[] = [];
  const definitions = ['a', 'b', 'c', 'd', 'e'].map((name) =>
    job(name, {
      run: async () => {
        ran.push(name);
        return { nextRunAt: T0 + 1_000_000 };
      },
    }),
  );
  const runner = new JobRunner(env.db, definitions, env.options);
  setRow(env.db, 'a', { next_run_at: T0 - 10 });
  setRow(env.db, 'b', { next_run_at: T0 - 300 });
  setRow(env.db, 'c', { next_run_at: T0 + 100 }); // not due yet
  setRow(env.db, 'd', { next_run_at: T0 - 500, paused_until: T0 + 50 }); // paused: due at T0 + 50
  setRow(env.db, 'e', { next_run_at: T0 }); // due exactly now

  t.equal(runner.nextAlarmAt(), T0 - 300, 'the alarm is the earliest due time');
  const { runs, nextAlarmAt } = await runner.tick();
  t.same(ran, ['b', 'a', 'e'], 'only due jobs ran, oldest due first');
  t.same(
    runs.map((r) => [r.job, r.ok]),
    [
      ['b', true],
      ['a', true],
      ['e', true],
    ],
  );
  t.equal(nextAlarmAt, T0 + 50, 'a paused job is due when its pause ends, which is now the earliest');
  t.equal(runner.nextAlarmAt(), T0 + 50);
});

t.test('the jobs of a tick run one at a time, and ticks called together do not overlap', async (t) => {
  const env = setup(t);
  let active = 0;
  let maxActive = 0;
  const counts: Record<string, number> = {};
  const definitions = ['a', 'b', 'c'].map((name) =>
    job(name, {
      run: async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        counts[name] = (counts[name] ?? 0) + 1;
        await new Promise((resolve) => setTimeout(resolve, 15));
        active--;
      },
    }),
  );
  const runner = new JobRunner(env.db, definitions, env.options);
  const results = await Promise.all([runner.tick(), runner.tick(), runner.tick()]);
  t.equal(maxActive, 1, 'never more than one run at a time');
  t.same(counts, { a: 1, b: 1, c: 1 }, 'each due job ran exactly once across the concurrent ticks');
  t.same(
    results.map((r) => r.runs.length),
    [3, 0, 0],
    'the later ticks found nothing due',
  );
});

t.test('a job paused while an earlier job of the same tick runs is not run by that tick', async (t) => {
  const env = setup(t);
  let bRan = false;
  let runner!: JobRunner;
  const definitions = [
    job('a', {
      run: async () => {
        runner.pause('b', T0 + 10_000);
      },
    }),
    job('b', {
      run: async () => {
        bRan = true;
      },
    }),
  ];
  runner = new JobRunner(env.db, definitions, env.options);
  setRow(env.db, 'a', { next_run_at: T0 - 2 });
  setRow(env.db, 'b', { next_run_at: T0 - 1 });
  const { runs, nextAlarmAt } = await runner.tick();
  t.same(runs.map((r) => r.job), ['a']);
  t.notOk(bRan, 'the pause is honoured within the tick');
  t.equal(nextAlarmAt, T0 + 10_000);
});

t.test('a success resets the error counter and schedules the next run everyMs + jitter after it ended', async (t) => {
  const env = setup(t);
  const definitions = [
    job('a', {
      everyMs: 60_000,
      jitterMs: 1_000,
      run: async () => {
        env.now += 40; // the run takes 40 ms of clock time
      },
    }),
  ];
  const runner = new JobRunner(env.db, definitions, env.options);
  setRow(env.db, 'a', { consecutive_errors: 4, last_error: 'Error: old' });
  env.randoms = [0.5];
  const { runs } = await runner.tick();
  t.same(runs, [{ job: 'a', lagMs: 0, durationMs: 40, ok: true }]);
  const [state] = runner.list();
  t.equal(state!.consecutiveErrors, 0, 'the error counter is reset');
  t.equal(state!.nextRunAt, T0 + 40 + 60_000 + 500, 'end + everyMs + floor(random * jitterMs)');
  t.equal(state!.lastOkAt, T0 + 40);
  t.equal(state!.lastRunAt, T0 + 40);
  t.equal(state!.lastError, 'Error: old', 'the last error stays visible for diagnosis');
  t.equal(row(env.db, 'a')!['running_since'], null, 'the run marker is cleared');
});

t.test('a nextRunAt returned by a job overrides the regular cadence', async (t) => {
  const env = setup(t);
  const runner = new JobRunner(env.db, [job('a', { everyMs: 60_000, jitterMs: 1_000, run: async () => ({ nextRunAt: T0 + 7 }) })], env.options);
  env.randoms = [0.9];
  await runner.tick();
  t.equal(runner.list()[0]!.nextRunAt, T0 + 7);
  t.equal(runner.nextAlarmAt(), T0 + 7);
});

t.test('consecutive failures trip the breaker at the threshold and the job waits out the pause', async (t) => {
  const env = setup(t);
  let attempts = 0;
  let succeed = false;
  const definitions = [
    job('flaky', {
      everyMs: 1_000,
      breaker: { threshold: 3, pauseMs: 30_000 },
      run: async () => {
        attempts++;
        if (!succeed) throw new TypeError(`boom ${attempts}`);
      },
    }),
  ];
  const runner = new JobRunner(env.db, definitions, env.options);

  for (const expected of [1, 2]) {
    const { runs } = await runner.tick();
    t.same(runs.map((r) => r.ok), [false], `failure ${expected} is reported`);
    const state = runner.list()[0]!;
    t.equal(state.consecutiveErrors, expected, `failure ${expected} is counted`);
    t.equal(state.lastError, `TypeError: boom ${expected}`, 'the error text is recorded');
    t.equal(state.lastErrorAt, env.now);
    t.equal(state.pausedUntil, null, 'below the threshold the job is not paused');
    t.equal(state.nextRunAt, env.now + 1_000, 'a failure below the threshold keeps the cadence');
    env.now = state.nextRunAt;
  }

  const trippedAt = env.now;
  await runner.tick();
  const tripped = runner.list()[0]!;
  t.equal(tripped.pausedUntil, trippedAt + 30_000, 'the third failure pauses for pauseMs');
  t.equal(tripped.consecutiveErrors, 0, 'the counter resets when the breaker trips');
  t.equal(tripped.lastError, 'TypeError: boom 3');
  t.equal(runner.nextAlarmAt(), trippedAt + 30_000, 'the next alarm is the end of the pause');

  env.now = trippedAt + 29_999;
  t.same((await runner.tick()).runs, [], 'the job is not due before the pause ends');
  t.equal(attempts, 3);

  env.now = trippedAt + 30_000;
  succeed = true;
  t.same((await runner.tick()).runs.map((r) => r.ok), [true], 'the job runs again when the pause ends');
});

t.test('a job that throws synchronously or rejects with a non-Error is recorded as a failure, text capped at 500 chars', async (t) => {
  const env = setup(t);
  const definitions = [
    job('sync', {
      run: () => {
        throw new RangeError('x'.repeat(1_000));
      },
    }),
    job('string', { run: () => Promise.reject('plain string') }),
  ];
  const runner = new JobRunner(env.db, definitions, env.options);
  const { runs } = await runner.tick();
  t.same(runs.map((r) => [r.job, r.ok]), [
    ['string', false],
    ['sync', false],
  ]);
  const states = Object.fromEntries(runner.list().map((s) => [s.name, s]));
  t.equal(states['sync']!.lastError, `RangeError: ${'x'.repeat(488)}`, 'the error text is capped');
  t.equal(states['sync']!.lastError!.length, 500);
  t.equal(states['string']!.lastError, 'plain string');
  t.equal(states['string']!.consecutiveErrors, 1);
});

t.test('without a breaker option the default trips after 10 failures', async (t) => {
  const env = setup(t);
  const runner = new JobRunner(env.db, [job('a', { everyMs: 1, run: async () => Promise.reject(new Error('no')) })], env.options);
  for (let i = 1; i <= 9; i++) {
    await runner.tick();
    t.equal(runner.list()[0]!.consecutiveErrors, i);
    env.now = runner.nextAlarmAt()!;
  }
  await runner.tick();
  t.equal(runner.list()[0]!.pausedUntil, env.now + 300_000);
  t.equal(runner.list()[0]!.consecutiveErrors, 0);
});

t.test('pause(name, until) holds a job back and pause(name, null) resumes it', async (t) => {
  const env = setup(t);
  let runs = 0;
  const runner = new JobRunner(env.db, [job('a', { run: async () => void runs++ })], env.options);
  t.ok(runner.pause('a', T0 + 5_000), 'pausing a defined job succeeds');
  t.equal(runner.list()[0]!.pausedUntil, T0 + 5_000);
  t.equal(runner.nextAlarmAt(), T0 + 5_000);
  await runner.tick();
  t.equal(runs, 0, 'a paused job does not run');

  t.ok(runner.pause('a', null));
  t.equal(runner.list()[0]!.pausedUntil, null);
  t.equal(runner.nextAlarmAt(), T0, 'resumed, it is due at its own next run again');
  await runner.tick();
  t.equal(runs, 1, 'a resumed job runs');

  t.notOk(runner.pause('ghost', T0 + 1), 'pausing an undefined job is refused');
});

t.test('a run marker left behind is settled as an "interrupted" failure on the next construction', async (t) => {
  const env = setup(t);
  const definitions = [job('a', { everyMs: 10_000, jitterMs: 100, breaker: { threshold: 2, pauseMs: 50_000 } })];
  new JobRunner(env.db, definitions, env.options);
  setRow(env.db, 'a', { running_since: T0 - 1_000 });

  env.now = T0 + 1;
  env.randoms = [0.5];
  const runner = new JobRunner(env.db, definitions, env.options);
  const state = runner.list()[0]!;
  t.equal(state.consecutiveErrors, 1, 'the interrupted run counts as a failure');
  t.match(state.lastError, /^interrupted/);
  t.equal(state.lastErrorAt, T0 + 1);
  t.equal(state.nextRunAt, T0 + 1 + 10_000 + 50, 'rescheduled on the regular cadence');
  t.equal(row(env.db, 'a')!['running_since'], null, 'the marker is cleared');

  // A second crash mid-run reaches the threshold: a job that kills its thread trips its own breaker.
  setRow(env.db, 'a', { running_since: T0 + 2 });
  env.now = T0 + 3;
  const third = new JobRunner(env.db, definitions, env.options);
  t.equal(third.list()[0]!.pausedUntil, T0 + 3 + 50_000);
  t.equal(third.list()[0]!.consecutiveErrors, 0);
});

t.test('a run that never ended before the DB was closed is counted as interrupted when the tenant reopens', async (t) => {
  const env = setup(t);
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const hang: JobDefinition = job('hang', {
    run: () => {
      started();
      return new Promise(() => undefined);
    },
  });
  const first = new JobRunner(env.db, [hang], env.options);
  void first.tick();
  await running;
  t.equal(row(env.db, 'hang')!['running_since'], T0, 'the run is announced before it starts');
  checkpointAndClose(env.db); // the thread dies with the run in flight

  env.now = T0 + 500;
  const db = env.reopen();
  const runner = new JobRunner(db, [hang], env.options);
  const state = runner.list()[0]!;
  t.equal(state.consecutiveErrors, 1);
  t.match(state.lastError, /interrupted/);
  t.equal(row(db, 'hang')!['running_since'], null);
});

t.test('the schedule survives closing and reopening the DB file (hibernation)', async (t) => {
  const env = setup(t);
  const definitions = [
    job('a', { everyMs: 60_000, jitterMs: 1_000, firstRunSpreadMs: 10_000 }),
    job('b', { everyMs: 5_000, firstRunSpreadMs: 10_000, run: async () => Promise.reject(new Error('down')) }),
    job('c', { everyMs: 5_000, firstRunSpreadMs: 10_000 }),
  ];
  env.randoms = [0.1, 0.2, 0.3];
  const runner = new JobRunner(env.db, definitions, env.options);
  env.now = T0 + 2_500;
  await runner.tick(); // a and b are due
  runner.pause('c', T0 + 99_000);
  const before = runner.list();
  const alarm = runner.nextAlarmAt();
  t.equal(before.find((s) => s.name === 'b')!.consecutiveErrors, 1);
  checkpointAndClose(env.db);

  env.now = T0 + 3_000;
  env.randoms = [0.9];
  const woken = new JobRunner(env.reopen(), definitions, env.options);
  t.same(woken.list(), before, 'a new runner on the reopened file sees exactly the same schedule');
  t.equal(woken.nextAlarmAt(), alarm);
});

t.test('lagMs is the start of each run minus its due time', async (t) => {
  const env = setup(t);
  const definitions = [
    job('first', {
      run: async () => {
        env.now += 40;
      },
    }),
    job('second', {
      run: async () => {
        env.now += 5;
      },
    }),
    job('paused', {}),
  ];
  const runner = new JobRunner(env.db, definitions, env.options);
  setRow(env.db, 'first', { next_run_at: T0 - 250 });
  setRow(env.db, 'second', { next_run_at: T0 - 100 });
  setRow(env.db, 'paused', { next_run_at: T0 - 900, paused_until: T0 - 30 });
  const { runs } = await runner.tick();
  t.same(runs, [
    { job: 'first', lagMs: 250, durationMs: 40, ok: true },
    { job: 'second', lagMs: 140, durationMs: 5, ok: true },
    { job: 'paused', lagMs: 75, durationMs: 0, ok: true },
  ]);
});

t.test('an aborted signal stops a tick before its next job', async (t) => {
  const env = setup(t);
  const controller = new AbortController();
  const ran: string[] = [];
  let seenSignal: AbortSignal | undefined;
  const definitions = [
    job('a', {
      run: async ({ signal }) => {
        ran.push('a');
        seenSignal = signal;
        controller.abort();
      },
    }),
    job('b', { run: async () => void ran.push('b') }),
  ];
  const runner = new JobRunner(env.db, definitions, env.options);
  setRow(env.db, 'a', { next_run_at: T0 - 2 });
  setRow(env.db, 'b', { next_run_at: T0 - 1 });
  const { runs } = await runner.tick(controller.signal);
  t.same(ran, ['a'], 'b did not start after the abort');
  t.same(runs.map((r) => r.job), ['a']);
  t.equal(seenSignal, controller.signal, 'the job receives the tick signal');
  t.equal(runner.list().find((s) => s.name === 'b')!.nextRunAt, T0 - 1, 'b is still due');

  t.same((await runner.tick(controller.signal)).runs, [], 'an already aborted tick runs nothing');
  t.same((await runner.tick()).runs.map((r) => r.job), ['b'], 'a fresh tick runs what was left');
});

t.test('rows of jobs that are no longer defined are ignored', async (t) => {
  const env = setup(t);
  new JobRunner(env.db, [job('ghost'), job('kept')], env.options);
  setRow(env.db, 'ghost', { next_run_at: T0 - 10_000, running_since: T0 - 5_000 });
  setRow(env.db, 'kept', { next_run_at: T0 + 100 });

  const runner = new JobRunner(env.db, [job('kept')], env.options);
  t.same(runner.list().map((s) => s.name), ['kept'], 'list shows defined jobs only');
  t.equal(runner.nextAlarmAt(), T0 + 100, 'the old row does not set the alarm');
  t.same((await runner.tick()).runs, [], 'the old row does not run');
  t.notOk(runner.pause('ghost', T0), 'nor can it be paused');
  const ghost = row(env.db, 'ghost')!;
  t.equal(ghost['running_since'], T0 - 5_000, 'its marker is not settled');
  t.equal(ghost['consecutive_errors'], 0);

  const none = new JobRunner(env.db, [], env.options);
  t.equal(none.nextAlarmAt(), null, 'with no job defined there is no alarm');
  t.same((await none.tick()).nextAlarmAt, null);
});
