/**
 * The messages between the supervisor and a tenant actor.
 *
 * Each activation of a tenant gets one MessagePort. The supervisor sends `ToTenant` messages,
 * the tenant answers with `ToSupervisor` messages. Every message is a plain object with a `type`,
 * validated on arrival by the receiving side (`parseToTenant` / `parseToSupervisor`): a thread
 * that misbehaves must not be able to corrupt the other side's state.
 *
 * Timestamps are epoch milliseconds (UTC), the one time format of the product.
 */
import * as v from 'valibot';

/** Bumped whenever a message changes shape; an activation with another version is refused. */
export const PROTOCOL_VERSION = 8;

const epochMs = v.pipe(v.number(), v.integer(), v.minValue(0));
const tenantId = v.pipe(v.string(), v.uuid());
const correlationId = v.pipe(v.number(), v.integer(), v.minValue(1));

/**
 * Plan ceilings that billing imposes on a tenant. `null` means "no ceiling" (self-host).
 * Limits the user sets are clamped to these inside the tenant.
 */
export const CeilingsSchema = v.nullable(
  v.object({
    plan: v.string(),
    repliesPerDay: v.pipe(v.number(), v.integer(), v.minValue(0)),
    tweetsPerDay: v.pipe(v.number(), v.integer(), v.minValue(0)),
    threadsPerWeek: v.pipe(v.number(), v.integer(), v.minValue(0)),
    /** `null` = unlimited target accounts. */
    targets: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0))),
    /** X API cost allowance per billing period in US cents; `null` = the tenant pays X itself. */
    xCostAllowanceCents: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0))),
    /** Start of the billing period the allowance covers; `null` when there is no allowance. */
    xPeriodStart: v.nullable(epochMs),
    /** Daily budget for X reads in US cents (reads are the cost that runs away); `null` = none. */
    xReadCentsPerDay: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0))),
    /** Posts containing a URL cost 13× a plain post: at most this many a day; `null` = no ration. */
    xUrlPostsPerDay: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0))),
    /** How far beyond the allowance X spend may go, billed as overage; `null` = not opted in. */
    xOverageCapCents: v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0))),
    /** Whether automation may act on X at all (false without a paid plan or after it ended). */
    automation: v.boolean(),
    /** The subscription ended: the tenant's data may be read but not changed. */
    readOnly: v.boolean(),
  }),
);
export type Ceilings = v.InferOutput<typeof CeilingsSchema>;

export const ErrorBodySchema = v.object({
  code: v.pipe(v.string(), v.minLength(1)),
  message: v.string(),
  /** Field paths to messages, for validation errors. */
  fields: v.optional(v.record(v.string(), v.string())),
});
export type ErrorBody = v.InferOutput<typeof ErrorBodySchema>;

/** What a tenant emits for dashboards and logs; `kind` is namespaced, e.g. `runtime.tick`. */
export const TenantEventSchema = v.object({
  kind: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
  at: epochMs,
  data: v.optional(v.unknown()),
});
export type TenantEvent = v.InferOutput<typeof TenantEventSchema>;

// ---- events the supervisor mails about ------------------------------------------------------
// The tenant decides *when* (it knows its week, its queue, its zone and the user's opt-in); the supervisor
// decides *who* and *how* (supervisor/notifications/). The data is what the mail shows, so the supervisor
// never wakes a tenant to write one.

export const NOTIFY_EVENTS = { WeeklySummary: 'notify.weekly_summary', ApprovalReminder: 'notify.approval_reminder' } as const;

const count = v.pipe(v.number(), v.integer(), v.minValue(0));
const localDate = v.pipe(v.string(), v.isoDate());
const postKind = v.picklist(['reply', 'tweet', 'thread']);

