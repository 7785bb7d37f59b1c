/**
 * The approval queue as the tenant API reads and decides it: list (newest first, filtered by status
 * and kind, paged by id), counts by status, edit, approve (optionally with the user's edit), reject,
 * approve all pending, and retry a failed item. The rules and the events live in the store
 * (runtime/approvals.ts); here they become protocol errors: an unknown id is `not_found`, a decision
 * the item's status does not allow is `invalid_state`, text X would refuse is `invalid_params` on
 * `content`. An ended subscription makes the queue read-only.
 */
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import { ActionLimits } from '../action-limits.js';
import { validate, type Handler, type HandlerContext } from '../handlers.js';
import { approvalStats, approve, approveAll, editApproval, enqueueApproval, listApprovals, reject, retryApproval, type ApprovalError, type ApprovalStatus } from '../runtime/approvals.js';
import type { RuntimeContext, Result } from '../runtime/context.js';
import type { PostKind } from '../runtime/events.js';
import { wakeJob } from '../runtime/runtime-handlers.js';
import { refuseWhenReadOnly } from './read-only.js';

export const APPROVAL_STATUSES = ['pending', 'approved', 'posting', 'posted', 'failed', 'rejected', 'expired'] as const satisfies readonly ApprovalStatus[];
export const APPROVAL_KINDS = ['reply', 'tweet', 'thread'] as const satisfies readonly PostKind[];

const csv = <T extends string>(allowed: readonly T[]) =>
  v.optional(v.array(v.picklist(allowed as unknown as [T, ...T[]], `must be one of ${allowed.join(', ')}`)));
const Id = v.object({ id: v.pipe(v.number(), v.integer(), v.minValue(1)) });
/** A text, or a thread's parts; X's weighted length is checked by the store. */
const Content = v.union([v.pipe(v.string(), v.maxLength(5_000)), v.pipe(v.array(v.pipe(v.string(), v.maxLength(5_000))), v.maxLength(25))], 'must be a text or a list of texts');
const ListQuery = v.object({
  statuses: csv(APPROVAL_STATUSES),
  kinds: csv(APPROVAL_KINDS),
  before: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1)))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(200))),
});
const EditParams = v.object({ ...Id.entries, content: Content });
const ApproveParams = v.object({ ...Id.entries, content: v.optional(Content) });

function storeContext(context: HandlerContext): RuntimeContext {
  return { db: context.db, now: Date.now, emit: context.emit, limits: new ActionLimits(context.db, () => context.ceilings) };
}

function settled<T>(result: Result<T, ApprovalError>): T {
  if (result.ok) return result.value;
  if (result.code === 'invalid_content') throw new RemoteError('invalid_params', result.message, { content: result.message });
  throw new RemoteError(result.code, result.message);
}

/** The poster idles between polls (5 min): an approved item is worth posting now (pacing still applies). */
function wakePoster(context: HandlerContext): void {
  wakeJob(context, 'approval-poster', Date.now());
  void context.tick();
}

export const approvalHandlers: Record<string, Handler> = {
  'approvals.list': (context, params) => {
    const query = validate(ListQuery, params ?? {});
    return listApprovals(context.db, {
      ...(query.statuses && { statuses: query.statuses }),
      ...(query.kinds && { kinds: query.kinds }),
      before: query.before ?? null,
      ...(query.limit && { limit: query.limit }),
    });
  },

  'approvals.stats': (context) => approvalStats(context.db),

  'approvals.edit': (context, params) => {
    const { id, content } = validate(EditParams, params);
    refuseWhenReadOnly(context);
    return settled(editApproval(storeContext(context), id, { content }));
  },

  'approvals.approve': (context, params) => {
    const { id, content } = validate(ApproveParams, params);
    refuseWhenReadOnly(context);
    const item = settled(approve(storeContext(context), id, content === undefined ? undefined : { content }));
    wakePoster(context);
    return item;
  },

  'approvals.reject': (context, params) => {
    const { id } = validate(Id, params);
    refuseWhenReadOnly(context);
    return settled(reject(storeContext(context), id));
  },

  'approvals.approve-all': (context) => {
    refuseWhenReadOnly(context);
    const ids = approveAll(storeContext(context));
    if (ids.length > 0) wakePoster(context);
    return { count: ids.length, ids };
  },

  'approvals.retry': (context, params) => {
    const { id } = validate(Id, params);
    refuseWhenReadOnly(context);
    const item = settled(retryApproval(storeContext(context), id));
    wakePoster(context);
    return item;
  },
};

const DevItem = v.object({
  kind: v.picklist(APPROVAL_KINDS),
  content: Content,
  target: v.optional(v.object({ tweetId: v.pipe(v.string(), v.regex(/^\d{1,19}$/)), authorId: v.string(), authorUsername: v.string() })),
  topic: v.optional(v.nullable(v.string())),
  score: v.optional(v.nullable(v.number())),
  approved: v.optional(v.boolean()),
});

/**
 * Dev hooks only (TUITBOT_DEV_HOOKS, refused in cloud mode): queues an item as the runtime's loops
 * do, through the same store (checks, events), so API tests can hold items of a known shape.
 */
export const approvalDevHandlers: Record<string, Handler> = {
  'dev.enqueue-approval': (context, params) => {
    const item = validate(DevItem, params);
    return settled(enqueueApproval(storeContext(context), { ...item, source: 'compose' }));
  },
};
