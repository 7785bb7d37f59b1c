/**
 * The caller's target accounts: the X accounts whose posts the runtime answers. The tenant owns the
 * rules (tenant-worker/api/targets.ts: X's username rules, the check against X, the plan's ceiling,
 * read-only after a subscription ended); these routes authenticate and pass the request on.
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

export interface TargetRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

/** The tenant checks the name itself (a leading @ allowed); here only its shape as JSON. */
export const NewTarget = v.strictObject({ username: v.pipe(v.string(), v.maxLength(100)) });
export const TimelineQuery = v.strictObject({ before: integer(1), limit: integer(1) });

export function addTargetRoutes(router: Router<Handler>, deps: TargetRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown = {}) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);

  router.add('GET', '/api/targets', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'targets.list')));

  router.add('POST', '/api/targets', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(NewTarget);
    return json(201, await ask(caller.user.tenant_id, 'targets.add', body));
  });

  router.add('DELETE', '/api/targets/:username', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'targets.remove', { username: ctx.params['username'] })));

  router.add('GET', '/api/targets/:username/timeline', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'targets.timeline', { username: ctx.params['username'], ...query(ctx, TimelineQuery) }));
  });

  router.add('GET', '/api/targets/:username/stats', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'targets.stats', { username: ctx.params['username'] })));
}

export function describeTargetRoutes(doc: ApiDocument): void {
  const tag = 'Targets';
  const target =
    '`{ username, xUserId, status: unresolved | active | not_found, repliesSent, firstEngagementAt, lastReplyAt, interactionsToday, lastCheckedAt, addedAt, resolvedAt }`';
  const unknown = { 404: { description: '`not_found`: no such target account.' } };
  doc.add(
    {
      method: 'GET',
      path: '/api/targets',
      tag,
      auth: 'session',
      summary: 'The target accounts',
      description: `Oldest first. \`interactionsToday\` counts our replies to the account in the tenant's calendar day. \`ceiling\` is the plan's limit (null: none).`,
      responses: { 200: { description: `\`{ items: [${target}], ceiling }\`.` } },
    },
    {
      method: 'POST',
      path: '/api/targets',
      tag,
      auth: 'session',
      summary: 'Add a target account',
      description:
        'A leading @ is dropped; X usernames are 1–15 letters, digits or underscores. With X connected the name is checked against X at once and stored with X\'s id and spelling (`active`, `validated: true`); without a connection, or when X cannot answer now, it is stored `unresolved` (`validated: false`) and the runtime resolves it (or marks it `not_found`).',
      body: NewTarget,
      responses: {
        201: { description: `\`{ target: ${target}, validated }\`.` },
        409: { description: '`already_exists`: already a target; `limit_reached`: the plan\'s ceiling of target accounts (in the message and `fields.username`); `read_only`: the subscription ended.' },
        422: { description: '`invalid_params`: not an X username, or X has no such account (`fields.username`).' },
      },
    },
    {
      method: 'DELETE',
      path: '/api/targets/:username',
      tag,
      auth: 'session',
      summary: 'Remove a target account',
      description: 'Posts found through it and our replies to it stay in the reports.',
      responses: { 200: { description: '`{ removed: username }`.' }, ...unknown, 409: { description: '`read_only`: the subscription ended.' } },
    },
    {
      method: 'GET',
      path: '/api/targets/:username/timeline',
      tag,
      auth: 'session',
      summary: 'Their posts the runtime stored, with our reply',
      description: 'Newest found first; page with `before=<nextCursor>`.',
      query: TimelineQuery,
      responses: {
        200: { description: '`{ items: [{ tweetId, text, postedAt, discoveredAt, metrics: { likes, replies, retweets }, status, reply: { tweetId, content, postedAt } | null }], nextCursor }`.' },
        ...unknown,
      },
    },
    {
      method: 'GET',
      path: '/api/targets/:username/stats',
      tag,
      auth: 'session',
      summary: 'How we interacted with a target account',
      description: '`bestReply` is our reply to them that performed best once measured; `interactionFrequencyDays` is the mean gap between our replies (two or more).',
      responses: {
        200: { description: '`{ username, status, totalReplies, postsSeen, avgRelevanceScore, bestReply: { tweetId, content, performanceScore, postedAt } | null, firstInteractionAt, lastInteractionAt, interactionFrequencyDays }`.' },
        ...unknown,
      },
    },
  );
}
