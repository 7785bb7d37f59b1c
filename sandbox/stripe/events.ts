/**
 * Stripe Event objects. An event carries a snapshot of its object taken when the event was created, so
 * `invoice.created` shows a draft even though the same invoice is paid a moment later; updates carry
 * `previous_attributes` with the old value of every top-level field that changed.
 */
import { API_VERSION, clone, newId } from './objects.js';

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

/** What caused an event: an API request (its id and idempotency key) or Stripe itself (both null). */
export interface EventCause {
  requestId: string | null;
  idempotencyKey: string | null;
}

export const AUTOMATIC: EventCause = { requestId: null, idempotencyKey: null };

export function makeEvent(
  type: string,
  object: object,
  createdSec: number,
  cause: EventCause,
  pendingWebhooks: number,
  previous?: Record<string, unknown>,
): StripeEvent {
  return {
    id: newId('evt', 24),
    object: 'event',
    api_version: API_VERSION,
    created: createdSec,
    data: { object: clone(object) as Record<string, unknown>, ...(previous && { previous_attributes: clone(previous) }) },
    livemode: false,
    pending_webhooks: pendingWebhooks,
    request: { id: cause.requestId, idempotency_key: cause.idempotencyKey },
    type,
  };
}

/** The old values of the top-level fields that differ between two snapshots of one object. */
export function previousAttributes(before: object, after: object): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  for (const key of Object.keys(b)) {
    if (JSON.stringify(b[key]) !== JSON.stringify(a[key])) previous[key] = b[key];
  }
  return previous;
}
