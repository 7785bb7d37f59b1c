/**
 * Runs tenant actors on a pool of worker threads: activation on demand, request routing,
 * hibernation when idle, and the watchdog.
 *
 * Model: a tenant is *resident* while it has a slot here (queued for a thread, activating, active,
 * hibernating, or waiting out a restart backoff) and *hibernated* otherwise, when it costs nothing
 * but its registry row. An activation is one long-running piscina task pinned to one thread; its
 * MessagePort carries the typed messages of protocol/. The host knows *that* a tenant is active,
 * idle, hung or crashed, never *what* it does (OTP's generic supervisor).
 */
import { EventEmitter } from 'node:events';
import { MessageChannel, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { Logger } from 'pino';
import {
  PendingRequests,
  PROTOCOL_VERSION,
  RemoteError,
  ToSupervisorSchema,
  correlationIdOf,
  itemsOfBatch,
  parseMessage,
  type Activate,
  type Ceilings,
  type Hibernated,
  type JobRun,
  type Request,
  type TenantEvent,
  type TenantMetrics,
  type TenantKeys,
  type LlmFallback,
  type XApp,
  type ToSupervisor,
  type ToTenant,
} from '../../protocol/index.js';
import type { Metrics, TenantGaugeSource } from '../metrics.js';
import { ActivationQueue, type Lane } from './activation-queue.js';
import type { TenantRegistry } from './registry.js';
import { classifyCrash, judgeCrash, type RestartPolicy } from './watchdog.js';

export type ActivationReason = Activate['reason'];

/** Alarm writes wait this long to share one registry transaction (one fsync on this thread). */
const REGISTRY_FLUSH_MS = 25;
type SlotState = 'queued' | 'activating' | 'active' | 'hibernating' | 'backoff';

export interface HostOptions {
  registry: TenantRegistry;
  log: Logger;
  metrics: Metrics;
  threads: number;
  idleMs: number;
  heapMb: number;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  metricsMs: number;
  activationQueue: number;
  restart: RestartPolicy;
  devHooks: boolean;
  logLevel: string;
  /** An activation (thread start, module load, DB open and migration) or a hibernation that
   * takes longer than this is treated as a hung tenant. Default 30 s. */
  transitionTimeoutMs?: number;
  /** Derives each tenant's own secret keys for its activation; absent: tenants hold no secrets. */
  secrets?: { tenantKeys(tenantId: string): TenantKeys };
  /** The X app a tenant talks to X through (the server's, or its user's own); absent: none. */
  xAppFor?: (tenantId: string) => XApp | null;
  /** Default: sandbox. */
  mode?: Activate['mode'];
  /** The LLM tenants use without their user's own key (the sandbox's); absent: none. */
  llmFallback?: LlmFallback | null;
}

interface WaitingRequest {
  method: string;
  params: unknown;
  deadline: number;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

interface Slot {
  id: string;
  state: SlotState;
  reason: ActivationReason;
  /** performance.now() when the tenant was asked for, for wake latency. */
  requestedAt: number;
  /** performance.now() when it left the queue for a thread. */
  dispatchedAt: number;
  port: MessagePort | null;
  abort: AbortController | null;
  pending: PendingRequests;
  /** Requests sent this turn of the event loop, posted together when it ends. */
  outbox: Request[];
  waiting: WaitingRequest[];
  attached: number;
  lastUsedAt: number;
  lastHeartbeatAt: number;
  activationStartedAt: number;
  hibernateStartedAt: number;
  killedAsUnresponsive: boolean;
  idleTimer: NodeJS.Timeout | null;
  restartTimer: NodeJS.Timeout | null;
  restartAt: number;
  metrics: TenantMetrics | null;
  /** Settles when the current activation task ends, cleanly or not. */
  task: Promise<void> | null;
  /** The tenant was stopped while resident: it finishes, then never comes back. */
  stopped: boolean;
  /** The registry's next_alarm_at as last written (undefined: unknown, read at admission). */
  persistedAlarm: number | null | undefined;
}

export interface HostEvents {
  event: [tenantId: string, event: TenantEvent];
  /** A tenant became active; `wakeMs` counts from the moment it was asked for, of which
   * `queuedMs` waiting for a thread. */
  activated: [tenantId: string, info: { reason: ActivationReason; wakeMs: number; queuedMs: number }];
  tick: [tenantId: string, runs: JobRun[]];
  quarantined: [tenantId: string, reason: string];
  alarm: [tenantId: string, nextAlarmAt: number | null];
}

export class TenantHost extends EventEmitter<HostEvents> implements TenantGaugeSource {
  readonly #o: HostOptions;
  readonly #pool: Piscina;
  readonly #slots = new Map<string, Slot>();
  readonly #queue: ActivationQueue;
  #threadsInUse = 0;
  #closing = false;
  readonly #watchdog: NodeJS.Timeout;
  #registryFlush: NodeJS.Timeout | null = null;
  readonly #outboxes = new Set<Slot>();

  constructor(options: HostOptions) {
    super();
    this.#o = options;
    this.#queue = new ActivationQueue(options.activationQueue);
    const fromSource = import.meta.url.endsWith('.ts');
    this.#pool = new Piscina({
      filename: new URL(`../../tenant-worker/worker${fromSource ? '.ts' : '.js'}`, import.meta.url).href,
      // Running from TypeScript sources (development, tests), threads load them through tsx's
      // esbuild transform: a type-checking loader inherited from a test runner costs seconds and
      // tens of MiB per thread. The compiled build (dist/) needs no loader.
      // Profiling flags are kept so `--cpu-prof` still covers tenant threads.
      ...(fromSource && { execArgv: [...process.execArgv.filter((arg) => /^--(cpu|heap)-prof/.test(arg)), '--import', 'tsx'] }),
      // Warm threads: spawning one costs ~60 ms, opening a tenant DB on a warm one ~5 ms.
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: 2 ** 31 - 1,
      concurrentTasksPerWorker: 1,
      atomics: 'disabled',
      resourceLimits: { maxOldGenerationSizeMb: options.heapMb, maxYoungGenerationSizeMb: Math.max(4, Math.floor(options.heapMb / 8)) },
    });
    // A thread that dies outside any task (e.g. while loading) is reported here, not to a task.
    this.#pool.on('error', (error: unknown) => options.log.error({ err: error }, 'tenant thread failed outside an activation'));
    this.#watchdog = setInterval(() => this.#checkHeartbeats(), Math.max(10, Math.min(options.heartbeatMs, options.heartbeatTimeoutMs / 2)));
    this.#watchdog.unref();
  }

  get threads(): number {
    return this.#o.threads;
  }

  /** True while the pool can take work (used by /readyz). */
  get up(): boolean {
    return !this.#closing;
  }

  isResident(tenantId: string): boolean {
    return this.#slots.has(tenantId);
  }

  state(tenantId: string): SlotState | 'hibernated' {
    return this.#slots.get(tenantId)?.state ?? 'hibernated';
  }

  // ---- the actor's outside: request, wake, attach/detach, ceilings ---------------------------

  /** Sends a request to the tenant, activating it first when needed. */
  request(tenantId: string, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.#closing) return Promise.reject(new RemoteError('shutting_down', 'The server is shutting down; retry shortly.'));
    const slot = this.#slots.get(tenantId) ?? this.#admit(tenantId, 'request');
    if (slot instanceof RemoteError) return Promise.reject(slot);
    if (slot.stopped) return Promise.reject(new RemoteError('tenant_stopped', 'This tenant is stopped.'));
    // Someone is waiting now: an alarm activation still in the queue moves to the front lane.
    if (slot.state === 'queued') this.#queue.push(slot.id, 'interactive');
    slot.lastUsedAt = Date.now();
    this.#clearIdle(slot);
    if (slot.state === 'active') return this.#send(slot, method, params, timeoutMs);
    if (slot.state === 'backoff') {
      const retryAfter = Math.max(1, Math.ceil((slot.restartAt - Date.now()) / 1000));
      return Promise.reject(new RemoteError('tenant_restarting', `The tenant crashed and restarts in ${retryAfter} s.`));
    }
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      const waiting: WaitingRequest = {
        method,
        params,
        deadline,
        resolve,
        reject,
        timer: setTimeout(() => {
          slot.waiting.splice(slot.waiting.indexOf(waiting), 1);
          reject(new RemoteError('deadline_exceeded', `The tenant did not become available within ${timeoutMs} ms.`));
        }, timeoutMs),
      };
      slot.waiting.push(waiting);
    });
  }

  /** Activates a tenant to run its due jobs (the alarm), or pokes it when already active. */
  wake(tenantId: string, reason: ActivationReason = 'alarm'): boolean {
    if (this.#closing) return false;
    const slot = this.#slots.get(tenantId);
    if (slot) {
      if (slot.state === 'active') this.#post(slot, { type: 'alarm' });
      return true;
    }
    return !(this.#admit(tenantId, reason) instanceof RemoteError);
  }

  /** A dashboard attached: keep the tenant active until the last one detaches. */
  attach(tenantId: string): boolean {
    if (this.#closing) return false;
    const slot = this.#slots.get(tenantId) ?? this.#admit(tenantId, 'attach');
    if (slot instanceof RemoteError) return false;
    if (slot.state === 'queued') this.#queue.push(slot.id, 'interactive');
    slot.attached += 1;
    slot.lastUsedAt = Date.now();
    this.#clearIdle(slot);
    return true;
  }

  detach(tenantId: string): void {
    const slot = this.#slots.get(tenantId);
    if (!slot || slot.attached === 0) return;
    slot.attached -= 1;
    slot.lastUsedAt = Date.now();
    this.#considerIdle(slot);
  }

  setCeilings(tenantId: string, ceilings: Ceilings): void {
    this.#o.registry.setCeilings(tenantId, ceilings);
    const slot = this.#slots.get(tenantId);
    // An activation in flight was sent the old ceilings: its port queues this until the actor listens.
    if (slot?.state === 'active' || slot?.state === 'activating') this.#post(slot, { type: 'set-ceilings', ceilings });
  }

  /** The tenant's X app changed: an activation in flight or active learns it now, later ones at activation. */
  setXApp(tenantId: string, x: XApp | null): void {
    const slot = this.#slots.get(tenantId);
    if (slot?.state === 'active' || slot?.state === 'activating') this.#post(slot, { type: 'set-x-app', x });
  }

  /** Stops a tenant for good (account deleted): no new activations, and it hibernates now if idle. */
  stop(tenantId: string): void {
    this.#o.registry.setStatus(tenantId, 'stopped');
    const slot = this.#slots.get(tenantId);
    if (!slot) return;
    slot.stopped = true;
    this.#queue.delete(tenantId);
    if (slot.restartTimer) clearTimeout(slot.restartTimer);
    slot.attached = 0;
    this.#failWaiting(slot, new RemoteError('tenant_stopped', 'This tenant is stopped.'));
    if (slot.state === 'active') this.#hibernate(slot, 'evict');
    else if (slot.state === 'queued' || slot.state === 'backoff') this.#slots.delete(tenantId);
  }

  /** Lifts a quarantine; the tenant wakes on its next alarm or request. */
  release(tenantId: string): boolean {
    const released = this.#o.registry.release(tenantId);
    if (released) this.#o.log.info({ tenantId }, 'tenant released from quarantine');
    return released;
  }

  // ---- admission and activation ---------------------------------------------------------------

  #admit(tenantId: string, reason: ActivationReason): Slot | RemoteError {
    const record = this.#o.registry.get(tenantId);
    if (!record) return new RemoteError('tenant_not_found', 'No such tenant.');
    if (record.status === 'quarantined') {
      return new RemoteError('tenant_quarantined', 'This tenant was stopped after repeated crashes; an operator must release it.');
    }
    if (record.status === 'stopped') return new RemoteError('tenant_stopped', 'This tenant is stopped.');
    const slot: Slot = {
      id: tenantId,
      state: 'queued',
      reason,
      requestedAt: performance.now(),
      dispatchedAt: 0,
      port: null,
      abort: null,
      pending: new PendingRequests(),
      outbox: [],
      waiting: [],
      attached: 0,
      lastUsedAt: 0,
      lastHeartbeatAt: 0,
      activationStartedAt: 0,
      hibernateStartedAt: 0,
      killedAsUnresponsive: false,
      idleTimer: null,
      restartTimer: null,
      restartAt: 0,
      metrics: null,
      task: null,
      stopped: false,
      persistedAlarm: record.nextAlarmAt,
    };
    if (!this.#queue.push(tenantId, laneOf(reason))) {
      return new RemoteError('overloaded', 'Every tenant thread is busy and the activation queue is full; retry shortly.');
    }
    this.#slots.set(tenantId, slot);
    this.#pump();
    return slot;
  }

  /** Starts queued activations while threads are free; makes room by evicting idle tenants. */
  #pump(): void {
    while (this.#threadsInUse < this.#o.threads && this.#queue.size > 0) {
      const slot = this.#slots.get(this.#queue.shift()!);
      if (slot && slot.state === 'queued') this.#activate(slot);
    }
    // Hibernating tenants are not counted as about to free a thread: an alarm-woken tenant is
    // hibernating for its whole job, which may wait on the network for a while.
    let shortfall = this.#queue.size;
    if (shortfall <= 0) return;
    // An open dashboard keeps its tenant warm, but never at the price of others waiting: idle tenants
    // with dashboards go last, and still go (the dashboard's next request wakes its tenant again).
    const evictable = [...this.#slots.values()]
      .filter((s) => s.state === 'active' && s.pending.size === 0 && s.waiting.length === 0)
      .sort((a, b) => Number(a.attached > 0) - Number(b.attached > 0) || a.lastUsedAt - b.lastUsedAt);
    for (const slot of evictable) {
      if (shortfall-- <= 0) break;
      this.#hibernate(slot, 'evict');
    }
  }

  #activate(slot: Slot): void {
    const { port1, port2 } = new MessageChannel();
    const abort = new AbortController();
    slot.state = 'activating';
    slot.port = port1;
    slot.abort = abort;
    slot.killedAsUnresponsive = false;
    slot.activationStartedAt = slot.lastHeartbeatAt = Date.now();
    slot.dispatchedAt = performance.now();
    this.#threadsInUse += 1;
    this.#o.metrics.activations.inc({ reason: slot.reason });
    port1.on('message', (data: unknown) => this.#receive(slot, data));

    const record = this.#o.registry.get(slot.id);
    const activation: Activate = {
      type: 'activate',
      protocolVersion: PROTOCOL_VERSION,
      tenantId: slot.id,
      dbPath: this.#o.registry.dbPath(slot.id),
      reason: slot.reason,
      ceilings: record?.ceilings ?? null,
      heartbeatMs: this.#o.heartbeatMs,
      metricsMs: this.#o.metricsMs,
      logLevel: this.#o.logLevel,
      devHooks: this.#o.devHooks,
      secrets: this.#o.secrets?.tenantKeys(slot.id) ?? null,
      x: this.#o.xAppFor?.(slot.id) ?? null,
      mode: this.#o.mode ?? 'sandbox',
      llmFallback: this.#o.llmFallback ?? null,
      port: port2,
    };
    slot.task = (this.#pool.run(activation, { transferList: [port2], signal: abort.signal }) as Promise<Hibernated>)
      .then(
        (result) => this.#onHibernated(slot, result),
        (error: unknown) => this.#onCrash(slot, error),
      )
      .catch((error: unknown) => this.#o.log.error({ err: error, tenantId: slot.id }, 'failed to settle a tenant activation'));
  }

  #receive(slot: Slot, data: unknown): void {
    const parsed = parseMessage(ToSupervisorSchema, data);
    if (!parsed.ok) {
      // One bad answer must not fail the others that travelled with it: judge them one by one.
      const items = itemsOfBatch(data, 'responses');
      if (items && items.length > 0) {
        for (const item of items) this.#receive(slot, item);
        return;
      }
      this.#o.metrics.protocolRejected.inc({ side: 'supervisor' });
      this.#o.log.warn({ tenantId: slot.id, problem: parsed.problem }, 'rejected malformed message from tenant');
      const id = correlationIdOf(data);
      if (id !== undefined) slot.pending.fail(id, new RemoteError('protocol_error', 'The tenant sent a malformed answer.'));
      return;
    }
    this.#handle(slot, parsed.message);
  }

  #handle(slot: Slot, message: ToSupervisor): void {
    switch (message.type) {
      case 'heartbeat':
        slot.lastHeartbeatAt = Date.now();
        return;
      case 'ready':
        this.#onReady(slot, message.nextAlarmAt);
        return;
      case 'response':
        slot.pending.settle(message);
        return;
      case 'responses':
        for (const response of message.responses) slot.pending.settle(response);
        return;
      case 'metrics':
        slot.metrics = message.metrics;
        return;
      case 'event':
        this.emit('event', slot.id, message.event);
        return;
      case 'tick':
        for (const run of message.runs) this.#o.metrics.jobLag.observe(run.lagMs / 1000);
        if (message.runs.length > 0) this.emit('tick', slot.id, message.runs);
        this.#persistAlarm(slot, message.nextAlarmAt);
        this.emit('alarm', slot.id, message.nextAlarmAt);
        return;
    }
  }

  #onReady(slot: Slot, nextAlarmAt: number | null): void {
    if (slot.state !== 'activating') return;
    slot.state = 'active';
    slot.lastHeartbeatAt = Date.now();
    const wakeMs = performance.now() - slot.requestedAt;
    this.#o.metrics.wakeSeconds.observe(wakeMs / 1000);
    this.emit('activated', slot.id, { reason: slot.reason, wakeMs, queuedMs: slot.dispatchedAt - slot.requestedAt });
    this.#persistAlarm(slot, nextAlarmAt);
    for (const waiting of slot.waiting.splice(0)) {
      clearTimeout(waiting.timer);
      const remaining = waiting.deadline - Date.now();
      if (remaining <= 0) {
        waiting.reject(new RemoteError('deadline_exceeded', 'The tenant did not become available in time.'));
        continue;
      }
      this.#send(slot, waiting.method, waiting.params, remaining).then(waiting.resolve, waiting.reject);
    }
    this.#considerIdle(slot);
  }

  /** Records the tenant's next alarm in the registry when it changed. */
  #persistAlarm(slot: Slot, at: number | null): void {
    if (slot.persistedAlarm === at) return;
    this.#o.registry.deferAlarm(slot.id, at);
    this.#scheduleRegistryFlush();
    slot.persistedAlarm = at;
  }

  #scheduleRegistryFlush(): void {
    if (this.#registryFlush) return;
    this.#registryFlush = setTimeout(() => {
      this.#registryFlush = null;
      this.#flushRegistry();
    }, REGISTRY_FLUSH_MS);
    this.#registryFlush.unref();
  }

  #flushRegistry(): void {
    try {
      this.#o.registry.flushDeferred();
    } catch (error) {
      // The deferred writes stay queued: the next flush retries them.
      this.#o.log.error({ err: error }, 'writing tenant alarms to the registry failed');
      if (!this.#closing) this.#scheduleRegistryFlush();
    }
  }

  #send(slot: Slot, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    const { message, result } = slot.pending.create(method, params, timeoutMs);
    slot.outbox.push(message);
    if (this.#outboxes.size === 0) setImmediate(this.#flushOutboxes);
    this.#outboxes.add(slot);
    return result.finally(() => {
      slot.lastUsedAt = Date.now();
      this.#considerIdle(slot);
    });
  }

  /**
   * Posts every slot's requests of this event-loop turn, one message per tenant: under load uWS
   * hands over several requests per turn, and each message is a structured clone and a wake-up
   * of the tenant's thread.
   */
  readonly #flushOutboxes = (): void => {
    for (const slot of this.#outboxes) this.#flushOutbox(slot);
    this.#outboxes.clear();
  };

  #flushOutbox(slot: Slot): void {
    const requests = slot.outbox;
    if (requests.length === 0) return;
    slot.outbox = [];
    slot.port?.postMessage(requests.length === 1 ? requests[0] : { type: 'requests', requests });
  }

  #post(slot: Slot, message: ToTenant): void {
    // Requests already sent go first: a hibernate order must not overtake them.
    this.#flushOutbox(slot);
    slot.port?.postMessage(message);
  }

  // ---- hibernation -----------------------------------------------------------------------------

  #isIdle(slot: Slot): boolean {
    return slot.state === 'active' && slot.attached === 0 && slot.pending.size === 0 && slot.waiting.length === 0;
  }

  /** Hibernates an idle tenant once `idleMs` have passed since it was last used, or at once
   * when other tenants are waiting for a thread. */
  #considerIdle(slot: Slot): void {
    this.#clearIdle(slot);
    if (!this.#isIdle(slot)) return;
    if (this.#queue.size > 0) {
      this.#hibernate(slot, 'evict');
      return;
    }
    const wait = slot.lastUsedAt + this.#o.idleMs - Date.now();
    if (wait <= 0) {
      this.#hibernate(slot, 'idle');
      return;
    }
    slot.idleTimer = setTimeout(() => {
      slot.idleTimer = null;
      if (this.#isIdle(slot)) this.#hibernate(slot, 'idle');
    }, wait);
  }

  #clearIdle(slot: Slot): void {
    if (slot.idleTimer) clearTimeout(slot.idleTimer);
    slot.idleTimer = null;
  }

  #hibernate(slot: Slot, reason: 'idle' | 'evict'): void {
    if (slot.state !== 'active') return;
    this.#clearIdle(slot);
    slot.state = 'hibernating';
    slot.hibernateStartedAt = Date.now();
    this.#post(slot, { type: 'hibernate', reason });
  }

  #onHibernated(slot: Slot, result: Hibernated): void {
    this.#release(slot);
    this.#o.registry.deferHibernation(slot.id, result.nextAlarmAt, Date.now());
    this.#scheduleRegistryFlush();
    slot.persistedAlarm = result.nextAlarmAt;
    this.emit('alarm', slot.id, result.nextAlarmAt);
    this.#settleSlot(slot);
  }

  /** After an activation ended: come back at once if someone still needs the tenant. */
  #settleSlot(slot: Slot): void {
    if (!this.#closing && !slot.stopped && (slot.waiting.length > 0 || slot.attached > 0)) {
      slot.state = 'queued';
      slot.requestedAt = performance.now();
      slot.reason = slot.attached > 0 ? 'attach' : 'request';
      if (!this.#queue.push(slot.id, 'interactive')) this.#failWaiting(slot, new RemoteError('overloaded', 'Every tenant thread is busy; retry shortly.'));
    } else {
      this.#failWaiting(slot, new RemoteError('shutting_down', 'The server is shutting down; retry shortly.'));
      this.#slots.delete(slot.id);
    }
    this.#pump();
  }

  #release(slot: Slot): void {
    this.#clearIdle(slot);
    // The task's result and the port's last messages (a final tick) travel on different channels;
    // read what is still queued on the port before closing it, or it is lost.
    for (let queued; slot.port && (queued = receiveMessageOnPort(slot.port)); ) this.#receive(slot, queued.message);
    slot.port?.close();
    slot.port = null;
    slot.outbox = [];
    slot.abort = null;
    slot.metrics = null;
    slot.task = null;
    this.#threadsInUse -= 1;
  }

  // ---- the watchdog ----------------------------------------------------------------------------

  #checkHeartbeats(): void {
    const now = Date.now();
    const transitionTimeout = this.#o.transitionTimeoutMs ?? 30_000;
    for (const slot of this.#slots.values()) {
      if (slot.killedAsUnresponsive) continue;
      let hung: boolean;
      if (slot.state === 'activating') hung = now - slot.activationStartedAt > transitionTimeout;
      else if (slot.state === 'hibernating') hung = now - slot.hibernateStartedAt > transitionTimeout || now - slot.lastHeartbeatAt > this.#o.heartbeatTimeoutMs;
      else if (slot.state === 'active') hung = now - slot.lastHeartbeatAt > this.#o.heartbeatTimeoutMs;
      else continue;
      if (hung) {
        slot.killedAsUnresponsive = true;
        this.#o.log.warn({ tenantId: slot.id, silentMs: now - slot.lastHeartbeatAt, state: slot.state }, 'tenant unresponsive; terminating its thread');
        slot.abort?.abort();
      }
    }
  }

  #onCrash(slot: Slot, error: unknown): void {
    const crash = classifyCrash(error, slot.killedAsUnresponsive);
    this.#release(slot);
    slot.pending.failAll(new RemoteError('tenant_crashed', 'The tenant crashed while handling the request; it is being restarted.'));
    this.#o.metrics.crashes.inc({ kind: crash.kind });
    if (this.#closing) {
      this.#o.log.warn({ tenantId: slot.id, kind: crash.kind, msg2: crash.message }, 'tenant ended abnormally during shutdown');
      this.#settleSlot(slot);
      return;
    }
    const now = Date.now();
    const inWindow = this.#o.registry.recordCrash(slot.id, { at: now, ...crash }, this.#o.restart.windowMs);
    const verdict = judgeCrash(this.#o.restart, inWindow);
    if (verdict.action === 'quarantine') {
      const reason = `${inWindow} crashes within ${Math.round(this.#o.restart.windowMs / 1000)} s; last: ${crash.kind}: ${crash.message}`;
      this.#o.registry.quarantine(slot.id, reason, now);
      this.#o.metrics.quarantines.inc();
      this.#o.log.error({ tenantId: slot.id, kind: crash.kind, reason }, 'tenant quarantined');
      this.#failWaiting(slot, new RemoteError('tenant_quarantined', 'This tenant was stopped after repeated crashes.'));
      this.#slots.delete(slot.id);
      this.emit('quarantined', slot.id, reason);
      this.#pump();
      return;
    }
    this.#o.log.warn({ tenantId: slot.id, kind: crash.kind, error: crash.message, restartInMs: verdict.delayMs, crashesInWindow: inWindow }, 'tenant crashed; restarting');
    this.#failWaiting(slot, new RemoteError('tenant_restarting', 'The tenant crashed and is restarting.'));
    slot.state = 'backoff';
    slot.restartAt = now + verdict.delayMs;
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = null;
      if (this.#closing || slot.state !== 'backoff') return;
      slot.state = 'queued';
      slot.reason = 'restart';
      slot.requestedAt = performance.now();
      if (!this.#queue.push(slot.id, 'interactive')) {
        // No room: the registry alarm brings it back later.
        this.#slots.delete(slot.id);
      }
      this.#pump();
    }, verdict.delayMs);
    this.#pump();
  }

  #failWaiting(slot: Slot, error: Error): void {
    for (const waiting of slot.waiting.splice(0)) {
      clearTimeout(waiting.timer);
      waiting.reject(error);
    }
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /** Hibernates every active tenant (abandoning in-flight work at `deadline`) and stops the pool. */
  async shutdown(deadline: number): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#watchdog);
    while (this.#queue.size > 0) {
      const slot = this.#slots.get(this.#queue.shift()!);
      if (slot) {
        this.#failWaiting(slot, new RemoteError('shutting_down', 'The server is shutting down; retry shortly.'));
        this.#slots.delete(slot.id);
      }
    }
    const tasks: Promise<void>[] = [];
    for (const slot of this.#slots.values()) {
      if (slot.restartTimer) clearTimeout(slot.restartTimer);
      if (slot.task) {
        this.#clearIdle(slot);
        slot.state = 'hibernating';
        this.#post(slot, { type: 'shutdown', deadline });
        tasks.push(slot.task);
      }
    }
    // A tenant that ignores the order is cut off a little after the deadline.
    let timer: NodeJS.Timeout | undefined;
    const cutoff = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 500)));
    await Promise.race([Promise.allSettled(tasks), cutoff]);
    clearTimeout(timer);
    for (const slot of this.#slots.values()) slot.abort?.abort();
    this.#slots.clear();
    if (this.#registryFlush) clearTimeout(this.#registryFlush);
    this.#registryFlush = null;
    this.#flushRegistry();
    await this.#pool.destroy();
  }

  // ---- gauges ---------------------------------------------------------------------------------

  residentCounts(): Record<string, number> {
    const counts: Record<SlotState, number> = { queued: 0, activating: 0, active: 0, hibernating: 0, backoff: 0 };
    for (const slot of this.#slots.values()) counts[slot.state] += 1;
    return counts;
  }

  registeredCounts() {
    return this.#o.registry.countByStatus();
  }

  queueLength(): number {
    return this.#queue.size;
  }

  activeTenantMetrics() {
    const out: ReturnType<TenantGaugeSource['activeTenantMetrics']> = [];
    for (const slot of this.#slots.values()) if (slot.metrics) out.push({ tenantId: slot.id, ...slot.metrics });
    return out;
  }
}

function laneOf(reason: ActivationReason): Lane {
  return reason === 'alarm' ? 'background' : 'interactive';
}
