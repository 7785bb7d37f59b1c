/**
 * The LLM usage ledger (`llm_usage`): one row per HTTP call with its tokens, its cost from the price
 * table, and how it ended; and the summary the costs API shows (per day in the tenant's time zone,
 * per model, per purpose).
 *
 * Days are the tenant's calendar days (docs/architecture.md, "A day"). SQLite knows no time zones,
 * so the summary sums in SQL per 15-minute bucket (every zone's offset is a multiple of 15 minutes)
 * and folds the buckets into local days here: a month stays a few thousand rows of work at most.
 */
import type Database from 'better-sqlite3';
import { DateTime } from 'luxon';
import type { LlmCall } from './client.js';
import { costOf } from './pricing.js';

export interface UsageTotals {
  calls: number;
  failedCalls: number;
  inputTokens: number;
  outputTokens: number;
  costMicros: number;
  /** Successful calls to a model without a known price (their cost is counted as 0). */
  unpricedCalls: number;
}

export interface LlmUsageSummary {
  from: number;
  to: number;
  timeZone: string;
  total: UsageTotals;
  /** Local days with at least one call, oldest first. */
  days: Array<{ day: string } & UsageTotals>;
  byModel: Array<{ provider: string; model: string; priced: boolean } & UsageTotals>;
  byPurpose: Array<{ purpose: string } & UsageTotals>;
}

interface BucketRow {
  bucket: number;
  provider: string;
  model: string;
  purpose: string;
  priced: number;
  calls: number;
  failed: number;
  input: number;
  output: number;
  cost: number;
  unpriced: number;
}

const BUCKET_MS = 15 * 60_000;

const empty = (): UsageTotals => ({ calls: 0, failedCalls: 0, inputTokens: 0, outputTokens: 0, costMicros: 0, unpricedCalls: 0 });

function add(into: UsageTotals, row: BucketRow): void {
  into.calls += row.calls;
  into.failedCalls += row.failed;
  into.inputTokens += row.input;
  into.outputTokens += row.output;
  into.costMicros += row.cost;
  into.unpricedCalls += row.unpriced;
}

export class LlmUsageLedger {
  readonly #insert: Database.Statement;
  readonly #buckets: Database.Statement<[number, number], BucketRow>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT INTO llm_usage (at, provider, model, purpose, input_units, output_units, cost_micros, priced, status, http_status, duration_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#buckets = db.prepare(
      `SELECT at / ${BUCKET_MS} AS bucket, provider, model, purpose, priced,
              count(*) AS calls, sum(status <> 'ok') AS failed, sum(input_units) AS input, sum(output_units) AS output,
              sum(cost_micros) AS cost, sum(status = 'ok' AND priced = 0) AS unpriced
       FROM llm_usage WHERE at >= ? AND at < ?
       GROUP BY bucket, provider, model, purpose, priced`,
    );
  }

  /** The meter: pass as the client's `onCall`. */
  record(call: LlmCall): void {
    const { costMicros, priced } = costOf(call.provider, call.model, call.inputTokens, call.outputTokens);
    this.#insert.run(call.at, call.provider, call.model, call.purpose, call.inputTokens, call.outputTokens, costMicros, priced ? 1 : 0, call.status, call.httpStatus, call.durationMs);
  }

  /** Calls in [from, to), summed per local day, per model and per purpose. */
  summary(range: { from: number; to: number; timeZone?: string }): LlmUsageSummary {
    const timeZone = range.timeZone ?? 'UTC';
    const total = empty();
    const days = new Map<string, UsageTotals>();
    const models = new Map<string, { provider: string; model: string; priced: boolean } & UsageTotals>();
    const purposes = new Map<string, { purpose: string } & UsageTotals>();
    for (const row of this.#buckets.all(range.from, range.to)) {
      add(total, row);
      const day = DateTime.fromMillis(row.bucket * BUCKET_MS, { zone: timeZone }).toISODate()!;
      if (!days.has(day)) days.set(day, empty());
      add(days.get(day)!, row);
      const modelKey = JSON.stringify([row.provider, row.model, row.priced]);
      if (!models.has(modelKey)) models.set(modelKey, { provider: row.provider, model: row.model, priced: row.priced === 1, ...empty() });
      add(models.get(modelKey)!, row);
      if (!purposes.has(row.purpose)) purposes.set(row.purpose, { purpose: row.purpose, ...empty() });
      add(purposes.get(row.purpose)!, row);
    }
    const byCost = <T extends UsageTotals>(a: T, b: T) => b.costMicros - a.costMicros || b.calls - a.calls;
    return {
      from: range.from,
      to: range.to,
      timeZone,
      total,
      days: [...days].sort(([a], [b]) => (a < b ? -1 : 1)).map(([day, totals]) => ({ day, ...totals })),
      byModel: [...models.values()].sort(byCost),
      byPurpose: [...purposes.values()].sort(byCost),
    };
  }
}
