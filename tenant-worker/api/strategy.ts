/**
 * The strategy report as the API serves it: this week so far (computed on each read, never stored by
 * a GET), the stored weekly reports newest first, a refresh that stores this week's report as it
 * stands, and the inputs the strategy works from (pillars, topics, keywords, target accounts).
 * The report itself lives in runtime/strategy.ts; the weekly job stores each closed week.
 */
import * as v from 'valibot';
import { ActionLimits } from '../action-limits.js';
import type { Handler, HandlerContext } from '../handlers.js';
import { validate } from '../handlers.js';
import { loadRuntimeConfig } from '../runtime/config.js';
import { computeReport, listReports, storeReport, weekOf } from '../runtime/strategy.js';

const HistoryQuery = v.object({
  before: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0)))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(52))),
});

function currentReport(context: HandlerContext) {
  const { config } = loadRuntimeConfig(context.db);
  const now = Date.now();
  const strategy = { db: context.db, now: () => now, limits: new ActionLimits(context.db, () => context.ceilings, () => now) };
  return computeReport(strategy, config, weekOf(now, config.schedule.timezone));
}

export const strategyHandlers: Record<string, Handler> = {
  'strategy.current': (context) => currentReport(context),

  'strategy.history': (context, params) => listReports(context.db, validate(HistoryQuery, params ?? {})),

  /** Stores this week's report as it stands; the weekly job replaces it once the week is over. */
  'strategy.refresh': (context) => {
    const report = currentReport(context);
    storeReport(context.db, report);
    return report;
  },

  'strategy.inputs': (context) => {
    const { config } = loadRuntimeConfig(context.db);
    const targets = context.db.prepare<[], { username: string }>('SELECT username FROM target_accounts ORDER BY username').all();
    return {
      contentPillars: config.persona.contentPillars,
      industryTopics: config.business.industryTopics,
      productKeywords: config.business.productKeywords,
      competitorKeywords: config.business.competitorKeywords,
      targetAccounts: targets.map((row) => row.username),
    };
  },
};