/** A closed week's strategy report was written (once per week). */
export const WeeklySummaryEventSchema = v.object({
  weekStart: epochMs,
  weekEnd: epochMs,
  firstDay: localDate,
  lastDay: localDate,
  timeZone: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  posts: v.object({ replies: count, tweets: count, threads: count, total: count }),
  /** Posts the limits allowed in the week. */
  capacity: count,
  followers: v.object({ start: v.nullable(count), end: v.nullable(count), delta: v.nullable(v.pipe(v.number(), v.integer())) }),
  avgScore: v.object({ reply: v.nullable(v.number()), tweet: v.nullable(v.number()) }),
  replyAcceptanceRate: v.nullable(v.pipe(v.number(), v.minValue(0), v.maxValue(1))),
  topPosts: v.pipe(
    v.array(v.object({ kind: postKind, preview: v.pipe(v.string(), v.maxLength(300)), score: v.number(), likes: count, replies: count, retweets: count })),
    v.maxLength(3),
  ),
  recommendations: v.pipe(
    v.array(v.object({ priority: v.picklist(['high', 'medium', 'low']), title: v.pipe(v.string(), v.maxLength(200)), description: v.pipe(v.string(), v.maxLength(1000)) })),
    v.maxLength(3),
  ),
  pendingApprovals: count,
});
export type WeeklySummaryEvent = v.InferOutput<typeof WeeklySummaryEventSchema>;

/** Approval items have waited long enough to remind the user (at most once per tenant-local day). */
export const ApprovalReminderEventSchema = v.object({
  /** The tenant-local day the reminder belongs to. */
  day: localDate,
  pending: v.pipe(count, v.minValue(1)),
  /** When the oldest pending item was queued. */
  oldestAt: epochMs,
  byKind: v.object({ reply: count, tweet: count, thread: count }),
});
export type ApprovalReminderEvent = v.InferOutput<typeof ApprovalReminderEventSchema>;

/** A tenant's own derived secret keys (see secret-box.ts); never the master key. */
export const TenantKeysSchema = v.object({
  currentId: v.pipe(v.string(), v.regex(/^[0-9a-f]{8}$/)),
  keys: v.pipe(
    v.array(v.object({ id: v.pipe(v.string(), v.regex(/^[0-9a-f]{8}$/)), key: v.custom<Uint8Array>((key) => key instanceof Uint8Array && key.byteLength === 32, 'must be a 32-byte key') })),
    v.minLength(1),
  ),
});

/** The X app a tenant's X client talks through (token refresh and revoke, the API). */
export const XAppSchema = v.object({
  clientId: v.pipe(v.string(), v.minLength(1)),
  clientSecret: v.nullable(v.string()),
  tokenUrl: v.pipe(v.string(), v.url()),
  revokeUrl: v.pipe(v.string(), v.url()),
  apiUrl: v.pipe(v.string(), v.url()),
  uploadUrl: v.pipe(v.string(), v.url()),
  /** Whether X calls are paid by us (managed app: the allowance applies) or by the user's own app. */
  managed: v.boolean(),
});
export type XApp = v.InferOutput<typeof XAppSchema>;

/** An LLM endpoint a tenant may use when its user configured none (the sandbox's simulated LLM). */
export const LlmFallbackSchema = v.object({
  provider: v.picklist(['openai', 'anthropic', 'openai-compatible']),
  baseUrl: v.pipe(v.string(), v.url()),
  apiKey: v.nullable(v.string()),
  model: v.pipe(v.string(), v.minLength(1)),
});
export type LlmFallback = v.InferOutput<typeof LlmFallbackSchema>;

/**
 * The data of the long-running pool task that activates a tenant. The port travels in the
 * task's transfer list; the rest is plain configuration.
 */
export const ActivateSchema = v.object({
  type: v.literal('activate'),
  protocolVersion: v.literal(PROTOCOL_VERSION),
  tenantId,
  dbPath: v.pipe(v.string(), v.minLength(1)),
  reason: v.picklist(['request', 'alarm', 'attach', 'restart']),
  ceilings: CeilingsSchema,
  heartbeatMs: v.pipe(v.number(), v.integer(), v.minValue(10)),
  metricsMs: v.pipe(v.number(), v.integer(), v.minValue(10)),
  logLevel: v.string(),
  /** Fault-injection and simulation hooks for tests and benchmarks; never on in cloud mode. */
  devHooks: v.boolean(),
  /** null: no secrets can be opened or sealed (tests of the bare host). */
  secrets: v.nullable(TenantKeysSchema),
  /** null: no X app is configured, X cannot be connected. */
  x: v.nullable(XAppSchema),
  /** How the server runs: the tenant refuses private-network LLM URLs in the cloud, for one. */
  mode: v.picklist(['sandbox', 'self-host', 'cloud']),
  /** The LLM to use without the user's own key; null outside the sandbox. */
  llmFallback: v.nullable(LlmFallbackSchema),
  port: v.custom<MessagePortLike>((value) => typeof value === 'object' && value !== null && 'postMessage' in value),
});
export type Activate = v.InferOutput<typeof ActivateSchema>;

