/**
 * The user's content in the caller's tenant: what was posted, compose, the calendar, the posting
 * schedule, scheduled items and drafts. The tenant owns the rules (tenant-worker/api/content.ts over
 * the stores in runtime/scheduled.ts and runtime/approvals.ts: X's weighted length, the state machine,
 * the next free slot, the events); these routes authenticate, parse and pass the request on. Bodies
 * are parsed before the id, so a bad body is refused the same way whatever the path names.
 *
 * The reference's legacy `POST /content/tweets` and `/content/threads` are not carried over: compose
 * does what they did in approval mode, and outside it they did nothing.
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

export interface ContentRouteDeps {
  auth: RequestAuth;
  host: TenantHost;
  requestTimeoutMs: number;
}

const epochMs = v.pipe(v.number('must be epoch milliseconds'), v.integer('must be epoch milliseconds'), v.minValue(0, 'must be epoch milliseconds'));
const requiredMs = v.pipe(v.string(), v.regex(/^\d{1,15}$/, 'must be epoch milliseconds'), v.transform(Number));
const Kind = v.picklist(['tweet', 'thread'], 'must be tweet or thread');
/** A tweet's text, or a thread's parts (X's weighted length is checked by the tenant). */
const Content = v.union(
  [
    v.pipe(v.string(), v.maxLength(5_000, 'is far longer than a post')),
    v.pipe(v.array(v.pipe(v.string('must be a text'), v.maxLength(5_000, 'is far longer than a post'))), v.minLength(2, 'a thread has at least 2 parts'), v.maxLength(25, 'a thread has at most 25 parts')),
  ],
  "must be a text, or a thread's parts as a list of texts",
);
/** Media ids as the media upload gives them; stored as given. */
const Media = v.pipe(v.array(v.pipe(v.string('must be a media id'), v.regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a media id'))), v.maxLength(4, 'at most 4 media'));
const Topic = v.nullable(v.pipe(v.string('must be a text'), v.maxLength(100, 'must be at most 100 characters')));
/** A time, or null for the next free slot. */
const When = v.nullable(epochMs);

export const PageQuery = v.strictObject({ before: integer(1), limit: integer(1) });
export const ScheduledQuery = v.strictObject({ statuses: list, before: integer(1), limit: integer(1) });
export const CalendarQuery = v.strictObject({ from: requiredMs, to: requiredMs }, (issue) =>
  issue.expected === 'never' ? 'is not a known parameter' : issue.received === 'undefined' ? 'is required (epoch milliseconds)' : issue.message,
);
export const Compose = v.strictObject({ kind: Kind, content: Content, scheduledFor: v.optional(When), media: v.optional(Media), topic: v.optional(Topic) });
export const ScheduledEdit = v.pipe(
  v.strictObject({ content: v.optional(Content), scheduledFor: v.optional(When), media: v.optional(Media) }),
  v.check((edit) => Object.keys(edit).length > 0, 'must change the content, the time or the media'),
);
export const NewDraft = v.strictObject({ kind: Kind, content: Content, media: v.optional(Media), topic: v.optional(Topic) });
export const DraftEdit = v.pipe(
  v.strictObject({ content: v.optional(Content), media: v.optional(Media), topic: v.optional(Topic) }),
  v.check((edit) => Object.keys(edit).length > 0, 'must change the content, the media or the topic'),
);
export const DraftSchedule = v.strictObject({ scheduledFor: When });

/** Ids are the tenant's own row ids: anything else names no item. */
function itemId(ctx: RequestContext): number {
  const raw = ctx.params['id'] ?? '';
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new HttpError(404, 'not_found', 'No such item.');
  return Number(raw);
}

export function addContentRoutes(router: Router<Handler>, deps: ContentRouteDeps): void {
  const { auth, host } = deps;
  const ask = (tenantId: string, method: string, params: unknown) => callTenant(host, tenantId, method, params, deps.requestTimeoutMs);
  // Always in this order: who is asking, then the query or body, then the id.
  const read = (method: string, schema?: v.GenericSchema): Handler => async (ctx) => {
    const tenantId = auth.require(ctx).user.tenant_id;
    return json(200, await ask(tenantId, method, schema ? query(ctx, schema) : {}));
  };
  const write = (method: string, schema: v.GenericSchema | null, options: { status?: number; id?: boolean } = {}): Handler => async (ctx) => {
    const tenantId = auth.require(ctx).user.tenant_id;
    const body = schema ? ((await ctx.json(schema)) as Record<string, unknown>) : {};
    return json(options.status ?? 200, await ask(tenantId, method, options.id === false ? body : { id: itemId(ctx), ...body }));
  };

  router.add('GET', '/api/content/tweets', read('content.tweets', PageQuery));
  router.add('GET', '/api/content/threads', read('content.threads', PageQuery));
  router.add('POST', '/api/content/compose', write('content.compose', Compose, { status: 201, id: false }));
  router.add('GET', '/api/content/calendar', read('content.calendar', CalendarQuery));
  router.add('GET', '/api/content/schedule', read('content.schedule'));

  router.add('GET', '/api/content/scheduled', read('content.scheduled.list', ScheduledQuery));
  router.add('PATCH', '/api/content/scheduled/:id', write('content.scheduled.edit', ScheduledEdit));
  router.add('DELETE', '/api/content/scheduled/:id', write('content.scheduled.cancel', null));

  router.add('GET', '/api/content/drafts', read('content.drafts.list', PageQuery));
  router.add('POST', '/api/content/drafts', write('content.drafts.create', NewDraft, { status: 201, id: false }));
  router.add('PATCH', '/api/content/drafts/:id', write('content.drafts.edit', DraftEdit));
  router.add('DELETE', '/api/content/drafts/:id', write('content.drafts.delete', null));
  router.add('POST', '/api/content/drafts/:id/schedule', write('content.drafts.schedule', DraftSchedule));
  router.add('POST', '/api/content/drafts/:id/publish', write('content.drafts.publish', null));
}

export function describeContentRoutes(doc: ApiDocument): void {
  const tag = 'Content';
  const item =
    'An item (draft or scheduled): `{ id, kind (tweet | thread), status (draft | scheduled | posting | posted | failed | cancelled), content (a text, or a thread\'s parts), media, source, topic, scheduledFor, attempts, nextAttemptAt, lastError, postedTweetId, threadId, createdAt, updatedAt, postedAt }`.';
  const performance = '`performance`: `{ score, likes, retweets, replies, quotes, impressions, measuredAt }` once measured (a day to a week after posting), else null';
  const page = 'Newest first; page with `before=<nextCursor>`, `limit` up to 200 (default 50).';
  const missing = { 404: { description: '`not_found`: no such item in your content.' } };
  const readOnly = '`read_only`: the subscription ended';
  const length = "X's weighted length (twitter-text: at most 280 per post, every URL counts 23, emoji and CJK count 2) is checked per part; errors name `content` or `content.<part>`.";
  const time = '`scheduledFor`: epoch ms (not in the past, within a year), or null for the next free slot (see `GET /api/content/schedule`).';
  doc.add(
    {
      method: 'GET',
      path: '/api/content/tweets',
      tag,
      auth: 'session',
      summary: 'Posted tweets',
      description: `Our standalone tweets at X. ${page} Items: \`{ id, status (posted | deleted), tweetId, content, topic, format, source (content | scheduled | manual), approvalId, scheduledId, postedAt, performance }\`; ${performance}. A tweet that failed to post stays on its scheduled or approval item with the error.`,
      query: PageQuery,
      responses: { 200: { description: '`{ items, nextCursor }`.' }, 422: { description: 'A parameter is not valid.' } },
    },
    {
      method: 'GET',
      path: '/api/content/threads',
      tag,
      auth: 'session',
      summary: 'Threads',
      description: `${page} Items: \`{ id, status (posting | posted | partial | failed), topic, structure, source, tweetCount, postedCount, rootTweetId, parts: [{ position, content, tweetId, postedAt }], error, approvalId, scheduledId, createdAt, postedAt, performance }\`; ${performance}.`,
      query: PageQuery,
      responses: { 200: { description: '`{ items, nextCursor }`.' }, 422: { description: 'A parameter is not valid.' } },
    },
    {
      method: 'POST',
      path: '/api/content/compose',
      tag,
      auth: 'session',
      summary: 'Compose a tweet or thread',
      description: `\`content\` is a text for a tweet, 2 to 25 texts for a thread. ${length} ${time} \`media\`: up to 4 media ids, stored with the item. With approval mode on (the setting, or composer mode) it is queued for approval, planned for that time (ApprovalQueued); otherwise it is scheduled (ContentScheduled) and posted in the active hours, paced like every post.`,
      body: Compose,
      responses: {
        201: { description: `\`{ outcome: 'queued_for_approval', item: <approval item> }\` or \`{ outcome: 'scheduled', item }\`. ${item}` },
        409: { description: readOnly },
      },
    },
    {
      method: 'GET',
      path: '/api/content/calendar',
      tag,
      auth: 'session',
      summary: 'The content calendar',
      description:
        'Everything in [from, to) (epoch ms, required, at most 62 days) by time: posted tweets, threads (content = the parts, topic separate) and replies (with the author answered), approval items not yet posted (at their planned time, else when queued) and scheduled items. Entries: `{ origin (posted | approval | scheduled: which list the id belongs to), id, kind (tweet | thread | reply), source, status, at, local (YYYY-MM-DDTHH:mm in the tenant\'s zone), content, topic, targetAuthor, targetTweetId, tweetId, error, approvalId, scheduledId, performanceScore (measured, else null) }`. `days` lists the local days of the range with their start and end (23 or 25 hours on a DST change) and their preferred posting slots.',
      query: CalendarQuery,
      responses: { 200: { description: '`{ from, to, timeZone, days: [{ date, start, end, slots }], entries }`.' }, 422: { description: 'The range is missing or not valid (`fields` names it).' } },
    },
    {
      method: 'GET',
      path: '/api/content/schedule',
      tag,
      auth: 'session',
      summary: 'The posting schedule',
      description: 'From the settings, in the tenant\'s IANA zone, with the next free slots for content (slots taken by anything posted, scheduled or planned for approval are skipped). In slot mode the slots are the preferred times (an item placed there is jittered ±15 min); otherwise the earliest active times one pacing pause apart.',
      responses: {
        200: { description: '`{ timeZone, activeHours: { start, end }, activeDays, preferredTimes, preferredTimesOverride, threadDay, threadTime, slotMode, approvalMode, nextFreeSlots }`.' },
      },
    },
    {
      method: 'GET',
      path: '/api/content/scheduled',
      tag,
      auth: 'session',
      summary: 'Scheduled items',
      description: `\`statuses\` (scheduled, posting, posted, failed, cancelled; default scheduled,posting,failed) is comma-separated. ${page} ${item}`,
      query: ScheduledQuery,
      responses: { 200: { description: '`{ items, nextCursor }`.' }, 422: { description: 'A filter is not valid.' } },
    },
    {
      method: 'PATCH',
      path: '/api/content/scheduled/:id',
      tag,
      auth: 'session',
      summary: 'Change a scheduled item',
      description: `Its content, time and/or media, in one step, only while it is scheduled. ${length} ${time} Emits ContentScheduled.`,
      body: ScheduledEdit,
      responses: { 200: { description: `The item. ${item}` }, ...missing, 409: { description: `\`invalid_state\`: it is not scheduled (being posted, posted, failed, cancelled, a draft); or ${readOnly}.` } },
    },
    {
      method: 'DELETE',
      path: '/api/content/scheduled/:id',
      tag,
      auth: 'session',
      summary: 'Cancel a scheduled item',
      description: 'A scheduled or failed item becomes cancelled (kept, off the calendar). Emits ContentScheduled.',
      responses: { 200: { description: 'The item, now cancelled.' }, ...missing, 409: { description: `\`invalid_state\`: it is being posted or settled; or ${readOnly}.` } },
    },
    {
      method: 'GET',
      path: '/api/content/drafts',
      tag,
      auth: 'session',
      summary: 'Drafts',
      description: `${page} ${item}`,
      query: PageQuery,
      responses: { 200: { description: '`{ items, nextCursor }`.' }, 422: { description: 'A parameter is not valid.' } },
    },
    {
      method: 'POST',
      path: '/api/content/drafts',
      tag,
      auth: 'session',
      summary: 'Save a draft',
      description: `A draft is never more than X would take. ${length}`,
      body: NewDraft,
      responses: { 201: { description: `The draft. ${item}` }, 409: { description: readOnly } },
    },
    {
      method: 'PATCH',
      path: '/api/content/drafts/:id',
      tag,
      auth: 'session',
      summary: 'Edit a draft',
      description: `Its content, media and/or topic. ${length}`,
      body: DraftEdit,
      responses: { 200: { description: 'The draft.' }, ...missing, 409: { description: `\`invalid_state\`: it is no longer a draft; or ${readOnly}.` } },
    },
    {
      method: 'DELETE',
      path: '/api/content/drafts/:id',
      tag,
      auth: 'session',
      summary: 'Delete a draft',
      description: 'The draft becomes cancelled (kept, no longer listed).',
      responses: { 200: { description: 'The item, now cancelled.' }, ...missing, 409: { description: `\`invalid_state\`: it is no longer a draft; or ${readOnly}.` } },
    },
    {
      method: 'POST',
      path: '/api/content/drafts/:id/schedule',
      tag,
      auth: 'session',
      summary: 'Schedule a draft',
      description: `${time} Emits ContentScheduled.`,
      body: DraftSchedule,
      responses: { 200: { description: 'The item, now scheduled.' }, ...missing, 409: { description: `\`invalid_state\`: it is no longer a draft; or ${readOnly}.` } },
    },
    {
      method: 'POST',
      path: '/api/content/drafts/:id/publish',
      tag,
      auth: 'session',
      summary: 'Publish a draft now',
      description:
        'Scheduled for now: the scheduled poster posts it as soon as pacing and the active hours allow, in both modes (publishing is the decision; it is not queued for approval again). Emits ContentScheduled.',
      responses: { 200: { description: 'The item, now scheduled.' }, ...missing, 409: { description: `\`invalid_state\`: it is no longer a draft; or ${readOnly}.` } },
    },
  );
}
