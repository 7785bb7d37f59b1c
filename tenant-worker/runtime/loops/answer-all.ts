/** Answers candidates in order until one says stop; returns when to come back sooner than usual, if at all. */
import type { RuntimeConfig } from '../config.js';
import type { LoopDeps } from './deps.js';
import { answer, type StoredCandidate } from './replying.js';

export async function answerAll(
  deps: LoopDeps,
  config: RuntimeConfig,
  self: { id: string; username: string },
  candidates: readonly StoredCandidate[],
  source: 'discovery' | 'mention' | 'target',
  options: { maxAnswers?: number } = {},
): Promise<number | null> {
  let answered = 0;
  for (const candidate of candidates) {
    const result = await answer(deps, config, self, candidate, source);
    if (result.outcome === 'wait') return result.until;
    if (result.outcome === 'stop') return result.until;
    if (result.outcome === 'queued' || result.outcome === 'posted') answered++;
    if (options.maxAnswers !== undefined && answered >= options.maxAnswers) break;
  }
  return null;
}
