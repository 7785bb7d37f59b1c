/**
 * What the caller's runtime measured: followers (a real date window of daily snapshots), post
 * performance, topics, recent measurements, and the replies we sent. Read-only; the tenant computes
 * (tenant-worker/api/analytics.ts), in its own time zone.
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

export interface AnalyticsRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

const DAY_MS = 86_400_000;
export const FollowersQuery = v.strictObject({ from: integer(0), to: integer(0) });
export const LimitQuery = v.strictObject({ limit: integer(1) });
export const PageQuery = v.strictObject({ before: integer(1), limit: integer(1) });

export function addAnalyticsRoutes(router: Router<Handler>, deps: AnalyticsRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown = {}) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);

  router.add('GET', '/api/analytics/summary', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'analytics.summary')));

  router.add('GET', '/api/analytics/followers', async (ctx) => {
    const caller = auth.require(ctx);
    const { from, to } = query(ctx, FollowersQuery);
    const end = to ?? Date.now();
    return json(200, await ask(caller.user.tenant_id, 'analytics.followers', { from: from ?? end - 30 * DAY_MS, to: end }));
  });

  router.add('GET', '/api/analytics/performance', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'analytics.performance')));

  router.add('GET', '/api/analytics/topics', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'analytics.topics', query(ctx, LimitQuery)));
  });

  router.add('GET', '/api/analytics/recent-performance', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'analytics.recent-performance', query(ctx, PageQuery)));
  });

  router.add('GET', '/api/replies', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'replies.list', query(ctx, PageQuery)));
  });
}

export function describeAnalyticsRoutes(doc: ApiDocument): void {
  const tag = 'Analytics';
  const performance = '{ measured, avgScore, avgLikes, avgReplies, avgRetweets, avgImpressions }';
  const paged = 'Page with `before=<nextCursor>`.';
  doc.add(
    {
      method: 'GET',
      path: '/api/analytics/summary',
      tag,
      auth: 'session',
      summary: 'Followers, today\'s actions, averages and top topics',
      description:
        'Follower changes compare the newest snapshot with the newest one at least 7 (30) days older; null when there is none that old. `actionsToday` counts what was posted since the start of the tenant\'s calendar day (`since`). Performance scores are engagement per thousand impressions, measured a day to a week after posting.',
      responses: {
        200: {
          description:
            '`{ timeZone, followers: { current, asOf, change7d, change30d }, actionsToday: { since, replies, tweets, threads }, engagement: { avgReplyRelevance, avgReplyPerformance, avgTweetPerformance, totalRepliesSent, totalTweetsPosted, totalThreadsPosted }, topTopics: [{ topic, format, posts, avgScore, updatedAt }] }`.',
        },
      },
    },
    {
      method: 'GET',
      path: '/api/analytics/followers',
      tag,
      auth: 'session',
      summary: 'Daily follower snapshots in a date window',
      description:
        'Every snapshot of the tenant\'s calendar days from the day of `from` through the day of `to` (epoch ms; default: the last 30 days), oldest first — one per day, the last of the day. At most 400 days at once.',
      query: FollowersQuery,
      responses: {
        200: { description: '`{ timeZone, from: "YYYY-MM-DD", to: "YYYY-MM-DD", days: [{ day, followers, following, tweets, at }] }`.' },
        422: { description: 'The window is not valid (ends before it starts, or too long).' },
      },
    },
    {
      method: 'GET',
      path: '/api/analytics/performance',
      tag,
      auth: 'session',
      summary: 'Average performance of our measured posts',
      responses: { 200: { description: `\`{ replies: ${performance}, tweets: …, threads: … }\`.` } },
    },
    {
      method: 'GET',
      path: '/api/analytics/topics',
      tag,
      auth: 'session',
      summary: 'Performance by topic and format',
      description: 'The running mean of measured tweets and threads per (topic, format), best first; the topic choice reads the same numbers.',
      query: LimitQuery,
      responses: { 200: { description: '`{ items: [{ topic, format, posts, avgScore, updatedAt }] }`.' }, 422: { description: '`limit` is not valid.' } },
    },
    {
      method: 'GET',
      path: '/api/analytics/recent-performance',
      tag,
      auth: 'session',
      summary: 'Our latest measured posts',
      description: `Replies, tweets and threads, the latest measured first. ${paged}`,
      query: PageQuery,
      responses: {
        200: { description: '`{ items: [{ tweetId, kind, preview, topic, postedAt, measuredAt, gone, metrics: { likes, replies, retweets, quotes, impressions }, performanceScore }], nextCursor }`.' },
        422: { description: 'A parameter is not valid.' },
      },
    },
    {
      method: 'GET',
      path: '/api/replies',
      tag: 'Activity',
      auth: 'session',
      summary: 'The replies we sent',
      description: `Every one exists at X (\`tweetId\`). Newest first; ${paged}`,
      query: PageQuery,
      responses: {
        200: {
          description:
            '`{ items: [{ id, tweetId, targetTweetId, targetAuthor: { id, username }, source, content, mentionsProduct, archetype, relevanceScore, approvalId, postedAt, performance: { score, likes, impressions } | null }], nextCursor }`.',
        },
        422: { description: 'A parameter is not valid.' },
      },
    },
  );
}
