/**
 * Persisted due-time jobs: the tenant's runtime loops, as rows of the `jobs` table.
 *
 * A job is "due" when both its `next_run_at` and its `paused_until` are in the past. A tick runs
 * the due jobs one at a time, oldest due first, and returns when the next one will be due: that
 * instant becomes the tenant's alarm. Nothing waits in memory across ticks, so a tenant can be
 * hibernated or killed between any two statements.
 *
 * A run is announced (`running_since`) before it starts and settled after it ends. A marker
 * left behind means the tenant died mid-run; the next activation counts it as a failure, so a job
 * that kills its thread trips its own breaker instead of being retried forever.
 */
import type Database from 'better-sqlite3';
import type { JobRun } from '../protocol/index.js';

export interface JobContext {
  db: Database.Database;
  /** When the tick started. */
  now: number;
  /** Aborted when the tenant is shutting down and will not wait for the run. */
  signal: AbortSignal;
}

export interface JobResult {
  /** Overrides the regular cadence for the next run (e.g. pacing between posts). */
  nextRunAt?: number;
}

export interface JobDefinition {
  name: string;
  /** Regular time between runs. */
  everyMs: number;
  /** Uniform random delay in [0, jitterMs] added to every scheduled run. */
  jitterMs?: number;
  /** The first run lands uniformly in [now, now + firstRunSpreadMs], so a fleet never starts at once. */
  firstRunSpreadMs?: number;
  /** After `threshold` consecutive failures the job pauses for `pauseMs` and its counter resets. */
  breaker?: { threshold: number; pauseMs: number };
  run(context: JobContext): Promise<JobResult | void>;
}

export interface JobState {
  name: string;
  nextRunAt: number;
  pausedUntil: number | null;
  consecutiveErrors: number;
  lastRunAt: number | null;
  lastOkAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
}

interface JobRow {
  name: string;
  next_run_at: number;
  paused_until: number | null;
  running_since: number | null;
  consecutive_errors: number;
  last_run_at: number | null;
  last_ok_at: number | null;
  last_error: string | null;
  last_error_at: number | null;
}

const DEFAULT_BREAKER = { threshold: 10, pauseMs: 300_000 };
const INTERRUPTED = 'interrupted: the tenant stopped during this run';

export interface JobRunnerOptions {
  random?: () => number;
  clock?: () => number;
}

export class JobRunner {
  readonly #db: Database.Database;
  readonly #definitions: Map<string, JobDefinition>;
  readonly #random: () => number;
  readonly #clock: () => number;
  readonly #statements;
  #lastTick: Promise<unknown> = Promise.resolve();

