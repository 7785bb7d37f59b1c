/**
 * One activation of one tenant: from "DB opened" to "DB closed", on one worker thread.
 *
 * The shape follows Durable Objects: from outside the actor only receives requests, alarms,
 * ceilings and the order to hibernate, all through its port; inside it owns its SQLite file and
 * nothing else. Everything that must survive is written as it changes, so the supervisor may end
 * the activation (or the thread may die) at any point without losing committed work.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { MessagePort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import {
  parseMessage,
  correlationIdOf,
  itemsOfBatch,
  RemoteError,
  ToTenantSchema,
  TenantSecrets,
  type Activate,
  type Ceilings,
  type Hibernated,
  type Request,
  type Response,
  type ToSupervisor,
  type ToTenant,
  type XApp,
} from '../protocol/index.js';
import { checkpointAndClose, openDatabase } from '../migrations/runner.js';
import { JobRunner, type JobDefinition } from './jobs.js';
import { handlers, type Handler, type HandlerContext } from './handlers.js';
import { devHandlers, devJobs } from './dev-hooks.js';
import { activityHandlers } from './api/activity.js';
import { liveHandlers } from './api/live.js';
import { costHandlers } from './api/costs.js';
import { assistHandlers } from './api/assist.js';
import { strategyHandlers } from './api/strategy.js';
import { llmHandlers } from './llm/handlers.js';
import { settingsHandlers } from './api/settings.js';
import { targetHandlers } from './api/targets.js';
import { discoveryHandlers } from './api/discovery.js';
import { analyticsHandlers } from './api/analytics.js';
import { mediaHandlers } from './api/media.js';
import { backupHandlers } from './api/backup.js';
import { exportHandlers } from './api/export.js';
import { XAccount } from './x-account.js';
import { actorLoopDeps, runtimeEnabled, runtimeJobs, type LoopDeps } from './runtime/loops/index.js';
import { wakeGateWaiters } from './runtime/loops/gate.js';
import { runtimeDevHandlers, runtimeHandlers } from './runtime/runtime-handlers.js';
import { approvalDevHandlers, approvalHandlers } from './api/approvals.js';
import { onboardingHandlers } from './api/onboarding.js';
import { contentHandlers } from './api/content.js';

/** The job set: the runtime's loops while the user has them started or paused, and the dev hooks' jobs. */
function jobDefinitions(db: Database.Database, devHooks: boolean, loopDeps: () => LoopDeps): JobDefinition[] {
  return [...(devHooks ? devJobs(db) : []), ...(runtimeEnabled(db) ? runtimeJobs(loopDeps()) : [])];
}

