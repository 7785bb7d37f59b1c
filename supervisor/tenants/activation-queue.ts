/**
 * Tenants waiting for a thread, in two FIFO lanes: someone is waiting on a request (or a
 * dashboard, or a restart) in the first; background alarms in the second. Bounded, so when
 * every thread is busy the supervisor sheds load instead of growing memory.
 */
export type Lane = 'interactive' | 'background';

export class ActivationQueue {
  readonly #lanes: Record<Lane, string[]> = { interactive: [], background: [] };
  readonly #queued = new Map<string, Lane>();

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#queued.size;
  }

  has(tenantId: string): boolean {
    return this.#queued.has(tenantId);
  }

  /** False when full. A tenant already queued in the background lane is promoted. */
  push(tenantId: string, lane: Lane): boolean {
    const current = this.#queued.get(tenantId);
    if (current === lane || current === 'interactive') return true;
    if (current === 'background') {
      this.#remove(tenantId, 'background');
    } else if (this.#queued.size >= this.capacity) {
      return false;
    }
    this.#lanes[lane].push(tenantId);
    this.#queued.set(tenantId, lane);
    return true;
  }

  shift(): string | undefined {
    const tenantId = this.#lanes.interactive.shift() ?? this.#lanes.background.shift();
    if (tenantId !== undefined) this.#queued.delete(tenantId);
    return tenantId;
  }

  delete(tenantId: string): void {
    const lane = this.#queued.get(tenantId);
    if (lane) this.#remove(tenantId, lane);
  }

  #remove(tenantId: string, lane: Lane): void {
    const list = this.#lanes[lane];
    list.splice(list.indexOf(tenantId), 1);
    this.#queued.delete(tenantId);
  }
}
