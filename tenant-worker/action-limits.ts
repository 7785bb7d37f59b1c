/**
 * Daily and weekly action limits, checked and claimed in one step.
 *
 * A "day" is the tenant's calendar day in its own time zone (and a week runs Monday to Sunday
 * there), because that is what a user means by "5 replies a day" and what the dashboard shows;
 * a rolling 24-hour window would let a burst at 23:00 block the next morning.
 *
 * The effective limit is min(the user's setting, the plan ceiling): the user may ask for less
 * than the plan allows, never more, and a lower ceiling (a downgrade) applies at once.
 */
import type Database from 'better-sqlite3';
import { DateTime, IANAZone } from 'luxon';
import type { Ceilings } from '../protocol/index.js';

export type ActionKind = 'reply' | 'tweet' | 'thread';

const WINDOW: Record<ActionKind, 'day' | 'week'> = { reply: 'day', tweet: 'day', thread: 'week' };

export type Claim = { claimed: true; id: number } | { claimed: false; used: number; limit: number };

export interface ActionUsage {
  used: number;
  /** `null` = no limit (self-host without a user setting). */
  limit: number | null;
  window: 'day' | 'week';
}

/** min(user, ceiling), where `null` on either side means "no limit from that side". */
export function effectiveLimit(userSetting: number | null, ceiling: number | null): number | null {
  if (userSetting === null) return ceiling;
  if (ceiling === null) return userSetting;
  return Math.min(userSetting, ceiling);
}

function ceilingFor(ceilings: Ceilings, kind: ActionKind): number | null {
  if (ceilings === null) return null;
  return kind === 'reply' ? ceilings.repliesPerDay : kind === 'tweet' ? ceilings.tweetsPerDay : ceilings.threadsPerWeek;
}

/** The tenant's time zone, or UTC when unset or not a valid IANA zone. */
export function tenantZone(db: Database.Database): string {
  const row = db.prepare<[], { value: string }>("SELECT value FROM settings WHERE key = 'timezone'").get();
  const zone = row ? (JSON.parse(row.value) as unknown) : null;
  return typeof zone === 'string' && IANAZone.isValidZone(zone) ? zone : 'UTC';
}

/** Start of the current day or ISO week (Monday) in `zone`, epoch ms. */
export function windowStart(window: 'day' | 'week', zone: string, now: number): number {
  return DateTime.fromMillis(now, { zone }).startOf(window === 'day' ? 'day' : 'week').toMillis();
}

export class ActionLimits {
  readonly #db: Database.Database;
  readonly #ceilings: () => Ceilings;
  readonly #now: () => number;
  readonly #sql;

  constructor(db: Database.Database, ceilings: () => Ceilings, now: () => number = Date.now) {
    this.#db = db;
    this.#ceilings = ceilings;
    this.#now = now;
    this.#sql = {
      count: db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM action_claims WHERE kind = ? AND at >= ?'),
      insert: db.prepare('INSERT INTO action_claims (kind, at, ref) VALUES (?, ?, ?)'),
      remove: db.prepare('DELETE FROM action_claims WHERE id = ?'),
    };
  }

  usage(kind: ActionKind, userSetting: number | null = null): ActionUsage {
    const window = WINDOW[kind];
    const used = this.#sql.count.get(kind, windowStart(window, tenantZone(this.#db), this.#now()))!.n;
    return { used, limit: effectiveLimit(userSetting, ceilingFor(this.#ceilings(), kind)), window };
  }

  /** Claims one action if the limit allows it; the count and the claim are one transaction. */
  claim(kind: ActionKind, userSetting: number | null = null, ref: string | null = null): Claim {
    return this.#db.transaction((): Claim => {
      const { used, limit } = this.usage(kind, userSetting);
      if (limit !== null && used >= limit) return { claimed: false, used, limit };
      const id = Number(this.#sql.insert.run(kind, this.#now(), ref).lastInsertRowid);
      return { claimed: true, id };
    }).immediate();
  }

  /** Gives a claim back when the action did not happen (the post failed). */
  release(id: number): void {
    this.#sql.remove.run(id);
  }
}
