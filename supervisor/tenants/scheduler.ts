/**
 * The alarm scheduler: wakes hibernated tenants when their next job is due.
 *
 * The source of truth is `tenants.next_alarm_at` in the management DB (loaded at boot, and
 * re-read on every pass, so a change made by the CLI is seen too). One timer is armed for the
 * earliest alarm, never further than `maxSleepMs` away. Active tenants run their own alarms, so
 * a pass skips residents.
 */
import type { Logger } from 'pino';
import type { TenantRegistry } from './registry.js';

export interface SchedulerHost {
  isResident(tenantId: string): boolean;
  wake(tenantId: string, reason: 'alarm'): boolean;
}

export interface SchedulerOptions {
  registry: TenantRegistry;
  host: SchedulerHost;
  log: Logger;
  /** Candidates read per pass; enough to keep every thread busy. */
  batch: number;
  maxSleepMs?: number;
  /** While every due tenant is already resident, poll this often (they report when they sleep). */
  busyPollMs?: number;
}

export class AlarmScheduler {
  readonly #o: Required<SchedulerOptions>;
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #running = false;

  constructor(options: SchedulerOptions) {
    this.#o = { maxSleepMs: 1_000, busyPollMs: 250, ...options };
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    this.#running = true;
    this.#arm(Date.now());
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** A tenant's alarm changed; wake up earlier if it is sooner than the armed timer. */
  notify(at: number | null): void {
    if (this.#running && at !== null && at < this.#timerAt) this.#arm(at);
  }

  #arm(at: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    const now = Date.now();
    const target = Math.min(Math.max(at, now), now + this.#o.maxSleepMs);
    this.#timerAt = target;
    this.#timer = setTimeout(() => this.#pass(), target - now);
    this.#timer.unref();
  }

  #pass(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (!this.#running) return;
    const now = Date.now();
    try {
      for (const { id } of this.#o.registry.due(now, this.#o.batch)) {
        if (!this.#o.host.isResident(id) && !this.#o.host.wake(id, 'alarm')) break;
      }
    } catch (error) {
      this.#o.log.error({ err: error }, 'alarm scheduler pass failed');
    }
    // Due tenants that are already resident keep `next` in the past until they report back; poll
    // slowly for them and rely on `poke()` when a thread frees up.
    const next = this.#o.registry.nextDueAt();
    this.#arm(next === null ? now + this.#o.maxSleepMs : next <= now ? now + this.#o.busyPollMs : next);
  }

  /** A thread became free: look for due tenants soon (coalesced). */
  poke(): void {
    if (this.#running) this.notify(Date.now() + 5);
  }
}
