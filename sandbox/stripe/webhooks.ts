/**
 * Webhook delivery for the fake Stripe: one lane, events POSTed one at a time in creation order, each
 * signed the way Stripe signs (`Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`).
 * A non-2xx answer, a redirect or a network error is retried after each of `retryDelaysMs` (sandbox-scale,
 * real time) and then dropped with a warning. A failing event holds the lane while it is retried, so the
 * endpoint sees creation order unless a test asks otherwise with `deliver({ order })`.
 * Events wait in the queue while delivery is held or no endpoint is set yet; API answers never wait for it.
 */
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { StripeEvent } from './events.js';

export interface DeliveryOptions {
  secret: string;
  url: string | undefined;
  log: Logger;
  retryDelaysMs: readonly number[];
  timeoutMs: number;
  /** The time written into signatures (epoch ms). */
  signingClock: () => number;
}

interface Entry {
  event: StripeEvent;
  attempts: number;
}

export function signatureHeader(payload: string, secret: string, timestampSec: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSec}.${payload}`, 'utf8').digest('hex');
  return `t=${timestampSec},v1=${v1}`;
}

export class WebhookDelivery {
  private readonly queue: Entry[] = [];
  private lane: Promise<void> = Promise.resolve();
  private held = false;
  private pumping = false;
  private closed = false;
  private url: string | undefined;
  private readonly waits = new Set<() => void>();
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly o: DeliveryOptions) {
    this.url = o.url;
  }

  setUrl(url: string): void {
    this.url = url;
    this.pump();
  }

  enqueue(event: StripeEvent): void {
    this.queue.push({ event, attempts: 0 });
    this.pump();
  }

  hold(hold: boolean): void {
    this.held = hold;
    this.pump();
  }

  pending(): StripeEvent[] {
    return this.queue.map((e) => e.event);
  }

  /** Delivers what is queued now, even while held: `order` ids first (in that order), then the rest. */
  deliver(options: { order?: string[]; duplicate?: boolean } = {}): Promise<void> {
    return this.run(async () => {
      const entries = [...this.queue];
      const chosen: Entry[] = [];
      for (const id of options.order ?? []) {
        const entry = entries.find((e) => e.event.id === id);
        if (!entry) throw new Error(`deliver: no queued event ${id}`);
        if (!chosen.includes(entry)) chosen.push(entry);
      }
      for (const entry of entries) if (!chosen.includes(entry)) chosen.push(entry);
      for (const entry of chosen) {
        await this.send(entry);
        if (options.duplicate) await this.send({ event: entry.event, attempts: 0 });
      }
    });
  }

  /** Resolves once nothing is being delivered or retried (held events may still be queued). */
  async idle(): Promise<void> {
    for (;;) {
      const lane = this.lane;
      await lane;
      if (lane === this.lane && !this.pumping) return;
    }
  }

  close(): void {
    this.closed = true;
    for (const controller of this.inFlight) controller.abort();
    for (const wake of this.waits) wake();
  }

  private pump(): void {
    if (this.pumping || this.held || this.closed || this.url === undefined || this.queue.length === 0) return;
    this.pumping = true;
    void this.run(async () => {
      try {
        while (!this.held && !this.closed && this.url !== undefined && this.queue.length > 0) await this.send(this.queue[0]!);
      } finally {
        this.pumping = false;
      }
    });
  }

  private run(task: () => Promise<void>): Promise<void> {
    const done = this.lane.then(task);
    this.lane = done.catch(() => undefined);
    return done;
  }

  /** Sends one entry until it is accepted or its retries run out; either way it leaves the queue. */
  private async send(entry: Entry): Promise<void> {
    try {
      for (;;) {
        if (this.closed) return;
        const outcome = await this.attempt(entry.event);
        entry.attempts += 1;
        if (outcome === 'ok') return;
        const delay = this.o.retryDelaysMs[entry.attempts - 1];
        if (delay === undefined) {
          this.o.log.warn({ event: entry.event.id, type: entry.event.type, attempts: entry.attempts, outcome }, 'sandbox stripe: webhook given up');
          return;
        }
        this.o.log.info({ event: entry.event.id, type: entry.event.type, attempts: entry.attempts, outcome, retryInMs: delay }, 'sandbox stripe: webhook failed, will retry');
        await this.sleep(delay);
      }
    } finally {
      const at = this.queue.indexOf(entry);
      if (at >= 0) this.queue.splice(at, 1);
    }
  }

  private async attempt(event: StripeEvent): Promise<string> {
    const url = this.url;
    if (url === undefined) return 'no endpoint';
    // Stripe sends pretty-printed JSON; handlers must verify the raw bytes, not a re-serialisation.
    const payload = JSON.stringify(event, null, 2);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.o.timeoutMs);
    this.inFlight.add(controller);
    try {
      const res = await fetch(url, {
        method: 'POST',
        redirect: 'manual',
        signal: controller.signal,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': signatureHeader(payload, this.o.secret, Math.floor(this.o.signingClock() / 1000)),
        },
        body: payload,
      });
      await res.arrayBuffer().catch(() => undefined);
      return res.status >= 200 && res.status < 300 ? 'ok' : `HTTP ${res.status}`;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waits.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waits.add(wake);
    });
  }
}