/** setTimeout's ceiling (~24.8 days); later alarms are re-armed when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class TenantActor {
  readonly #init: Activate;
  readonly #port: MessagePort;
  readonly #log: Logger;
  readonly #handlers: Record<string, Handler>;
  readonly #activatedAt = Date.now();
  readonly #shutdownSignal = new AbortController();
  #db!: Database.Database;
  #jobs!: JobRunner;
  #ceilings: Ceilings;
  readonly #secrets: TenantSecrets | null;
  #xAccount: XAccount | null = null;
  #runtimeDeps: LoopDeps | null = null;
  #xApp: XApp | null;
  #inflight = new Set<Promise<unknown>>();
  /** Answers of the requests being handled now, to travel in one message. */
  #responses: Response[] = [];
  #answeringBatch = false;
  #tickRunning: Promise<void> | null = null;
  #tickAgain = false;
  #alarmTimer: NodeJS.Timeout | null = null;
  #timers: NodeJS.Timeout[] = [];
  #closing = false;
  #done!: (result: Hibernated) => void;
  #failed!: (error: Error) => void;

  constructor(init: Activate, port: MessagePort, log: Logger) {
    this.#init = init;
    this.#port = port;
    this.#log = log;
    this.#ceilings = init.ceilings;
    this.#secrets = init.secrets ? new TenantSecrets(init.tenantId, init.secrets) : null;
    this.#xApp = init.x;
    this.#handlers = { ...handlers, ...llmHandlers, ...settingsHandlers, ...activityHandlers, ...costHandlers, ...targetHandlers, ...discoveryHandlers, ...analyticsHandlers, ...contentHandlers, ...mediaHandlers, ...runtimeHandlers, ...approvalHandlers, ...onboardingHandlers, ...liveHandlers, ...(init.devHooks ? devHandlers((message) => this.#port.postMessage(message)) : {}), ...(init.devHooks ? { ...runtimeDevHandlers, ...approvalDevHandlers } : {}) };
    Object.assign(this.#handlers, backupHandlers, exportHandlers);
    Object.assign(this.#handlers, strategyHandlers, assistHandlers);
  }

  /** Opens the tenant and resolves when it has hibernated. */
  run(): Promise<Hibernated> {
    const finished = new Promise<Hibernated>((resolve, reject) => {
      this.#done = resolve;
      this.#failed = reject;
    });
    // Heartbeats start before the DB opens so a migration that hangs is caught too.
    this.#startHeartbeats();
    try {
      // Only this activation may touch the file while it is active (the supervisor never opens
      // a tenant DB), so it is held exclusively.
      this.#db = openDatabase(this.#init.dbPath, 'tenant', { exclusive: true });
      this.#jobs = new JobRunner(this.#db, jobDefinitions(this.#db, this.#init.devHooks, () => this.#loopDeps()));
    } catch (error) {
      this.#stopTimers();
      if (this.#db?.open) this.#db.close();
      this.#port.close();
      throw error;
    }
    this.#port.on('message', (data: unknown) => this.#receive(data));
    this.#post({ type: 'ready', nextAlarmAt: this.#jobs.nextAlarmAt() });
    void this.#tick();
    return finished;
  }

  #receive(data: unknown): void {
    const parsed = parseMessage(ToTenantSchema, data);
    if (!parsed.ok) {
      // One bad request must not fail the others that travelled with it: judge them one by one.
      const items = itemsOfBatch(data, 'requests');
      if (items && items.length > 0) {
        for (const item of items) this.#receive(item);
        return;
      }
      this.#log.warn({ problem: parsed.problem }, 'rejected malformed message from supervisor');
      const id = correlationIdOf(data);
      if (id !== undefined) this.#respond({ type: 'response', id, ok: false, error: { code: 'protocol_error', message: parsed.problem } });
      return;
    }
    this.#handle(parsed.message);
  }

  #handle(message: ToTenant): void {
    switch (message.type) {
      case 'request':
        this.#track(this.#answer(message));
        return;
      case 'requests':
        // Answers given synchronously (refusals) wait for the others of the batch.
        this.#answeringBatch = true;
        for (const request of message.requests) this.#track(this.#answer(request));
        this.#answeringBatch = false;
        queueMicrotask(this.#flushResponses);
        return;
      case 'alarm':
        void this.#tick();
        return;
      case 'set-ceilings':
        this.#ceilings = message.ceilings;
        if ((message.ceilings === null || message.ceilings.automation) && wakeGateWaiters(this.#db, ['automation_off']) > 0) void this.#tick();
        return;
      case 'set-x-app':
        this.#xApp = message.x;
        // The next use builds the client for the new app (its tokens belong to that app).
        this.#xAccount = null;
        if (message.x !== null && wakeGateWaiters(this.#db, ['x_not_configured']) > 0) void this.#tick();
        return;
      case 'hibernate':
        void this.#close(Number.POSITIVE_INFINITY);
        return;
      case 'shutdown':
        void this.#close(message.deadline);
        return;
    }
  }

  async #answer(request: Request): Promise<void> {
    const { id, method } = request;
    if (this.#closing) {
      this.#respond({ type: 'response', id, ok: false, error: { code: 'hibernating', message: 'The tenant is hibernating; retry.' } });
      return;
    }
    if (Date.now() >= request.deadline) {
      this.#respond({ type: 'response', id, ok: false, error: { code: 'deadline_exceeded', message: 'The request expired before it started.' } });
      return;
    }
    const handler = Object.hasOwn(this.#handlers, method) ? this.#handlers[method] : undefined;
    if (!handler) {
      this.#respond({ type: 'response', id, ok: false, error: { code: 'unknown_method', message: `No handler for "${method}".` } });
      return;
    }
    try {
      const result = await handler(this.#context(id), request.params);
      this.#respond({ type: 'response', id, ok: true, result });
    } catch (error) {
      if (error instanceof RemoteError) {
        this.#respond({ type: 'response', id, ok: false, error: error.toBody() });
      } else {
        this.#log.error({ err: error, method }, 'request handler failed');
        this.#respond({ type: 'response', id, ok: false, error: { code: 'internal_error', message: 'The tenant failed to handle the request.' } });
      }
    }
  }

  #context(requestId: number): HandlerContext {
    return {
      requestId,
      tenantId: this.#init.tenantId,
      db: this.#db,
      jobs: this.#jobs,
      ceilings: this.#ceilings,
      secrets: this.#secrets,
      x: this.#xApp,
      xAccount: () => this.#x(),
      mode: this.#init.mode,
      llmFallback: this.#init.llmFallback,
      activatedAt: this.#activatedAt,
      tick: () => this.#tick(),
      reloadJobs: () => this.#reloadJobs(),
      emit: (event) => this.#post({ type: 'event', event }),
    };
  }

  #x(): XAccount {
    this.#xAccount ??= new XAccount({
      db: this.#db,
      secrets: this.#secrets,
      app: this.#xApp,
      ceilings: () => this.#ceilings,
      emit: (event) => this.#post({ type: 'event', event }),
      log: this.#log,
    });
    return this.#xAccount;
  }

  #loopDeps(): LoopDeps {
    this.#runtimeDeps ??= actorLoopDeps({
      db: this.#db,
      ceilings: () => this.#ceilings,
      x: () => this.#x(),
      emit: (event) => this.#post({ type: 'event', event }),
      secrets: this.#secrets,
      llmFallback: this.#init.llmFallback,
    });
    return this.#runtimeDeps;
  }

  /** A new job runner for the current job set, built between ticks so no run is cut in two. */
  async #reloadJobs(): Promise<void> {
    while (this.#tickRunning) await this.#tickRunning;
    if (this.#closing) return;
    this.#jobs = new JobRunner(this.#db, jobDefinitions(this.#db, this.#init.devHooks, () => this.#loopDeps()));
    // Not awaited: a due job may call X, and the request that started the runtime should not wait for it.
    void this.#tick();
  }

  /** Runs due jobs; overlapping calls coalesce into one more pass after the current one. */
  #tick(): Promise<void> {
    if (this.#closing) return Promise.resolve();
    if (this.#tickRunning) {
      this.#tickAgain = true;
      return this.#tickRunning;
    }
    const run = async (): Promise<void> => {
      do {
        this.#tickAgain = false;
        const { runs, nextAlarmAt } = await this.#jobs.tick(this.#shutdownSignal.signal);
        // Reported even while hibernating: the port stays open until in-flight work is done.
        this.#post({ type: 'tick', runs, nextAlarmAt });
        if (this.#closing) return;
        this.#armAlarm(nextAlarmAt);
      } while (this.#tickAgain && !this.#closing);
    };
    this.#tickRunning = run()
      .catch((error: unknown) => this.#log.error({ err: error }, 'tick failed'))
      .finally(() => {
        this.#tickRunning = null;
      });
    return this.#tickRunning;
  }

  #armAlarm(at: number | null): void {
    if (this.#alarmTimer) clearTimeout(this.#alarmTimer);
    this.#alarmTimer = null;
    if (at === null) return;
    const delay = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS);
    this.#alarmTimer = setTimeout(() => void this.#tick(), delay);
  }

  #track(work: Promise<void>): void {
    this.#inflight.add(work);
    void work.finally(() => this.#inflight.delete(work));
  }

  #startHeartbeats(): void {
    const beat = () => this.#post({ type: 'heartbeat', at: Date.now() });
    beat();
    this.#timers.push(setInterval(beat, this.#init.heartbeatMs));
    let previous: EventLoopUtilization = performance.eventLoopUtilization();
    this.#timers.push(
      setInterval(() => {
        const current = performance.eventLoopUtilization();
        const heap = getHeapStatistics();
        this.#post({
          type: 'metrics',
          metrics: {
            heapUsedBytes: heap.used_heap_size,
            heapTotalBytes: heap.total_heap_size,
            eventLoopUtilization: Math.min(1, Math.max(0, performance.eventLoopUtilization(current, previous).utilization)),
          },
        });
        previous = current;
      }, this.#init.metricsMs),
    );
  }

  #stopTimers(): void {
    for (const timer of this.#timers) clearInterval(timer);
    if (this.#alarmTimer) clearTimeout(this.#alarmTimer);
  }

  /** Waits for in-flight work (until `deadline`), closes the DB and ends the activation. */
  async #close(deadline: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    if (this.#alarmTimer) clearTimeout(this.#alarmTimer);
    const pending = Promise.allSettled([...this.#inflight, this.#tickRunning ?? Promise.resolve()]);
    const remaining = deadline - Date.now();
    if (Number.isFinite(remaining)) {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, remaining))));
      await Promise.race([pending, expired]);
      clearTimeout(timer);
      this.#shutdownSignal.abort();
    } else {
      await pending;
    }
    try {
      const nextAlarmAt = this.#jobs.nextAlarmAt();
      checkpointAndClose(this.#db);
      this.#stopTimers();
      this.#flushResponses();
      this.#port.close();
      this.#done({ type: 'hibernated', nextAlarmAt });
    } catch (error) {
      this.#stopTimers();
      this.#failed(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #respond(response: Response): void {
    this.#responses.push(response);
    // A microtask, not setImmediate: it runs after the answers of a batch's synchronous handlers,
    // and before anything the handlers scheduled (a crash must not swallow an answer already given).
    if (this.#responses.length === 1 && !this.#answeringBatch) queueMicrotask(this.#flushResponses);
  }

  readonly #flushResponses = (): void => {
    const responses = this.#responses;
    if (responses.length === 0) return;
    this.#responses = [];
    this.#port.postMessage(responses.length === 1 ? responses[0] : { type: 'responses', responses });
  };

  #post(message: ToSupervisor): void {
    // Keeps the order the tenant said things in (an event before the answer it belongs to).
    this.#flushResponses();
    this.#port.postMessage(message);
  }
}
