/**
 * Fault injection and load simulation, for tests and benchmarks only.
 *
 * Registered only when the activation says `devHooks: true`, which the supervisor refuses in
 * cloud mode. They let a test make a real tenant thread throw, run out of memory or spin, and
 * let a benchmark give thousands of tenants jobs that wait on simulated I/O.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as v from 'valibot';
import type Database from 'better-sqlite3';
import { validate, type Handler } from './handlers.js';
import type { JobDefinition } from './jobs.js';

/** `post` writes raw messages to the supervisor, bypassing the protocol's types. */
export function devHandlers(post: (message: unknown) => void): Record<string, Handler> {
  return {
    /** Sends malformed messages, one of them answering this very request, then answers properly. */
    'dev.garbage': (context) => {
      post({ type: 'nonsense' });
      post({ type: 'heartbeat', at: -1 });
      post({ type: 'response', id: context.requestId, ok: 'maybe' });
      return { sent: 3 };
    },

    /** Answers this request inside a batch whose other answer is well-formed (an unknown id). */
    'dev.garbage-batch': (context) => {
      post({ type: 'responses', responses: [{ type: 'response', id: context.requestId, ok: 'maybe' }, { type: 'response', id: 2 ** 40, ok: true }] });
      return { sent: 1 };
    },

    /** An uncaught exception outside any request: the thread dies. */
    'dev.throw': () => {
      setImmediate(() => {
        throw new Error('dev.throw: injected crash');
      });
      return { crashing: true };
    },

    /** Allocates until the thread's heap limit ends it. */
    'dev.oom': () => {
      setImmediate(() => {
        const hoard: number[][] = [];
        for (;;) hoard.push(new Array(1_000_000).fill(hoard.length));
      });
      return { crashing: true };
    },

    /** Blocks the event loop forever: heartbeats stop. */
    'dev.spin': () => {
      setImmediate(() => {
        for (;;);
      });
      return { spinning: true };
    },

    'dev.sleep': async (_context, params) => {
      const { ms } = validate(v.object({ ms: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(60_000)) }), params);
      await sleep(ms);
      return { slept: ms };
    },
  };
}

const SimulatedIo = v.object({
  everyMs: v.pipe(v.number(), v.integer(), v.minValue(10)),
  waitMs: v.pipe(v.number(), v.integer(), v.minValue(0)),
  jitterMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0)), 0),
  /** `fail` makes every run throw, to exercise the breaker. */
  fail: v.optional(v.boolean(), false),
});

/**
 * A job that waits like a network call and records its run, configured per tenant by the
 * `dev.io` setting: `{ everyMs, waitMs, jitterMs?, fail? }`.
 */
export function devJobs(db: Database.Database): JobDefinition[] {
  const row = db.prepare<[], { value: string }>("SELECT value FROM settings WHERE key = 'dev.io'").get();
  if (!row) return [];
  const config = v.parse(SimulatedIo, JSON.parse(row.value));
  return [
    {
      name: 'dev.io',
      everyMs: config.everyMs,
      jitterMs: config.jitterMs,
      breaker: { threshold: 3, pauseMs: config.everyMs * 10 },
      async run({ db: jobDb, now }) {
        await sleep(config.waitMs);
        if (config.fail) throw new Error('dev.io: simulated failure');
        jobDb
          .prepare("INSERT INTO settings (key, value, updated_at) VALUES ('dev.io.runs', '1', ?) ON CONFLICT (key) DO UPDATE SET value = CAST(value AS INTEGER) + 1, updated_at = excluded.updated_at")
          .run(now);
      },
    },
  ];
}
