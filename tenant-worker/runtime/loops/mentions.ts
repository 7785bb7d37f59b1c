/**
 * Mentions: posts that name us, read from X with the `mentions` since_id cursor (saved after every
 * non-empty page), stored, and answered through the same guards as discovery (never ourselves).
 */
import type { JobDefinition } from '../../jobs.js';
import { logAction } from '../action-log.js';
import { actionDelayMs } from '../pacing.js';
import { answerAll } from './answer-all.js';
import type { LoopDeps } from './deps.js';
import { freshCandidates, getCursor, setCursor, storeDiscovered } from './discovered.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';
import { reconcileOpenIntents } from './posting.js';

export function mentionsJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'mentions',
    everyMs: 300_000,
    jitterMs: 180_000,
    firstRunSpreadMs: RUNTIME_JOBS.mentions.firstRunSpreadMs,
    run: () =>
      guarded(deps, 'mentions', async () => {
        const g = gate(deps, 'mentions', 'mentions', { activeHours: true, autopilotOnly: true, needsLlm: true });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { config, self } = g;
        const { db } = deps;
        const now = deps.now();
        const regular = now + config.intervals.mentionsMs + actionDelayMs(config.pacing, deps.random);
        await reconcileOpenIntents(deps, self.id);
        const since = getCursor(db, 'mentions');
        const page = await deps.x().client()!.mentions(self.id, { maxResults: 20, ...(since && { sinceId: since }) });
        if (page.newestId) setCursor(db, 'mentions', page.newestId, now);
        let fresh = 0;
        for (const post of page.posts) if (storeDiscovered(deps, post, { source: 'mention' })) fresh++;
        if (page.posts.length > 0) logAction(db, now, { action: 'mentions', status: 'success', source: 'mention', message: `${fresh} new mention${fresh === 1 ? '' : 's'}.`, data: { found: page.posts.length, fresh } });
        const until = await answerAll(deps, config, self, freshCandidates(db, 'mention', now), 'mention');
        return { nextRunAt: until === null ? regular : Math.min(regular, until) };
      }),
  };
}