/** Enough of MessagePort for the schema, so protocol/ needs no DOM or node types here. */
export interface MessagePortLike {
  postMessage(message: unknown): void;
}

// ---- supervisor → tenant -------------------------------------------------------------------

export const RequestSchema = v.object({
  type: v.literal('request'),
  id: correlationId,
  /** Past this instant the supervisor has given up; the tenant must not start the work. */
  deadline: epochMs,
  method: v.pipe(v.string(), v.minLength(1), v.maxLength(100)),
  params: v.optional(v.unknown()),
});
export type Request = v.InferOutput<typeof RequestSchema>;

export const ToTenantSchema = v.variant('type', [
  RequestSchema,
  /** Run due jobs now (the supervisor's alarm fired while the tenant was already active). */
  v.object({ type: v.literal('alarm') }),
  v.object({ type: v.literal('set-ceilings'), ceilings: CeilingsSchema }),
  /** The tenant's X app changed (a user's own app set or removed). */
  v.object({ type: v.literal('set-x-app'), x: v.nullable(XAppSchema) }),
  /** Finish in-flight work, close the DB and end the activation; the tenant wakes again on demand. */
  v.object({ type: v.literal('hibernate'), reason: v.picklist(['idle', 'evict']) }),
  /** The process is stopping: like hibernate, but in-flight work is abandoned at `deadline`. */
  v.object({ type: v.literal('shutdown'), deadline: epochMs }),
  /** Requests that arrived in one turn of the supervisor's event loop: one hop for all of them. */
  v.object({ type: v.literal('requests'), requests: v.pipe(v.array(RequestSchema), v.minLength(1)) }),
]);
export type ToTenant = v.InferOutput<typeof ToTenantSchema>;

// ---- tenant → supervisor -------------------------------------------------------------------

export const ResponseSchema = v.variant('ok', [
  v.object({ type: v.literal('response'), id: correlationId, ok: v.literal(true), result: v.optional(v.unknown()) }),
  v.object({ type: v.literal('response'), id: correlationId, ok: v.literal(false), error: ErrorBodySchema }),
]);
export type Response = v.InferOutput<typeof ResponseSchema>;

export const JobRunSchema = v.object({
  job: v.string(),
  /** How late the run started compared with its due time. */
  lagMs: v.pipe(v.number(), v.minValue(0)),
  durationMs: v.pipe(v.number(), v.minValue(0)),
  ok: v.boolean(),
});
export type JobRun = v.InferOutput<typeof JobRunSchema>;

export const TenantMetricsSchema = v.object({
  heapUsedBytes: v.pipe(v.number(), v.minValue(0)),
  heapTotalBytes: v.pipe(v.number(), v.minValue(0)),
  /** Event-loop utilisation of the tenant's thread since the previous report, 0..1. */
  eventLoopUtilization: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
});
export type TenantMetrics = v.InferOutput<typeof TenantMetricsSchema>;

export const ToSupervisorSchema = v.variant('type', [
  /** The DB is open and migrated; requests may flow. */
  v.object({ type: v.literal('ready'), nextAlarmAt: v.nullable(epochMs) }),
  ResponseSchema,
  v.object({ type: v.literal('event'), event: TenantEventSchema }),
  v.object({ type: v.literal('heartbeat'), at: epochMs }),
  v.object({ type: v.literal('metrics'), metrics: TenantMetricsSchema }),
  /** Sent after every tick so the supervisor can persist when to wake the tenant next. */
  v.object({ type: v.literal('tick'), runs: v.array(JobRunSchema), nextAlarmAt: v.nullable(epochMs) }),
  /** Responses ready in one turn of the tenant's event loop, in one message. */
  v.object({ type: v.literal('responses'), responses: v.pipe(v.array(ResponseSchema), v.minLength(1)) }),
]);
export type ToSupervisor = v.InferOutput<typeof ToSupervisorSchema>;

/** What the activation task resolves with when the tenant hibernated cleanly. */
export const HibernatedSchema = v.object({
  type: v.literal('hibernated'),
  nextAlarmAt: v.nullable(epochMs),
});
export type Hibernated = v.InferOutput<typeof HibernatedSchema>;
