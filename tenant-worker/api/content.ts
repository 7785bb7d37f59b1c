/**
 * The user's content as the tenant API serves it: what was posted, compose, the calendar, the posting
 * schedule, scheduled items and drafts. The stores own the rules (runtime/scheduled.ts: drafts and
 * scheduled items and their state machine; runtime/approvals.ts: the approval queue); these handlers
 * validate, resolve "the next free slot", refuse writes on a read-only plan and map store failures to
 * API errors (unknown → not_found, wrong state → invalid_state, text X would refuse → invalid_params
 * with the field path, `content` or `content.<part>`).
 *
 * Compose follows the effective approval mode (the setting, or composer mode): on, it queues an
 * approval item (planned for the chosen time or the next free slot); off, it schedules. Publishing a
 * draft schedules it for now: the scheduled poster posts it as soon as pacing and active hours allow
 * (scheduling is the user's decision, so it does not ask for approval again — the reference reached
 * the same end by approving its own queue item).
 */
import * as v from 'valibot';
import { RemoteError, type TenantEvent } from '../../protocol/index.js';
import { ActionLimits } from '../action-limits.js';
import { validate, type Handler, type HandlerContext } from '../handlers.js';
import { enqueueApproval } from '../runtime/approvals.js';
import { loadRuntimeConfig, type RuntimeConfig } from '../runtime/config.js';
import type { Result, RuntimeContext } from '../runtime/context.js';
import { checkPostText } from '../runtime/post-text.js';
import { cancelScheduled, createDraft, createScheduled, editScheduled, getScheduled, schedule, type ScheduledItem, type ScheduledStatus } from '../runtime/scheduled.js';
import { contentCalendar } from './content-calendar.js';
import { nextFreeSlots } from './content-slots.js';
import { listPostedTweets, listThreads } from './posted-content.js';

const DAY_MS = 86_400_000;
/** The calendar's widest range: two months and a day or two of margin for the zone. */
export const CALENDAR_MAX_DAYS = 62;
/** How far ahead an item may be scheduled. */
const MAX_AHEAD_MS = 366 * DAY_MS;
/** A time this little in the past is "now" (clocks and slow requests), not a mistake. */
const PAST_SLACK_MS = 60_000;
const SHOWN_SLOTS = 5;

const id = v.pipe(v.number(), v.integer(), v.minValue(1));
const epochMs = v.pipe(v.number(), v.integer(), v.minValue(0));
const kind = v.picklist(['tweet', 'thread'], 'must be tweet or thread');
const text = v.pipe(v.string(), v.maxLength(10_000));
const content = v.union([text, v.pipe(v.array(text), v.maxLength(25, 'a thread has at most 25 parts'))], 'must be a text, or a list of texts for a thread');
const media = v.pipe(v.array(v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a media id'))), v.maxLength(4, 'at most 4 media'));
const topic = v.nullable(v.pipe(v.string(), v.trim(), v.maxLength(100)));
const page = { before: v.optional(v.nullable(id)), limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))) };

const PageParams = v.object(page);
const ScheduledListParams = v.object({ ...page, statuses: v.optional(v.array(v.picklist(['scheduled', 'posting', 'posted', 'failed', 'cancelled']))) });
const ComposeParams = v.object({ kind, content, scheduledFor: v.optional(v.nullable(epochMs)), media: v.optional(media), topic: v.optional(topic) });
const CalendarParams = v.object({ from: epochMs, to: epochMs });
const Id = v.object({ id });
const EditScheduledParams = v.object({ id, content: v.optional(content), scheduledFor: v.optional(v.nullable(epochMs)), media: v.optional(media) });
const DraftParams = v.object({ kind, content, media: v.optional(media), topic: v.optional(topic) });
const EditDraftParams = v.object({ id, content: v.optional(content), media: v.optional(media), topic: v.optional(topic) });
const ScheduleDraftParams = v.object({ id, scheduledFor: v.nullable(epochMs) });

function invalid(fields: Record<string, string>): never {
  throw new RemoteError('invalid_params', 'The request parameters are invalid.', fields);
}

function writable(context: HandlerContext): void {
  if (context.ceilings?.readOnly) throw new RemoteError('read_only', 'Your subscription has ended: content is read-only until you subscribe again.');
}

function storeContext(context: HandlerContext, emit: (event: TenantEvent) => void = context.emit): RuntimeContext {
  return { db: context.db, now: Date.now, emit, limits: new ActionLimits(context.db, () => context.ceilings) };
}

function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  if (result.code === 'invalid_content') invalid({ content: result.message });
  throw new RemoteError(result.code, result.message);
}

