/**
 * What the tenant's automation cost in a date range: LLM calls (tokens and dollars, by day, model
 * and purpose, from the usage ledger) and X calls (by day, kind and endpoint, from the X ledger),
 * with days in the tenant's time zone.
 */
import { DateTime } from 'luxon';
import * as v from 'valibot';
import { tenantZone } from '../action-limits.js';
import type { Handler } from '../handlers.js';
import { validate } from '../handlers.js';
import { LlmUsageLedger } from '../llm/usage.js';
import type Database from 'better-sqlite3';

const DAY_MS = 86_400_000;
const epochMs = v.pipe(v.number(), v.integer(), v.minValue(0));
const Range = v.pipe(
  v.object({ from: epochMs, to: epochMs }),
  v.check((range) => range.to > range.from, 'to must be after from'),
  v.check((range) => range.to - range.from <= 400 * DAY_MS, 'at most 400 days at once'),
);

interface XRow {
  at: number;
  kind: string;
  endpoint: string;
  units: number;
  cost_micros: number;
  status: number;
}

export function xCostSummary(db: Database.Database, range: { from: number; to: number }, timeZone: string) {
  const rows = db.prepare<[number, number], XRow>('SELECT at, kind, endpoint, units, cost_micros, status FROM x_spend WHERE at >= ? AND at < ? ORDER BY at').all(range.from, range.to);
  const total = { calls: 0, failed: 0, units: 0, costMicros: 0 };
  const days = new Map<string, typeof total>();
  const byKind = new Map<string, typeof total>();
  const byEndpoint = new Map<string, typeof total>();
  const add = (map: Map<string, typeof total>, key: string, row: XRow) => {
    const entry = map.get(key) ?? { calls: 0, failed: 0, units: 0, costMicros: 0 };
    map.set(key, entry);
    bump(entry, row);
  };
  const bump = (entry: typeof total, row: XRow) => {
    entry.calls += 1;
    if (row.status >= 400 || row.status === 0) entry.failed += 1;
    entry.units += row.units;
    entry.costMicros += row.cost_micros;
  };
  for (const row of rows) {
    bump(total, row);
    add(days, DateTime.fromMillis(row.at, { zone: timeZone }).toISODate()!, row);
    add(byKind, row.kind, row);
    add(byEndpoint, row.endpoint, row);
  }
  const list = (map: Map<string, typeof total>, name: string) => [...map].map(([key, totals]) => ({ [name]: key, ...totals }));
  return { total, days: list(days, 'day'), byKind: list(byKind, 'kind'), byEndpoint: list(byEndpoint, 'endpoint').sort((a, b) => b.costMicros - a.costMicros) };
}

export const costHandlers: Record<string, Handler> = {
  'costs.summary': (context, params) => {
    const range = validate(Range, params);
    const timeZone = tenantZone(context.db);
    return {
      from: range.from,
      to: range.to,
      timeZone,
      currency: 'USD',
      unit: 'micro-dollars',
      llm: new LlmUsageLedger(context.db).summary({ ...range, timeZone }),
      x: xCostSummary(context.db, range, timeZone),
    };
  },
};
