/**
 * Correlating requests with responses over one port.
 *
 * The caller allocates an id, remembers a pending entry until the matching response arrives or
 * the deadline passes, and never leaks an entry: every path (answer, timeout, `failAll` when the
 * peer dies) settles and forgets it.
 */
import * as v from 'valibot';
import type { ErrorBody, Request, Response } from './messages.js';

/** A failed request, as an error value the HTTP edge can map to the envelope. */
export class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'RemoteError';
  }

  toBody(): ErrorBody {
    return this.fields ? { code: this.code, message: this.message, fields: this.fields } : { code: this.code, message: this.message };
  }
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class PendingRequests {
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();

  get size(): number {
    return this.#pending.size;
  }

  /** Builds the request message and a promise of its result; send the message yourself. */
  create(method: string, params: unknown, timeoutMs: number): { message: Request; result: Promise<unknown> } {
    const id = this.#nextId++;
    const message: Request = { type: 'request', id, deadline: Date.now() + timeoutMs, method, params };
    const result = new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new RemoteError('deadline_exceeded', `The tenant did not answer "${method}" within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
    });
    return { message, result };
  }

  /** Settles the matching request; returns false for an unknown (late or forged) id. */
  settle(response: Response): boolean {
    const entry = this.#pending.get(response.id);
    if (!entry) return false;
    this.#pending.delete(response.id);
    clearTimeout(entry.timer);
    if (response.ok) entry.resolve(response.result);
    else entry.reject(new RemoteError(response.error.code, response.error.message, response.error.fields));
    return true;
  }

  /** Fails one request, e.g. when its answer arrived malformed. */
  fail(id: number, error: Error): void {
    const entry = this.#pending.get(id);
    if (!entry) return;
    this.#pending.delete(id);
    clearTimeout(entry.timer);
    entry.reject(error);
  }

  failAll(error: Error): void {
    for (const id of [...this.#pending.keys()]) this.fail(id, error);
  }
}

/** Validates an incoming message; the caller logs and drops what does not parse. */
export function parseMessage<S extends v.GenericSchema>(
  schema: S,
  data: unknown,
): { ok: true; message: v.InferOutput<S> } | { ok: false; problem: string } {
  const parsed = v.safeParse(schema, data);
  if (parsed.success) return { ok: true, message: parsed.output };
  const problem = parsed.issues
    .slice(0, 3)
    .map((issue) => `${v.getDotPath(issue) ?? '(root)'}: ${issue.message}`)
    .join('; ');
  return { ok: false, problem };
}

/**
 * The items of a batch message (`requests` or `responses`) that failed validation as a whole, so
 * the receiver can judge them one by one; undefined when `data` is not such a batch.
 */
export function itemsOfBatch(data: unknown, type: 'requests' | 'responses'): unknown[] | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const message = data as Record<string, unknown>;
  const items = message[type];
  return message['type'] === type && Array.isArray(items) ? items : undefined;
}

/** The `id` of a message that failed validation, if it carries a usable one. */
export function correlationIdOf(data: unknown): number | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const id = (data as { id?: unknown }).id;
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : undefined;
}
