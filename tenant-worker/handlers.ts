/**
 * The tenant's request handlers: `method` → function of validated params.
 *
 * Handlers see the tenant through `HandlerContext` only. Params are validated here with
 * valibot, and a failure becomes an `invalid_params` error with field paths; a handler that
 * throws anything else is answered as `internal_error` by the actor.
 */
import * as v from 'valibot';
import type Database from 'better-sqlite3';
import { RemoteError, type Ceilings, type LlmFallback, type TenantEvent, type TenantSecrets, type XApp } from '../protocol/index.js';
import { ActionLimits, tenantZone } from './action-limits.js';
import type { JobRunner } from './jobs.js';
import { XBudget } from './x-budget.js';
import { remoteErrorOfX, type XAccount } from './x-account.js';
import { wakeGateWaiters } from './runtime/loops/gate.js';

export interface HandlerContext {
  /** The correlation id of the request being handled. */
  requestId: number;
  tenantId: string;
  db: Database.Database;
  jobs: JobRunner;
  ceilings: Ceilings;
  /** This tenant's secrets (its own derived keys); null when the host gave it none. */
  secrets: TenantSecrets | null;
  /** The X app to talk to X through; null when none is configured. */
  x: XApp | null;
  /** The tenant's X (connection, budget, client), one per activation. */
  xAccount(): XAccount;
  /** How the server runs (cloud refuses private-network LLM URLs). */
  mode: 'sandbox' | 'self-host' | 'cloud';
  /** The LLM to use when the user configured none (the sandbox's), or null. */
  llmFallback: LlmFallback | null;
  activatedAt: number;
  /** Runs due jobs now and reports the new alarm to the supervisor. */
  tick(): Promise<void>;
  /** Rebuilds the job set (the runtime's jobs exist only while it is started or paused) and arms the alarm. */
  reloadJobs(): Promise<void>;
  /** An event for the supervisor (dashboard, email). */
  emit(event: TenantEvent): void;
}

export type Handler = (context: HandlerContext, params: unknown) => unknown | Promise<unknown>;

export function validate<S extends v.GenericSchema>(schema: S, params: unknown): v.InferOutput<S> {
  const parsed = v.safeParse(schema, params);
  if (parsed.success) return parsed.output;
  const fields: Record<string, string> = {};
  for (const issue of parsed.issues) fields[v.getDotPath(issue) ?? '(params)'] ??= issue.message;
  throw new RemoteError('invalid_params', 'The request parameters are invalid.', fields);
}

const epochMs = v.pipe(v.number(), v.integer(), v.minValue(0));
const UsageParams = v.object({ from: v.nullable(epochMs), to: v.optional(epochMs) });

const Sealed = v.pipe(v.string(), v.regex(/^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$/, 'must be a sealed value'));
const ConnectParams = v.object({
  identity: v.object({ id: v.pipe(v.string(), v.regex(/^\d{1,19}$/)), username: v.pipe(v.string(), v.regex(/^\w{1,15}$/)), name: v.pipe(v.string(), v.maxLength(100)) }),
  accessToken: Sealed,
  refreshToken: v.nullable(Sealed),
  expiresAt: epochMs,
  scope: v.pipe(v.string(), v.maxLength(500)),
});


/** Statements compiled once per open DB (the activation), not per request. */
const statements = new WeakMap<Database.Database, Map<string, Database.Statement>>();

function prepared<P extends unknown[], R>(db: Database.Database, sql: string): Database.Statement<P, R> {
  let byDb = statements.get(db);
  if (!byDb) statements.set(db, (byDb = new Map()));
  let statement = byDb.get(sql);
  if (!statement) byDb.set(sql, (statement = db.prepare(sql)));
  return statement as Database.Statement<P, R>;
}

const SettingKey = v.object({ key: v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_.-]{0,99}$/)) });
const SettingPut = v.object({ ...SettingKey.entries, value: v.unknown() });

export const handlers: Record<string, Handler> = {
  ping: (context) => ({ tenantId: context.tenantId, at: Date.now() }),

  status: (context) => ({
    tenantId: context.tenantId,
    activatedAt: context.activatedAt,
    ceilings: context.ceilings,
    nextAlarmAt: context.jobs.nextAlarmAt(),
    jobs: context.jobs.list(),
  }),

  'settings.get': (context, params) => {
    const { key } = validate(SettingKey, params);
    const row = prepared<[string], { value: string; updated_at: number }>(context.db, 'SELECT value, updated_at FROM settings WHERE key = ?').get(key);
    if (!row) throw new RemoteError('not_found', `No setting "${key}".`);
    return { key, value: JSON.parse(row.value) as unknown, updatedAt: row.updated_at };
  },

  'settings.put': (context, params) => {
    const { key, value } = validate(SettingPut, params);
    const updatedAt = Date.now();
    prepared(context.db, 'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(
      key,
      JSON.stringify(value ?? null),
      updatedAt,
    );
    return { key, value: value ?? null, updatedAt };
  },

  /** Usage against the plan: X spend in [from, to) and the actions of the current day and week. */
  'billing.usage': (context, params) => {
    const { from, to } = validate(UsageParams, params);
    const ceilings = () => context.ceilings;
    const budget = new XBudget({ db: context.db, ceilings, emit: () => {} });
    const limits = new ActionLimits(context.db, ceilings);
    return {
      xSpentMicros: from === null ? 0 : budget.spentMicros(from, to),
      xReadMicrosToday: budget.readMicrosToday(),
      timezone: tenantZone(context.db),
      actions: { reply: limits.usage('reply'), tweet: limits.usage('tweet'), thread: limits.usage('thread') },
    };
  },

  /** The OAuth callback's result: the X identity and its tokens, sealed for this tenant by the supervisor. */
  'x.connect': (context, params) => {
    const connected = context.xAccount().connection.connect(validate(ConnectParams, params));
    // A started runtime waiting for X runs within seconds of the connection, not at its hourly retry.
    if (wakeGateWaiters(context.db, ['x_not_connected', 'x_not_configured']) > 0) void context.tick();
    return connected;
  },

  'x.status': (context) => context.xAccount().connection.status(),

  'x.disconnect': (context) => context.xAccount().connection.disconnect(context.x),

  /** Asks X who the connected account is: proves the tokens work (refreshing them if due). */
  'x.verify': async (context) => {
    const account = context.xAccount();
    const client = account.client();
    if (!client) throw new RemoteError('x_not_configured', 'No X app is configured on this server.');
    if (!account.connection.status().connected) throw new RemoteError('x_not_connected', 'X is not connected.');
    try {
      return { ok: true, account: await client.me() };
    } catch (error) {
      throw remoteErrorOfX(error) ?? error;
    }
  },

  'jobs.run-due': async (context) => {
    await context.tick();
    return { nextAlarmAt: context.jobs.nextAlarmAt() };
  },
};
