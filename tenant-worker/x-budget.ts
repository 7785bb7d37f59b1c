/**
 * The X cost allowance, spent deliberately: every billable X call asks `check()` first and is
 * written to the `x_spend` ledger after.
 *
 * On our managed X app we pay X per call, so a plan includes an allowance per billing period
 * (see supervisor/billing/plans.ts). The order in which calls stop follows their value: reads
 * (discovery) stop first — at their daily budget, and for the period once only the post reserve is
 * left — while posts, what the user is paying for, go on until the allowance itself is spent.
 * Posts with a URL cost 13× a plain post and are rationed per day.
 *
 * Money is counted in micro-dollars: X's prices ($0.005, $0.015, $0.20) are whole numbers there.
 */
import type Database from 'better-sqlite3';
import type { Ceilings, TenantEvent } from '../protocol/index.js';

/** X's pay-per-use prices (docs.x.com pricing, 2026), in micro-dollars. */
export const X_PRICES = {
  postRead: 5_000,
  userRead: 10_000,
  create: 15_000,
  createWithUrl: 200_000,
} as const;

export const MICROS_PER_CENT = 10_000;

/** Of the allowance, the share reads may never touch: kept for posts. */
export const POST_RESERVE_SHARE = 0.2;

export type XCallKind = 'read' | 'create' | 'create_url';

export type BudgetDenial =
  | 'automation_off'
  | 'read_budget_today'
  | 'reads_reserved_for_posts'
  | 'allowance_spent'
  | 'url_posts_today';

export type BudgetDecision = { allowed: true } | { allowed: false; reason: BudgetDenial; message: string };

const MESSAGES: Record<BudgetDenial, string> = {
  automation_off: 'Automation is off for this account (no active plan), so TuitBot makes no X calls.',
  read_budget_today: "Today's budget for reading X is used up; discovery resumes tomorrow (UTC).",
  reads_reserved_for_posts: "This period's X allowance is nearly used: reading X stopped so the rest is kept for your posts.",
  allowance_spent: "This period's X allowance is used up: TuitBot stopped calling X until the next period.",
  url_posts_today: "Posts with a link cost much more at X; today's ration of them is used up.",
};

/** Denials the user is told about once per period by email; the others are routine and only shown. */
const PERIOD_DENIALS: ReadonlySet<BudgetDenial> = new Set(['reads_reserved_for_posts', 'allowance_spent']);

export interface XBudgetOptions {
  db: Database.Database;
  ceilings: () => Ceilings;
  /** Events for the supervisor (dashboard, email). */
  emit: (event: TenantEvent) => void;
  now?: () => number;
}

function utcDay(at: number): string {
  return new Date(at).toISOString().slice(0, 10);
}

function utcDayStart(at: number): number {
  return Date.UTC(new Date(at).getUTCFullYear(), new Date(at).getUTCMonth(), new Date(at).getUTCDate());
}

export class XBudget {
  readonly #db: Database.Database;
  readonly #ceilings: () => Ceilings;
  readonly #emit: (event: TenantEvent) => void;
  readonly #now: () => number;
  readonly #sql;

