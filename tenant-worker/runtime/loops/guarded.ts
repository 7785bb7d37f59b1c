/**
 * The run wrapper every runtime job shares. X's and the LLM's "not now" answers (rate limits, the
 * allowance, a lost connection) reschedule the job instead of counting as failures: they are expected
 * and the breaker is for real faults. A real fault is announced (runtime.error) and rethrown, so the
 * job runner records it and its breaker counts it.
 */
import type { JobResult } from '../../jobs.js';
import { LlmRateLimitedError } from '../../llm/errors.js';
import { XAuthExpiredError, XBudgetRefusedError, XRateLimitedError } from '../../x/errors.js';
import { runtimeEvent } from '../events.js';
import type { LoopDeps } from './deps.js';

const HOUR = 3_600_000;

export async function guarded(deps: LoopDeps, job: string, work: () => Promise<JobResult>): Promise<JobResult> {
  try {
    return await work();
  } catch (error) {
    const now = deps.now();
    if (error instanceof XRateLimitedError) return { nextRunAt: Math.max(error.until, now + 60_000) };
    if (error instanceof LlmRateLimitedError) return { nextRunAt: now + Math.max(error.retryAfterMs, 60_000) };
    // The budget already told the user (once per window); the connection said "disconnected" itself.
    if (error instanceof XBudgetRefusedError || error instanceof XAuthExpiredError) return { nextRunAt: now + HOUR };
    deps.emit(runtimeEvent('Error', now, { message: error instanceof Error ? error.message : String(error), job, ...(error instanceof Error && { code: error.name }) }));
    throw error;
  }
}
