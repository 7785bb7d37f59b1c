/**
 * The runtime settings as the tenant API reads and changes them.
 *
 * GET shows every known setting with its current value (the default when unset), the plan ceiling
 * next to each limit and the limit that applies (min of the two), the fields still missing for the
 * runtime to be useful, and stored values that no longer validate. PATCH validates the proposed
 * values together with the stored ones (cross-field rules included) and writes them in one
 * transaction or not at all; a limit above the plan's ceiling is kept as asked (an upgrade lifts it
 * at once) and reported as clamped. An ended subscription makes settings read-only.
 */
import * as v from 'valibot';
import { RemoteError } from '../../protocol/index.js';
import type { Handler, HandlerContext } from '../handlers.js';
import { effectiveLimit } from '../action-limits.js';
import { wakeGateWaiters } from '../runtime/loops/gate.js';
import { checkSettings, loadRuntimeConfig, missingSetup, SETTING_KEYS, SETTINGS, type SettingKey } from '../runtime/config.js';

/** Settings that a plan ceiling caps, and the ceiling field that caps each. */
const CAPPED = {
  'limits.max_replies_per_day': 'repliesPerDay',
  'limits.max_tweets_per_day': 'tweetsPerDay',
  'limits.max_threads_per_week': 'threadsPerWeek',
} as const satisfies Partial<Record<SettingKey, string>>;

const Values = v.record(v.string(), v.unknown());

function storedValues(context: HandlerContext): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const { key, value } of context.db.prepare<[], { key: string; value: string }>('SELECT key, value FROM settings').all()) {
    if (!(key in SETTINGS)) continue;
    try {
      values[key] = JSON.parse(value) as unknown;
    } catch {
      // Reported by loadRuntimeConfig as invalid; shown here as its default.
    }
  }
  return values;
}

/** Every setting's default: constant, so computed once. */
const DEFAULTS: Readonly<Record<string, unknown>> = Object.freeze(
  Object.fromEntries(SETTING_KEYS.map((key) => [key, v.getDefault(SETTINGS[key] as v.OptionalSchema<v.GenericSchema, unknown>)])),
);

function view(context: HandlerContext) {
  const stored = storedValues(context);
  const { config, errors } = loadRuntimeConfig(context.db);
  const values = { ...DEFAULTS, ...stored };
  for (const key of Object.keys(errors)) if (key in SETTINGS) values[key] = DEFAULTS[key];
  const ceilings = context.ceilings;
  const limits = Object.fromEntries(
    Object.entries(CAPPED).map(([key, field]) => {
      const requested = values[key] as number;
      const ceiling = ceilings === null ? null : ceilings[field];
      return [key, { requested, ceiling, effective: effectiveLimit(requested, ceiling) }];
    }),
  );
  return {
    values,
    custom: Object.keys(stored).sort(),
    limits,
    readOnly: ceilings?.readOnly ?? false,
    invalid: errors,
    missing: missingSetup(config),
  };
}

function validateValues(params: unknown): Record<string, unknown> {
  const parsed = v.safeParse(v.object({ values: Values }), params);
  if (!parsed.success) throw new RemoteError('invalid_params', 'The request parameters are invalid.', { values: 'must be an object of setting keys and values' });
  const unknown = Object.keys(parsed.output.values).filter((key) => !(key in SETTINGS));
  if (unknown.length > 0) {
    throw new RemoteError('invalid_params', 'Unknown settings.', Object.fromEntries(unknown.map((key) => [key, 'is not a setting'])));
  }
  return parsed.output.values;
}

/** `null` for a setting whose default is not null means "back to the default". */
function resets(proposed: Record<string, unknown>): Set<string> {
  return new Set(Object.keys(proposed).filter((key) => proposed[key] === null && DEFAULTS[key] !== null));
}

function check(context: HandlerContext, proposed: Record<string, unknown>) {
  const reset = resets(proposed);
  const merged = { ...storedValues(context), ...proposed };
  for (const key of reset) delete merged[key];
  const result = checkSettings(merged);
  return result.ok ? null : result.errors;
}

export const settingsHandlers: Record<string, Handler> = {
  'settings.all': (context) => view(context),

  'settings.defaults': () => ({ values: DEFAULTS }),

  'settings.validate': (context, params) => {
    const errors = check(context, validateValues(params));
    return errors ? { ok: false, errors } : { ok: true, errors: {} };
  },

  'settings.patch': (context, params) => {
    if (context.ceilings?.readOnly) throw new RemoteError('read_only', 'Your subscription has ended: settings are read-only until you subscribe again.');
    const proposed = validateValues(params);
    const errors = check(context, proposed);
    if (errors) throw new RemoteError('invalid_params', 'Some settings are invalid.', errors);
    const now = Date.now();
    const write = context.db.prepare(
      'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    );
    const remove = context.db.prepare('DELETE FROM settings WHERE key = ?');
    const reset = resets(proposed);
    context.db.transaction(() => {
      for (const [key, value] of Object.entries(proposed)) {
        if (reset.has(key)) remove.run(key);
        else write.run(key, JSON.stringify(value), now);
      }
    })();
    const after = view(context);
    const clamped = Object.fromEntries(Object.entries(after.limits).filter(([key, limit]) => key in proposed && limit.ceiling !== null && limit.requested > limit.ceiling));
    context.emit({ kind: 'settings.changed', at: now, data: { keys: Object.keys(proposed) } });
    // Wider active hours or autopilot may open a gate a job is waiting on for up to an hour.
    if (wakeGateWaiters(context.db, ['outside_active_hours', 'composer_mode'], now) > 0) void context.tick();
    return { ...after, clamped };
  },
};
