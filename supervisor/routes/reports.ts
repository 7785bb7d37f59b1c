/**
 * Read-only reports of the caller's tenant: the activity feed (with usage bars) and costs.
 * Query strings are parsed here (lists are comma-separated, numbers are numbers) and checked
 * again by the tenant.
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

export interface ReportRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

const DAY_MS = 86_400_000;
export const list = v.optional(v.pipe(v.string(), v.maxLength(500), v.transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean))));
export const integer = (min: number) => v.optional(v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be a whole number'), v.transform(Number), v.minValue(min, `must be at least ${min}`)));

export const ActivityQuery = v.strictObject({ actions: list, statuses: list, sources: list, before: integer(1), limit: integer(1) });
export const CostsQuery = v.strictObject({ from: integer(0), to: integer(0) });

export function query<S extends v.GenericSchema>(ctx: RequestContext, schema: S): v.InferOutput<S> {
  const parsed = v.safeParse(schema, Object.fromEntries(ctx.query));
  if (parsed.success) return parsed.output;
  const fields: Record<string, string> = {};
  for (const issue of parsed.issues) fields[v.getDotPath(issue) ?? '(query)'] ??= issue.message;
  throw new HttpError(422, 'invalid_request', 'The query is not valid.', fields);
}

export function addReportRoutes(router: Router<Handler>, deps: ReportRouteDeps): void {
  const { auth, host } = deps;
  router.add('GET', '/api/activity', async (ctx) => {
    const caller = auth.require(ctx);
    return json(200, await callTenant(host, caller.user.tenant_id, 'activity.list', query(ctx, ActivityQuery), deps.requestTimeoutMs));
  });

  router.add('GET', '/api/costs', async (ctx) => {
    const caller = auth.require(ctx);
    const { from, to } = query(ctx, CostsQuery);
    const end = to ?? Date.now();
    return json(200, await callTenant(host, caller.user.tenant_id, 'costs.summary', { from: from ?? end - 30 * DAY_MS, to: end }, deps.requestTimeoutMs));
  });
}

export function describeReportRoutes(doc: ApiDocument): void {
  doc.add(
    {
      method: 'GET',
      path: '/api/activity',
      tag: 'Activity',
      auth: 'session',
      summary: 'The activity feed',
      description: 'Newest first. Filters are comma-separated lists. Page with `before=<nextCursor>`. `usage` holds today\'s replies and tweets and this week\'s threads against the limit that applies (min of setting and plan ceiling).',
      query: ActivityQuery,
      responses: { 200: { description: '`{ items, nextCursor, usage }`.' }, 422: { description: 'A filter is not valid (`fields` names it).' } },
    },
    {
      method: 'GET',
      path: '/api/costs',
      tag: 'Costs',
      auth: 'session',
      summary: 'LLM and X costs',
      description: 'In micro-dollars, by day (the tenant\'s time zone), LLM model and purpose, X kind and endpoint. Default range: the last 30 days.',
      query: CostsQuery,
      responses: { 200: { description: '`{ from, to, timeZone, llm: { total, days, byModel, byPurpose }, x: { total, days, byKind, byEndpoint } }`.' }, 422: { description: 'The range is not valid.' } },
    },
  );
}