/** What X would refuse, by field path: twitter-text's weighted length (URLs 23, emoji 2) per part. */
function checkContent(postKind: 'tweet' | 'thread', value: string | string[]): void {
  if (postKind === 'tweet' && typeof value !== 'string') invalid({ content: 'a tweet is one text' });
  if (postKind === 'thread' && (typeof value === 'string' || value.length < 2)) invalid({ content: 'a thread is a list of 2 to 25 parts' });
  const fields: Record<string, string> = {};
  const parts = typeof value === 'string' ? [value] : value;
  parts.forEach((part, index) => {
    const problem = checkPostText('tweet', part);
    if (problem) fields[postKind === 'thread' ? `content.${index}` : 'content'] = problem.replace(/^The text /, '').replace(/\.$/, '');
  });
  if (Object.keys(fields).length > 0) invalid(fields);
}

function checkTime(at: number, now: number, field = 'scheduledFor'): void {
  if (at < now - PAST_SLACK_MS) invalid({ [field]: 'must not be in the past' });
  if (at > now + MAX_AHEAD_MS) invalid({ [field]: 'must be within a year' });
}

/** The chosen time, or the next free slot when none was chosen (null). */
function resolveTime(context: HandlerContext, config: RuntimeConfig, at: number | null, now: number): number {
  if (at !== null) {
    checkTime(at, now);
    return at;
  }
  const [slot] = nextFreeSlots(context.db, config, now, 1);
  if (slot === undefined) invalid({ scheduledFor: 'there is no free slot in the next 8 days: choose a time' });
  return slot;
}

/** The scheduled poster idles up to 5 minutes between looks: make it look when the item is due. */
function wakePoster(context: HandlerContext, at: number): void {
  const moved = context.db.prepare("UPDATE jobs SET next_run_at = ? WHERE name = 'scheduled-poster' AND next_run_at > ?").run(at, at).changes;
  if (moved > 0) void context.tick();
}

/** The item, which must exist and be in one of `states` (404, else 409). */
function itemIn(context: HandlerContext, itemId: number, states: readonly ScheduledStatus[], what: string): ScheduledItem {
  const item = getScheduled(context.db, itemId);
  if (!item) throw new RemoteError('not_found', `No ${what} ${itemId}.`);
  if (!states.includes(item.status)) throw new RemoteError('invalid_state', `This item is ${item.status}; only a ${states.join(' or ')} item can change here.`);
  return item;
}

/** Runs store steps as one transaction and announces their events only once it committed. */
function atomically<T>(context: HandlerContext, work: (store: RuntimeContext) => T): T {
  const events: TenantEvent[] = [];
  const value = context.db.transaction(() => work(storeContext(context, (event) => events.push(event)))).immediate();
  for (const event of events) context.emit(event);
  return value;
}

function listScheduled(context: HandlerContext, statuses: readonly ScheduledStatus[], before: number | null, limit: number) {
  const ids = context.db
    .prepare<(string | number)[], { id: number }>(
      `SELECT id FROM scheduled_content WHERE status IN (${statuses.map(() => '?').join(', ')}) AND id < ? ORDER BY id DESC LIMIT ?`,
    )
    .all(...statuses, before ?? Number.MAX_SAFE_INTEGER, limit + 1)
    .map((row) => row.id);
  const items = ids.slice(0, limit).map((itemId) => getScheduled(context.db, itemId)!);
  return { items, nextCursor: ids.length > limit ? items[items.length - 1]!.id : null };
}

