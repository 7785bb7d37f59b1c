/**
 * The restart policy of the watchdog, after OTP's restart intensity: a crashed tenant is
 * restarted with exponential backoff; more than `limit` crashes within `windowMs` quarantine it
 * instead, so one broken tenant can never keep a thread (or the operator) busy forever.
 */
import type { CrashKind } from './registry.js';

export interface RestartPolicy {
  limit: number;
  windowMs: number;
  backoffMs: number;
  backoffMaxMs: number;
}

export type Verdict = { action: 'restart'; delayMs: number } | { action: 'quarantine' };

/** `crashesInWindow` includes the crash being judged. */
export function judgeCrash(policy: RestartPolicy, crashesInWindow: number): Verdict {
  if (crashesInWindow > policy.limit) return { action: 'quarantine' };
  const delayMs = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** Math.max(0, crashesInWindow - 1));
  return { action: 'restart', delayMs };
}

/** Names what killed a tenant's thread from how its activation task failed. */
export function classifyCrash(error: unknown, killedAsUnresponsive: boolean): { kind: CrashKind; message: string } {
  if (killedAsUnresponsive) return { kind: 'unresponsive', message: 'stopped heartbeating; thread terminated' };
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') return { kind: 'out_of_memory', message };
  return { kind: 'error', message };
}
