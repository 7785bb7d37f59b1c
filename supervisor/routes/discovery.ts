/**
 * The caller's discovery feed (posts the runtime found, scored) and replying to one of them: a
 * suggested reply written by the tenant's LLM, and queueing the user's reply for posting. The tenant
 * owns the rules (tenant-worker/api/discovery.ts: the guards, the approval queue); these routes
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
import { GENERATION_DEADLINE_MS } from './assist.js';
import { integer, list, query } from './reports.js';

export interface DiscoveryRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

export const FeedQuery = v.strictObject({ minScore: integer(0), sources: list, before: integer(1), limit: integer(1) });
export const ComposeReplyBody = v.strictObject({ mentionProduct: v.optional(v.boolean()) });
export const QueueReplyBody = v.strictObject({ content: v.pipe(v.string(), v.maxLength(2000)) });

export function addDiscoveryRoutes(router: Router<Handler>, deps: DiscoveryRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown, timeoutMs = deps.requestTimeoutMs) => callTenant(host, tenantId, method, params, timeoutMs);

  router.add('GET', '/api/discovery', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'discovery.feed', query(ctx, FeedQuery)));
  });

  router.add('POST', '/api/discovery/:tweetId/compose-reply', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(ComposeReplyBody);
    return json(200, await ask(caller.user.tenant_id, 'discovery.compose-reply', { ...body, tweetId: ctx.params['tweetId'] }, Math.max(deps.requestTimeoutMs, GENERATION_DEADLINE_MS)));
  });

  router.add('POST', '/api/discovery/:tweetId/queue-reply', async (ctx) => {
    const caller = auth.require(ctx);
    const body = await ctx.json(QueueReplyBody);
    return json(201, await ask(caller.user.tenant_id, 'discovery.queue-reply', { ...body, tweetId: ctx.params['tweetId'] }));
  });
}

export function describeDiscoveryRoutes(doc: ApiDocument): void {
  const tag = 'Discovery';
  const unknown = { 404: { description: '`not_found`: no stored post with this id.' } };
  doc.add(
    {
      method: 'GET',
      path: '/api/discovery',
      tag,
      auth: 'session',
      summary: 'The discovery feed',
      description:
        'Posts the runtime found (search, mentions, target accounts), newest found first; page with `before=<nextCursor>`. `minScore` keeps scored posts at or above it (mentions and target posts are not scored); `sources` is a comma-separated list of search, mention, target. `scoreBreakdown` holds the six signals as scored (keyword, followers, recency, engagement, replies, contentType).',
      query: FeedQuery,
      responses: {
        200: {
          description:
            '`{ items: [{ tweetId, source, keyword, author: { id, username, followers }, text, postedAt, metrics, score, scoreBreakdown, matchedKeywords, status, skipReason, discoveredAt, reply: { tweetId, content, postedAt } | null, queuedApprovalId }], nextCursor }`.',
        },
        422: { description: 'A filter is not valid (`fields` names it).' },
      },
    },
    {
      method: 'POST',
      path: '/api/discovery/:tweetId/compose-reply',
      tag,
      auth: 'session',
      summary: 'Write a reply to a stored post with the LLM',
      description: 'A suggestion only: nothing is queued or posted. Uses the tenant\'s LLM (its own key, or the sandbox\'s) with the business profile and persona, as AI assist does (metered as `assist.reply`). `mentionProduct` (default false) lets the reply name the product.',
      body: ComposeReplyBody,
      responses: {
        200: { description: '`{ tweetId, content, archetype, mentionProduct, truncated }`.' },
        ...unknown,
        409: { description: '`llm_not_configured`: no LLM is set up; `read_only`: the subscription ended.' },
        502: { description: '`llm_error`: the LLM failed; the message says how (as for AI assist).' },
      },
    },
    {
      method: 'POST',
      path: '/api/discovery/:tweetId/queue-reply',
      tag,
      auth: 'session',
      summary: 'Queue your reply to a stored post',
      description:
        'Your text goes into the approval queue already approved (it is your decision) and the approval poster posts it with the usual pacing, daily limits and crash safety. The guards apply first: never our own post, never twice (posted, queued or being posted), the per-author and target-account caps of the day, and the text rules (X\'s length, banned phrases, phrasing too close to a recent reply).',
      body: QueueReplyBody,
      responses: {
        201: { description: '`{ approval: <approval item>, status: "approved" }`.' },
        ...unknown,
        409: { description: '`guard_refused`: a guard said no (its reason in `fields.tweetId`, e.g. already_replied, author_daily_cap); `read_only`: the subscription ended.' },
        422: { description: '`invalid_params`: empty, too long, a banned phrase or too close to a recent reply (the reason in `fields.content`).' },
      },
    },
  );
}