export const contentHandlers: Record<string, Handler> = {
  'content.tweets': (context, params) => listPostedTweets(context.db, validate(PageParams, params ?? {})),

  'content.threads': (context, params) => listThreads(context.db, validate(PageParams, params ?? {})),

  'content.compose': (context, params) => {
    writable(context);
    const input = validate(ComposeParams, params);
    checkContent(input.kind, input.content);
    const now = Date.now();
    const { config } = loadRuntimeConfig(context.db);
    const at = resolveTime(context, config, input.scheduledFor ?? null, now);
    const store = storeContext(context);
    if (config.effectiveApprovalMode) {
      const item = unwrap(enqueueApproval(store, { kind: input.kind, content: input.content, source: 'compose', media: input.media, topic: input.topic, notBefore: at }));
      return { outcome: 'queued_for_approval', item };
    }
    const item = unwrap(createScheduled(store, { kind: input.kind, content: input.content, media: input.media, topic: input.topic, source: 'manual' }, at));
    wakePoster(context, at);
    return { outcome: 'scheduled', item };
  },

  'content.calendar': (context, params) => {
    const { from, to } = validate(CalendarParams, params);
    if (to <= from) invalid({ to: 'must be after from' });
    if (to - from > CALENDAR_MAX_DAYS * DAY_MS) invalid({ to: `must be at most ${CALENDAR_MAX_DAYS} days after from` });
    return contentCalendar(context.db, loadRuntimeConfig(context.db).config.schedule, from, to);
  },

  'content.schedule': (context) => {
    const { config } = loadRuntimeConfig(context.db);
    const s = config.schedule;
    const now = Date.now();
    return {
      timeZone: s.timezone,
      activeHours: { start: s.activeHoursStart, end: s.activeHoursEnd },
      activeDays: s.activeDays,
      preferredTimes: s.preferredTimes,
      preferredTimesOverride: s.preferredTimesOverride,
      threadDay: s.threadPreferredDay,
      threadTime: s.threadPreferredTime,
      slotMode: s.preferredTimes.length > 0 || Object.keys(s.preferredTimesOverride).length > 0,
      approvalMode: config.effectiveApprovalMode,
      // At their nominal times; an item placed in one is jittered ±15 min like the runtime's own posts.
      nextFreeSlots: nextFreeSlots(context.db, config, now, SHOWN_SLOTS, () => 0.5),
    };
  },

  'content.scheduled.list': (context, params) => {
    const query = validate(ScheduledListParams, params ?? {});
    return listScheduled(context, query.statuses?.length ? query.statuses : ['scheduled', 'posting', 'failed'], query.before ?? null, query.limit ?? 50);
  },

  'content.scheduled.edit': (context, params) => {
    writable(context);
    const input = validate(EditScheduledParams, params);
    if (input.content === undefined && input.scheduledFor === undefined && input.media === undefined) invalid({ '(params)': 'must change the content, the time or the media' });
    const now = Date.now();
    const { config } = loadRuntimeConfig(context.db);
    const item = atomically(context, (store) => {
      const current = itemIn(context, input.id, ['scheduled'], 'scheduled item');
      if (input.content !== undefined) checkContent(current.kind, input.content);
      let edited = current;
      if (input.content !== undefined || input.media !== undefined) edited = unwrap(editScheduled(store, input.id, { content: input.content, media: input.media }));
      if (input.scheduledFor !== undefined) edited = unwrap(schedule(store, input.id, resolveTime(context, config, input.scheduledFor, now)));
      return edited;
    });
    wakePoster(context, item.scheduledFor!);
    return item;
  },

  'content.scheduled.cancel': (context, params) => {
    writable(context);
    const { id: itemId } = validate(Id, params);
    itemIn(context, itemId, ['scheduled', 'failed'], 'scheduled item');
    return unwrap(cancelScheduled(storeContext(context), itemId));
  },

  'content.drafts.list': (context, params) => {
    const query = validate(PageParams, params ?? {});
    return listScheduled(context, ['draft'], query.before ?? null, query.limit ?? 50);
  },

  'content.drafts.create': (context, params) => {
    writable(context);
    const input = validate(DraftParams, params);
    checkContent(input.kind, input.content);
    return unwrap(createDraft(storeContext(context), { kind: input.kind, content: input.content, media: input.media, topic: input.topic }));
  },

  'content.drafts.edit': (context, params) => {
    writable(context);
    const input = validate(EditDraftParams, params);
    if (input.content === undefined && input.media === undefined && input.topic === undefined) invalid({ '(params)': 'must change the content, the media or the topic' });
    const draft = itemIn(context, input.id, ['draft'], 'draft');
    if (input.content !== undefined) checkContent(draft.kind, input.content);
    return unwrap(editScheduled(storeContext(context), input.id, { content: input.content, media: input.media, topic: input.topic }));
  },

  'content.drafts.delete': (context, params) => {
    writable(context);
    const { id: itemId } = validate(Id, params);
    itemIn(context, itemId, ['draft'], 'draft');
    return unwrap(cancelScheduled(storeContext(context), itemId));
  },

  'content.drafts.schedule': (context, params) => {
    writable(context);
    const input = validate(ScheduleDraftParams, params);
    itemIn(context, input.id, ['draft'], 'draft');
    const at = resolveTime(context, loadRuntimeConfig(context.db).config, input.scheduledFor, Date.now());
    const item = unwrap(schedule(storeContext(context), input.id, at));
    wakePoster(context, at);
    return item;
  },

  'content.drafts.publish': (context, params) => {
    writable(context);
    const { id: itemId } = validate(Id, params);
    itemIn(context, itemId, ['draft'], 'draft');
    const now = Date.now();
    const item = unwrap(schedule(storeContext(context), itemId, now));
    wakePoster(context, now);
    return item;
  },
};
