/**
 * AI assist for the caller: a tweet, a reply, a thread or a better draft written by the tenant's LLM,
 * and the hints around them (best topics, best hours, the mode). The tenant generates and meters
 * (tenant-worker/api/assist.ts); these routes authenticate and pass the request on.
 */
import * as v from 'valibot';
import type { ApiDocument } from '../api/openapi.js';
import type { RequestAuth } from '../auth/request-auth.js';
import { json } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler } from '../http/server.js';
import { callTenant } from '../tenants/call.js';
import type { TenantHost } from '../tenants/host.js';
import { query } from './reports.js';
import { NoQuery } from './strategy.js';

export interface AssistRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

const text = (max: number) => v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(max, `must be at most ${max} characters`));

export const TopicBody = v.strictObject({ topic: text(200) });
export const ReplyBody = v.strictObject({ tweetText: text(2000), tweetAuthor: v.pipe(v.string(), v.regex(/^@?\w{1,15}$/, 'must be an X username')), mentionProduct: v.optional(v.boolean()) });
export const ImproveBody = v.strictObject({ draft: text(2000), context: v.optional(text(1000)) });

const GENERATORS = [
  ['tweet', TopicBody],
  ['reply', ReplyBody],
  ['thread', TopicBody],
  ['improve', ImproveBody],
] as const;

/** A model writing a thread (up to three attempts) takes longer than a DB-bound request's deadline. */
export const GENERATION_DEADLINE_MS = 60_000;

export function addAssistRoutes(router: Router<Handler>, deps: AssistRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown = {}, deadlineMs = deps.requestTimeoutMs) => callTenant(host, tenantId, method, params, deadlineMs);

  for (const [kind, schema] of GENERATORS) {
    router.add('POST', `/api/assist/${kind}`, async (ctx) => {
      const caller = auth.require(ctx);
      const body = await ctx.json(schema);
      return json(200, await ask(caller.user.tenant_id, `assist.${kind}`, body, Math.max(deps.requestTimeoutMs, GENERATION_DEADLINE_MS)));
    });
  }

  for (const name of ['topics', 'optimal-times', 'mode']) {
    router.add('GET', `/api/assist/${name}`, async (ctx) => {
      const caller = auth.require(ctx);
      query(ctx, NoQuery);
      return json(200, await ask(caller.user.tenant_id, `assist.${name}`));
    });
  }
}

export function describeAssistRoutes(doc: ApiDocument): void {
  const tag = 'AI assist';
  const llm = {
    409: { description: '`llm_not_configured`: no LLM (add a key in the LLM settings; the sandbox has its own).' },
    502: { description: '`llm_error`: the LLM failed; the message says how (a refused key, a quota, a rate limit asking for more than a few seconds, a malformed answer).' },
    504: { description: 'The model took longer than 60 s.' },
  };
  const writes = 'Nothing is stored or posted. Written by the tenant\'s LLM with the business profile and persona, held to X\'s weighted 280 characters (one shorter retry, then a cut at a sentence or word); metered in the costs under the purpose `assist.<kind>`.';
  doc.add(
    { method: 'POST', path: '/api/assist/tweet', tag, auth: 'session', summary: 'Write a tweet about a topic', description: writes, body: TopicBody, responses: { 200: { description: '`{ content, topic, format, truncated }`.' }, ...llm } },
    {
      method: 'POST',
      path: '/api/assist/reply',
      tag,
      auth: 'session',
      summary: 'Write a reply to a post',
      description: `${writes} \`mentionProduct\` (default false) lets the reply name the product.`,
      body: ReplyBody,
      responses: { 200: { description: '`{ content, archetype, mentionProduct, truncated }`.' }, ...llm },
    },
    { method: 'POST', path: '/api/assist/thread', tag, auth: 'session', summary: 'Write a thread about a topic', description: `${writes} A thread has 5–8 tweets.`, body: TopicBody, responses: { 200: { description: '`{ tweets, topic, structure }`.' }, ...llm } },
    { method: 'POST', path: '/api/assist/improve', tag, auth: 'session', summary: 'Rewrite a draft', description: `${writes} \`context\` is optional guidance.`, body: ImproveBody, responses: { 200: { description: '`{ content, truncated }`.' }, ...llm } },
    { method: 'GET', path: '/api/assist/topics', tag, auth: 'session', summary: 'The best topics so far', description: 'The 10 topics whose measured tweets and threads scored best on average.', query: NoQuery, responses: { 200: { description: '`{ topics: [{ topic, score, posts }] }`.' } } },
    {
      method: 'GET',
      path: '/api/assist/optimal-times',
      tag,
      auth: 'session',
      summary: 'The best hours to post',
      description: 'Hours of the day (0–23) in the tenant\'s time zone, by the mean score of the tweets and threads posted in them, best first; hours without measured posts are absent.',
      query: NoQuery,
      responses: { 200: { description: '`{ timeZone, times: [{ hour, avgScore, posts }] }`.' } },
    },
    { method: 'GET', path: '/api/assist/mode', tag, auth: 'session', summary: 'The operating mode', query: NoQuery, responses: { 200: { description: '`{ mode: autopilot|composer, approvalMode (what applies: composer always queues), approvalModeSetting }`.' } } },
  );
}
