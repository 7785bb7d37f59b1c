/**
 * Discovery: one configured keyword per run, round robin, searched with its own since_id (so a post is
 * read, and paid for, once); every result scored (§3) and stored; then the best fresh posts above the
 * threshold are answered — queued for approval, or posted one per pacing interval. Read-only in
 * composer mode.
 */
import type { JobDefinition } from '../../jobs.js';
import { MICROS_PER_CENT, X_PRICES } from '../../x-budget.js';
import { logAction } from '../action-log.js';
import { actionDelayMs } from '../pacing.js';
import { scoreTweet } from '../scoring.js';
import type { RuntimeConfig } from '../config.js';
import type { LoopDeps } from './deps.js';
import { freshCandidates, getCursor, setCursor, storeDiscovered } from './discovered.js';
import { gate } from './gate.js';
import { guarded } from './guarded.js';
import { RUNTIME_JOBS } from './names.js';
import { reconcileOpenIntents } from './posting.js';
import { answerAll } from './answer-all.js';

export function discoveryJob(deps: LoopDeps): JobDefinition {
  return {
    name: 'discovery',
    everyMs: 900_000,
    jitterMs: 180_000,
    firstRunSpreadMs: RUNTIME_JOBS.discovery.firstRunSpreadMs,
    run: () =>
      guarded(deps, 'discovery', async () => {
        const g = gate(deps, 'discovery', 'search', { activeHours: true });
        if (!g.open) return { nextRunAt: g.retryAt };
        const { config, self } = g;
        const { db } = deps;
        const now = deps.now();
        const regular = now + config.intervals.discoveryMs + actionDelayMs(config.pacing, deps.random);
        const keywords = [...new Set([...config.business.productKeywords, ...config.business.competitorKeywords])];
        if (keywords.length === 0) return { nextRunAt: regular };
        await reconcileOpenIntents(deps, self.id);

        // No room to read today: the posts already stored can still be answered.
        const maxResults = searchPageSize(deps);
        if (maxResults !== null) await search(deps, config, keywords, maxResults);
        if (config.mode === 'composer' || deps.llm() === null) return { nextRunAt: regular };
        const until = await answerAll(deps, config, self, freshCandidates(db, 'search', now), 'discovery');
        return { nextRunAt: until === null ? regular : Math.min(regular, until) };
      }),
  };
}

/** One keyword's search, round robin, from its own since_id; every result scored and stored. */
async function search(deps: LoopDeps, config: RuntimeConfig, keywords: string[], maxResults: number): Promise<void> {
  const { db } = deps;
  const now = deps.now();
  const turn = Number(getCursor(db, 'search:turn') ?? '0') % keywords.length;
  const keyword = keywords[turn]!;
  setCursor(db, 'search:turn', String(turn + 1), now);
  const since = getCursor(db, `search:${keyword}`);
  const page = await deps.x().client()!.searchKeyword({ keyword, maxResults, ...(since && { sinceId: since }), ...(config.discovery.language && { lang: config.discovery.language }) });
  if (page.newestId) setCursor(db, `search:${keyword}`, page.newestId, now);
  let fresh = 0;
  let above = 0;
  for (const post of page.posts) {
    const score = scoreTweet(
      {
        text: post.text,
        createdAt: post.createdAt,
        authorFollowers: post.author?.followers,
        likes: post.metrics?.likes,
        retweets: post.metrics?.retweets,
        replies: post.metrics?.replies,
        isQuote: post.referenced?.some((ref) => ref.type === 'quoted') ?? false,
      },
      keywords,
      config.scoring,
      now,
    );
    if (storeDiscovered(deps, post, { source: 'search', keyword, score })) {
      fresh++;
      if (score.qualifies) above++;
    }
  }
  logAction(db, now, { action: 'search', status: 'success', source: 'discovery', message: `Searched "${keyword}": ${fresh} new posts, ${above} above the threshold.`, data: { keyword, found: page.posts.length, fresh, above } });
}

/**
 * Results per search: 20, or fewer when the day's read budget has less room. The client refuses a search
 * whose full page would not fit, so on a small plan a 20-post page (10 cents) never fits once anything
 * else was read that day; 10 (X's minimum) often still does. null: not even 10 fit today.
 */
function searchPageSize(deps: LoopDeps): number | null {
  const ceilings = deps.ceilings();
  if (ceilings === null || ceilings.xReadCentsPerDay === null) return 20;
  const room = ceilings.xReadCentsPerDay * MICROS_PER_CENT - deps.x().budget.readMicrosToday();
  const fits = Math.floor(room / X_PRICES.postRead);
  return fits >= 20 ? 20 : fits >= 10 ? 10 : null;
}