  constructor(db: Database.Database, definitions: JobDefinition[], options: JobRunnerOptions = {}) {
    this.#db = db;
    this.#definitions = new Map(definitions.map((d) => [d.name, d]));
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? Date.now;
    this.#statements = {
      all: db.prepare<[], JobRow>('SELECT * FROM jobs ORDER BY name'),
      one: db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE name = ?'),
      insert: db.prepare('INSERT OR IGNORE INTO jobs (name, next_run_at) VALUES (?, ?)'),
      start: db.prepare('UPDATE jobs SET running_since = ? WHERE name = ?'),
      succeed: db.prepare(
        'UPDATE jobs SET running_since = NULL, consecutive_errors = 0, last_run_at = ?, last_ok_at = ?, next_run_at = ? WHERE name = ?',
      ),
      fail: db.prepare(
        `UPDATE jobs SET running_since = NULL, consecutive_errors = ?, paused_until = coalesce(?, paused_until),
           last_run_at = ?, last_error = ?, last_error_at = ?, next_run_at = ? WHERE name = ?`,
      ),
      pause: db.prepare('UPDATE jobs SET paused_until = ? WHERE name = ?'),
    };
    this.#sync();
  }

  /** Gives every defined job a row and settles runs that a crash interrupted. */
  #sync(): void {
    const now = this.#clock();
    this.#db.transaction(() => {
      for (const definition of this.#definitions.values()) {
        const spread = definition.firstRunSpreadMs ?? 0;
        this.#statements.insert.run(definition.name, now + Math.floor(this.#random() * spread));
      }
      for (const row of this.#statements.all.all()) {
        const definition = this.#definitions.get(row.name);
        if (definition && row.running_since !== null) this.#recordFailure(definition, row, now, INTERRUPTED);
      }
    })();
  }

  /**
   * Runs every due job, one at a time; returns what ran and the next alarm. A tick called while
   * another is running waits for it, so two runs never overlap and no run is repeated.
   */
  tick(signal: AbortSignal = new AbortController().signal): Promise<{ runs: JobRun[]; nextAlarmAt: number | null }> {
    const result = this.#lastTick.then(() => this.#tickNow(signal));
    this.#lastTick = result.catch(() => undefined);
    return result;
  }

  async #tickNow(signal: AbortSignal): Promise<{ runs: JobRun[]; nextAlarmAt: number | null }> {
    const runs: JobRun[] = [];
    const tickStart = this.#clock();
    const due = this.#rows()
      .filter((row) => dueAt(row) <= tickStart)
      .sort((a, b) => dueAt(a) - dueAt(b));
    for (const { name } of due) {
      if (signal.aborted) break;
      // Re-read: an earlier run, or a request served meanwhile, may have paused or rescheduled it.
      const row = this.#statements.one.get(name);
      if (!row || dueAt(row) > tickStart) continue;
      runs.push(await this.#run(row, signal));
    }
    return { runs, nextAlarmAt: this.nextAlarmAt() };
  }

  async #run(row: JobRow, signal: AbortSignal): Promise<JobRun> {
    const definition = this.#definitions.get(row.name)!;
    const startedAt = this.#clock();
    const lagMs = Math.max(0, startedAt - dueAt(row));
    this.#statements.start.run(startedAt, row.name);
    try {
      const result = await definition.run({ db: this.#db, now: startedAt, signal });
      const endedAt = this.#clock();
      const nextRunAt = result?.nextRunAt ?? this.#nextRegularRun(definition, endedAt);
      this.#statements.succeed.run(endedAt, endedAt, nextRunAt, row.name);
      return { job: row.name, lagMs, durationMs: endedAt - startedAt, ok: true };
    } catch (error) {
      const endedAt = this.#clock();
      // The DB may already be closed when a shutdown abandoned this run; the marker stays and
      // the next activation settles it.
      if (this.#db.open) {
        const current = this.#statements.one.get(row.name)!;
        this.#recordFailure(definition, current, endedAt, describe(error));
      }
      return { job: row.name, lagMs, durationMs: endedAt - startedAt, ok: false };
    }
  }

  #recordFailure(definition: JobDefinition, row: JobRow, now: number, message: string): void {
    const breaker = definition.breaker ?? DEFAULT_BREAKER;
    const errors = row.consecutive_errors + 1;
    const tripped = errors >= breaker.threshold;
    const pausedUntil = tripped ? now + breaker.pauseMs : null;
    this.#statements.fail.run(
      tripped ? 0 : errors,
      pausedUntil,
      now,
      message.slice(0, 500),
      now,
      pausedUntil ?? this.#nextRegularRun(definition, now),
      row.name,
    );
  }

  #nextRegularRun(definition: JobDefinition, from: number): number {
    return from + definition.everyMs + Math.floor(this.#random() * (definition.jitterMs ?? 0));
  }

  #rows(): JobRow[] {
    return this.#statements.all.all().filter((row) => this.#definitions.has(row.name));
  }

  /** When the earliest defined job becomes due; null when no job is defined. */
  nextAlarmAt(): number | null {
    let next: number | null = null;
    for (const row of this.#rows()) next = next === null ? dueAt(row) : Math.min(next, dueAt(row));
    return next;
  }

  /** Pauses a job until `until` (null resumes it). */
  pause(name: string, until: number | null): boolean {
    if (!this.#definitions.has(name)) return false;
    this.#statements.pause.run(until, name);
    return true;
  }

  list(): JobState[] {
    return this.#rows().map((row) => ({
      name: row.name,
      nextRunAt: row.next_run_at,
      pausedUntil: row.paused_until,
      consecutiveErrors: row.consecutive_errors,
      lastRunAt: row.last_run_at,
      lastOkAt: row.last_ok_at,
      lastError: row.last_error,
      lastErrorAt: row.last_error_at,
    }));
  }
}

function dueAt(row: JobRow): number {
  return Math.max(row.next_run_at, row.paused_until ?? 0);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