  constructor(options: XBudgetOptions) {
    this.#db = options.db;
    this.#ceilings = options.ceilings;
    this.#emit = options.emit;
    this.#now = options.now ?? Date.now;
    const db = this.#db;
    this.#sql = {
      spentSince: db.prepare<[number], { micros: number }>('SELECT coalesce(sum(cost_micros), 0) AS micros FROM x_spend WHERE at >= ?'),
      spentBetween: db.prepare<[number, number], { micros: number }>('SELECT coalesce(sum(cost_micros), 0) AS micros FROM x_spend WHERE at >= ? AND at < ?'),
      kindSince: db.prepare<[string, number], { micros: number; n: number }>(
        'SELECT coalesce(sum(cost_micros), 0) AS micros, count(*) AS n FROM x_spend WHERE kind = ? AND at >= ?',
      ),
      insert: db.prepare('INSERT INTO x_spend (at, kind, endpoint, units, cost_micros) VALUES (?, ?, ?, ?, ?)'),
      insertFailure: db.prepare("INSERT INTO x_spend (at, kind, endpoint, units, cost_micros, status) VALUES (?, 'other', ?, 0, 0, ?)"),
      seen: db.prepare('INSERT OR IGNORE INTO x_reads_seen (day, post_id) VALUES (?, ?)'),
      forgetSeen: db.prepare('DELETE FROM x_reads_seen WHERE day < ?'),
      notice: db.prepare('INSERT OR IGNORE INTO notices_given (key, at) VALUES (?, ?)'),
    };
  }

  /** May a call of this kind, costing about `estimateMicros`, be made now? */
  check(kind: XCallKind, estimateMicros: number = kind === 'read' ? X_PRICES.postRead : kind === 'create' ? X_PRICES.create : X_PRICES.createWithUrl): BudgetDecision {
    const ceilings = this.#ceilings();
    if (ceilings === null) return { allowed: true };
    if (!ceilings.automation) return this.#deny('automation_off', null);
    if (ceilings.xCostAllowanceCents === null || ceilings.xPeriodStart === null) return { allowed: true };

    const now = this.#now();
    const allowance = ceilings.xCostAllowanceCents * MICROS_PER_CENT;
    const limit = allowance + (ceilings.xOverageCapCents ?? 0) * MICROS_PER_CENT;
    const spent = this.#sql.spentSince.get(ceilings.xPeriodStart)!.micros;
    const period = ceilings.xPeriodStart;

    if (kind === 'read') {
      // Overage stretches the daily read budget in proportion to what the user allowed.
      const stretch = allowance > 0 ? limit / allowance : 1;
      const readBudgetToday = ceilings.xReadCentsPerDay === null ? Infinity : ceilings.xReadCentsPerDay * MICROS_PER_CENT * stretch;
      const readToday = this.#sql.kindSince.get('read', utcDayStart(now))!.micros;
      if (spent + estimateMicros > limit - allowance * POST_RESERVE_SHARE) return this.#deny('reads_reserved_for_posts', period);
      if (readToday + estimateMicros > readBudgetToday) return this.#deny('read_budget_today', utcDayStart(now));
      return { allowed: true };
    }
    if (spent + estimateMicros > limit) return this.#deny('allowance_spent', period);
    if (kind === 'create_url' && ceilings.xUrlPostsPerDay !== null) {
      const urlPostsToday = this.#sql.kindSince.get('create_url', utcDayStart(now))!.n;
      if (urlPostsToday >= ceilings.xUrlPostsPerDay) return this.#deny('url_posts_today', utcDayStart(now));
    }
    return { allowed: true };
  }

  /**
   * Records a read that returned `postIds`. X charges a post once per UTC day, so posts already
   * read today are free; returns what this call cost.
   */
  recordRead(endpoint: string, postIds: readonly string[], pricePerPost: number = X_PRICES.postRead): number {
    const now = this.#now();
    const day = utcDay(now);
    return this.#db.transaction(() => {
      let charged = 0;
      for (const id of postIds) charged += this.#sql.seen.run(day, id).changes;
      const cost = charged * pricePerPost;
      this.#sql.insert.run(now, 'read', endpoint, charged, cost);
      return cost;
    })();
  }

  /** Records a post created at X; returns its cost. */
  recordCreate(endpoint: string, withUrl: boolean): number {
    const cost = withUrl ? X_PRICES.createWithUrl : X_PRICES.create;
    this.#sql.insert.run(this.#now(), withUrl ? 'create_url' : 'create', endpoint, 1, cost);
    return cost;
  }

  /** Any other billable call (a user lookup, a delete) at its price. */
  recordOther(endpoint: string, units: number, costMicros: number): void {
    this.#sql.insert.run(this.#now(), 'other', endpoint, units, costMicros);
  }

  /** A call X refused (its status) or that got no answer (0): metered, not charged. */
  recordFailure(endpoint: string, status: number): void {
    this.#sql.insertFailure.run(this.#now(), endpoint, status);
  }

  spentMicros(from: number, to = Number.MAX_SAFE_INTEGER): number {
    return this.#sql.spentBetween.get(from, to)!.micros;
  }

  readMicrosToday(): number {
    return this.#sql.kindSince.get('read', utcDayStart(this.#now()))!.micros;
  }

  /** Yesterday's paid-for post ids are worthless today; called by retention cleanup. */
  forgetOldReads(): void {
    this.#sql.forgetSeen.run(utcDay(this.#now()));
  }

  #deny(reason: BudgetDenial, window: number | null): BudgetDecision {
    const message = MESSAGES[reason];
    // One event per reason and window, however many calls are refused.
    if (this.#sql.notice.run(`x_budget:${reason}:${window ?? 0}`, this.#now()).changes > 0) {
      this.#emit({ kind: 'billing.x_budget', at: this.#now(), data: { reason, message, notify: PERIOD_DENIALS.has(reason) } });
    }
    return { allowed: false, reason, message };
  }
}
