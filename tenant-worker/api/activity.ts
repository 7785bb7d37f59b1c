/**
 * The activity feed (what the runtime did, newest first, filtered, paged by cursor) with the usage
 * bars next to it: today's and this week's actions against the limit that applies.
 */
import * as v from 'valibot';
import { ActionLimits } from '../action-limits.js';
import type { Handler, HandlerContext } from '../handlers.js';
import { validate } from '../handlers.js';
import { ACTIONS, listActions, STATUSES } from '../runtime/action-log.js';
import { loadRuntimeConfig } from '../runtime/config.js';
import type { ActionSource } from '../runtime/events.js';

const csv = <T extends string>(allowed: readonly T[]) =>
  v.optional(v.array(v.picklist(allowed as unknown as [T, ...T[]], `must be one of ${allowed.join(', ')}`)));

const SOURCES = ['discovery', 'mention', 'target', 'content', 'thread', 'scheduled', 'approval', 'manual', 'system'] as const satisfies readonly ActionSource[];

const ActivityQuery = v.object({
  actions: csv(ACTIONS),
  statuses: csv(STATUSES),
  sources: csv(SOURCES),
  before: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1)))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))),
});

export function usageBars(context: HandlerContext) {
  const { config } = loadRuntimeConfig(context.db);
  const limits = new ActionLimits(context.db, () => context.ceilings);
  return {
    replies: limits.usage('reply', config.limits.maxRepliesPerDay),
    tweets: limits.usage('tweet', config.limits.maxTweetsPerDay),
    threads: limits.usage('thread', config.limits.maxThreadsPerWeek),
  };
}

export const activityHandlers: Record<string, Handler> = {
  'activity.list': (context, params) => {
    const query = validate(ActivityQuery, params ?? {});
    const page = listActions(context.db, query);
    return { ...page, usage: usageBars(context) };
  },
};
