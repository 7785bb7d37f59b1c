/**
 * Whether the user has the automation running: `started`, `paused` (until a time, or until resumed)
 * or `stopped`. One row of `settings` (key `runtime.state`), so it survives hibernation and crashes.
 *
 * A tenant starts `stopped`: onboarding ends with "start", and until then the runtime defines no jobs
 * at all, so a tenant that never started costs no alarms and no X calls. A pause that has run out
 * reads as `started` without a write, so nothing has to wake up to end it.
 */
import type Database from 'better-sqlite3';

export type RuntimeState = 'started' | 'paused' | 'stopped';

export interface RuntimeStateView {
  state: RuntimeState;
  /** For `paused`: when it resumes by itself (null = until the user resumes). */
  pausedUntil: number | null;
  changedAt: number | null;
}

export const RUNTIME_STATE_KEY = 'runtime.state';

export function runtimeState(db: Database.Database, now: number): RuntimeStateView {
  const row = db.prepare<[string], { value: string }>('SELECT value FROM settings WHERE key = ?').get(RUNTIME_STATE_KEY);
  const stored = parse(row?.value);
  if (stored.state === 'paused' && stored.pausedUntil !== null && stored.pausedUntil <= now) return { state: 'started', pausedUntil: null, changedAt: stored.pausedUntil };
  return stored;
}

export function setRuntimeState(db: Database.Database, state: RuntimeState, now: number, pausedUntil: number | null = null): RuntimeStateView {
  const view: RuntimeStateView = { state, pausedUntil: state === 'paused' ? pausedUntil : null, changedAt: now };
  db.prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(
    RUNTIME_STATE_KEY,
    JSON.stringify(view),
    now,
  );
  return view;
}

function parse(value: string | undefined): RuntimeStateView {
  const stopped: RuntimeStateView = { state: 'stopped', pausedUntil: null, changedAt: null };
  if (value === undefined) return stopped;
  try {
    const raw = JSON.parse(value) as Partial<RuntimeStateView> | string;
    // A bare string is what settings.put would store when someone sets the key by hand.
    const state = typeof raw === 'string' ? raw : raw.state;
    if (state !== 'started' && state !== 'paused' && state !== 'stopped') return stopped;
    const pausedUntil = typeof raw === 'object' && typeof raw.pausedUntil === 'number' ? raw.pausedUntil : null;
    const changedAt = typeof raw === 'object' && typeof raw.changedAt === 'number' ? raw.changedAt : null;
    return { state, pausedUntil: state === 'paused' ? pausedUntil : null, changedAt };
  } catch {
    return stopped;
  }
}
