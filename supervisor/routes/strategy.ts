/**
 * The caller's weekly strategy report: this week so far, the stored weeks, a refresh, and the inputs
 * the strategy works from. The tenant computes and stores (tenant-worker/api/strategy.ts); these routes
 * authenticate and pass the request on.
 */
import * as v from 'valibot';
import type { ApiDocument } from '../api/openapi.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';
import { integer, query } from './reports.js';

export interface StrategyRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

export const NoQuery = v.strictObject({});
export const HistoryQuery = v.strictObject({ before: integer(0), limit: integer(1) });

export function addStrategyRoutes(router: Router<Handler>, deps: StrategyRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown = {}) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);

  router.add('GET', '/api/strategy/current', async (ctx) => {
    const caller = auth.require(ctx);
    query(ctx, NoQuery);
    return json(200, await ask(caller.user.tenant_id, 'strategy.current'));
  });

  router.add('GET', '/api/strategy/history', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'strategy.history', query(ctx, HistoryQuery)));
  });

  router.add('POST', '/api/strategy/refresh', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'strategy.refresh')));

  router.add('GET', '/api/strategy/inputs', async (ctx) => {
    const caller = auth.require(ctx);
    query(ctx, NoQuery);
    return json(200, await ask(caller.user.tenant_id, 'strategy.inputs'));
  });
}

const REPORT =
  '`{ weekStart, weekEnd, timeZone, firstDay, lastDay, complete, computedAt, output: { replies, tweets, threads, total, repliesBySource: { discovery, mention, target, manual }, partialThreads, failed, skipped, queued }, capacity, followers: { start, end, delta }, scores: { avgReply, avgTweet, measuredReplies, measuredTweets }, replyAcceptanceRate, estimatedFollowConversion, distinctTopics, topTopics: [{ topic, avgScore, posts, allTimeAvgScore }], bottomTopics, topContent: [{ kind, tweetId, preview, score, likes, retweets, replies, impressions, postedAt }], recommendations: [{ category: promote|kill|experiment|alert|celebrate, priority: high|medium|low, rule, title, description }] }`';

export function describeStrategyRoutes(doc: ApiDocument): void {
  const tag = 'Strategy';
  const week = 'A week runs Monday 00:00 to Monday 00:00 in the tenant\'s time zone. Scores are measured from 24 h after posting, so the latest posts have none yet; a report is `complete` once computed after its week ended (the weekly job stores each closed week on the Tuesday, 06:00 local).';
  doc.add(
    { method: 'GET', path: '/api/strategy/current', tag, auth: 'session', summary: 'This week so far', description: `Computed on each call, not stored. ${week} Limits-based rules judge a running week on the part that has passed.`, query: NoQuery, responses: { 200: { description: REPORT } } },
    {
      method: 'GET',
      path: '/api/strategy/history',
      tag,
      auth: 'session',
      summary: 'Stored weekly reports',
      description: `Newest week first; page with \`before=<nextCursor>\` (a week start). \`limit\` 1–52, default 12. ${week}`,
      query: HistoryQuery,
      responses: { 200: { description: `\`{ items: [report], nextCursor }\`, each report as in GET /api/strategy/current.` }, 422: { description: 'The query is not valid.' } },
    },
    { method: 'POST', path: '/api/strategy/refresh', tag, auth: 'session', summary: 'Recompute and store this week', description: 'Stores this week\'s report as it stands (it appears in the history as incomplete until the weekly job replaces it).', responses: { 200: { description: REPORT } } },
    {
      method: 'GET',
      path: '/api/strategy/inputs',
      tag,
      auth: 'session',
      summary: 'What the strategy works from',
      query: NoQuery,
      responses: { 200: { description: '`{ contentPillars, industryTopics, productKeywords, competitorKeywords, targetAccounts: [username] }` (settings and target accounts).' } },
    },
  );
}
