/**
 * What the runtime's store functions work with: the tenant DB, the clock (tests drive it), the event
 * sink, and the action limits whose claims an unposted action gives back.
 */
import type Database from 'better-sqlite3';
import type { TenantEvent } from '../../protocol/index.js';
import type { ActionLimits } from '../action-limits.js';

export interface RuntimeContext {
  db: Database.Database;
  now(): number;
  emit(event: TenantEvent): void;
  limits: ActionLimits;
}

export type Result<T, C extends string = string> = { ok: true; value: T } | { ok: false; code: C; message: string };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<C extends string>(code: C, message: string): { ok: false; code: C; message: string } {
  return { ok: false, code, message };
}

/** Runs `work` in one IMMEDIATE transaction, then emits what it collected (only if it committed). */
export function transact<T>(context: RuntimeContext, work: (events: TenantEvent[]) => T): T {
  const events: TenantEvent[] = [];
  const result = context.db.transaction(() => work(events)).immediate();
  for (const event of events) context.emit(event);
  return result;
}
