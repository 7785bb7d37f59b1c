/** When the content and thread jobs are due next: a kept preferred slot, or the interval after the last one. */
import type Database from 'better-sqlite3';
import { nextIntervalRun } from '../pacing.js';
import { getCursor, setCursor } from './discovered.js';

/**
 * Slot mode: the slot is drawn once (its ±15 min jitter too) and kept in a cursor until it is used or
 * given up, so runs before it do not re-draw it further away. null when there is no slot to draw.
 */
export function keptSlot(db: Database.Database, key: string, now: number, draw: () => number | null): number | null {
  const chosen = Number(getCursor(db, key) ?? NaN);
  if (Number.isFinite(chosen)) return chosen;
  const slot = draw();
  if (slot !== null) setCursor(db, key, String(slot), now);
  return slot;
}

/** Interval mode: never posted → now (the first run's spread was the jitter); else interval + jitter after the last. */
export function intervalDue(last: number | null, now: number, intervalMs: number, pacing: { minDelayMs: number; maxDelayMs: number }, random: () => number): number {
  return last === null ? now : nextIntervalRun(last, now, intervalMs, pacing, random);
}
