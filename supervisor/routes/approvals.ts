/**
 * The approval queue of the caller's tenant: what the runtime (or the user) wants to post, waiting
 * for a decision. The tenant owns the rules (tenant-worker/api/approvals.ts over the store in
 * runtime/approvals.ts: which status allows which decision, X's weighted length, the events); these
 * routes authenticate, parse and pass the request on. Bodies are parsed before the id, so a bad body
 * is refused the same way whatever the path names.
 */
import * as v from 'valibot';
import type { ApiDocument } from '../api/openapi.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { HttpError } from '../http/errors.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler, RequestContext } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';
import { integer, list, query } from './reports.js';

export interface ApprovalRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

export const ApprovalsQuery = v.strictObject({ statuses: list, kinds: list, before: integer(1), limit: integer(1) });
/** A reply's or tweet's text, or a thread's parts (X's weighted length is checked by the tenant). */
const Content = v.union(
  [v.pipe(v.string('must be a text'), v.maxLength(5_000, 'is far longer than a post')), v.pipe(v.array(v.pipe(v.string(), v.maxLength(5_000, 'is far longer than a post'))), v.minLength(2, 'a thread has at least 2 parts'), v.maxLength(25, 'a thread has at most 25 parts'))],
  'must be a text, or a thread\'s parts as a list of texts',
);
export const ApprovalEdit = v.strictObject({ content: Content });
export const ApprovalDecision = v.strictObject({ content: v.optional(Content) });

/** Ids are the tenant's own row ids: anything else names no item. */
function itemId(ctx: RequestContext): number {
  const raw = ctx.params['id'] ?? '';
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new HttpError(404, 'not_found', 'No such approval item.');
  return Number(raw);
}

export function addApprovalRoutes(router: Router<Handler>, deps: ApprovalRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown = {}) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);

  router.add('GET', '/api/approvals', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'approvals.list', query(ctx, ApprovalsQuery)));
  });

  router.add('GET', '/api/approvals/stats', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'approvals.stats')));

  router.add('PATCH', '/api/approvals/:id', async (ctx) => {
    const caller = auth.require(ctx);
    const { content } = await ctx.json(ApprovalEdit);
    return json(200, await ask(caller.user.tenant_id, 'approvals.edit', { id: itemId(ctx), content }));
  });

  router.add('POST', '/api/approvals/approve-all', async (ctx) => json(200, await ask(auth.require(ctx).user.tenant_id, 'approvals.approve-all')));

  router.add('POST', '/api/approvals/:id/approve', async (ctx) => {
    const caller = auth.require(ctx);
    // The body is optional: approve as it is, or with the user's last edit in the same step.
    const body = (await ctx.body()).length === 0 ? {} : await ctx.json(ApprovalDecision);
    return json(200, await ask(caller.user.tenant_id, 'approvals.approve', { id: itemId(ctx), ...body }));
  });

  router.add('POST', '/api/approvals/:id/reject', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'approvals.reject', { id: itemId(ctx) }));
  });

  router.add('POST', '/api/approvals/:id/retry', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await ask(caller.user.tenant_id, 'approvals.retry', { id: itemId(ctx) }));
  });
}

export function describeApprovalRoutes(doc: ApiDocument): void {
  const tag = 'Approvals';
  const item =
    'An item: `{ id, kind (reply | tweet | thread), status, content (a text, or a thread\'s parts), media, source, target: { tweetId, authorId, authorUsername, text } | null, topic, format (the archetype or thread structure), score, mentionsProduct, notBefore, attempts, nextAttemptAt, lastError, postedTweetId, threadId, createdAt, updatedAt, reviewedAt, postedAt }`.';
  const missing = { 404: { description: '`not_found`: no such item in your queue.' } };
  const readOnly = '`read_only`: the subscription ended';
  doc.add(
    {
      method: 'GET',
      path: '/api/approvals',
      tag,
      auth: 'session',
      summary: 'The approval queue',
      description: `Newest first. \`statuses\` (pending, approved, posting, posted, failed, rejected, expired; default pending) and \`kinds\` (reply, tweet, thread) are comma-separated. Page with \`before=<nextCursor>\`; \`limit\` up to 200 (default 50). ${item}`,
      query: ApprovalsQuery,
      responses: { 200: { description: '`{ items, nextCursor }`.' }, 422: { description: 'A filter is not valid (`fields` names it).' } },
    },
    { method: 'GET', path: '/api/approvals/stats', tag, auth: 'session', summary: 'Items by status', responses: { 200: { description: '`{ pending, approved, posting, posted, failed, rejected, expired }`.' } } },
    {
      method: 'PATCH',
      path: '/api/approvals/:id',
      tag,
      auth: 'session',
      summary: 'Edit an item\'s text',
      description: 'Only before it is on its way to X (pending, approved or failed); X\'s weighted length (at most 280 per post, URLs count 23) is checked. Emits ApprovalUpdated.',
      body: ApprovalEdit,
      responses: { 200: { description: `The item. ${item}` }, ...missing, 409: { description: `\`invalid_state\`: it is being posted or is settled; or ${readOnly}.` } },
    },
    {
      method: 'POST',
      path: '/api/approvals/:id/approve',
      tag,
      auth: 'session',
      summary: 'Approve a pending item',
      description: 'With an optional edited `content` in the same step (the body may be omitted). The poster posts it at the next pacing slot.',
      body: ApprovalDecision,
      responses: { 200: { description: 'The item, now approved.' }, ...missing, 409: { description: `\`invalid_state\`: it is not pending; or ${readOnly}.` } },
    },
    {
      method: 'POST',
      path: '/api/approvals/:id/reject',
      tag,
      auth: 'session',
      summary: 'Reject an item',
      description: 'Pending, approved or failed items; one being posted can no longer be stopped.',
      responses: { 200: { description: 'The item, now rejected.' }, ...missing, 409: { description: `\`invalid_state\`; or ${readOnly}.` } },
    },
    {
      method: 'POST',
      path: '/api/approvals/:id/retry',
      tag,
      auth: 'session',
      summary: 'Retry a failed item',
      description: 'A failed item is approved again with a fresh set of attempts; its last error stays visible until the next attempt.',
      responses: { 200: { description: 'The item, approved again.' }, ...missing, 409: { description: `\`invalid_state\`: it has not failed; or ${readOnly}.` } },
    },
    {
      method: 'POST',
      path: '/api/approvals/approve-all',
      tag,
      auth: 'session',
      summary: 'Approve every pending item',
      description: 'One ApprovalUpdated event carries every id.',
      responses: { 200: { description: '`{ count, ids }`.' }, 409: { description: readOnly } },
    },
  );
}
