/**
 * The tenant registry in `management.db`: which tenants exist, whether they may run, their plan
 * ceilings, when to wake them next, and their crash history.
 *
 * Runtime state (active, hibernated) is deliberately not stored: it lives in the supervisor's
 * memory and is lost with the process, which is exactly its lifetime.
 *
 * The alarm and end-of-activation written after every tick and hibernation can be *deferred*
 * (`deferAlarm`, `deferHibernation`) and written later in one transaction (`flushDeferred`): at
 * synchronous=FULL each commit is an fsync on the supervisor's event loop, and two per activation
 * were most of that loop's time under load. Reads here see deferred values. A crash that loses
 * the last batch leaves the alarm that was due in the file, so the tenant wakes early and reports
 * its real alarm again.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Ceilings } from '../../protocol/index.js';

export type TenantStatus = 'ready' | 'quarantined' | 'stopped';
export type CrashKind = 'error' | 'out_of_memory' | 'unresponsive' | 'exit';

export interface TenantRecord {
  id: string;
  status: TenantStatus;
  createdAt: number;
  ceilings: Ceilings;
  nextAlarmAt: number | null;
  lastActiveAt: number | null;
  quarantinedAt: number | null;
  quarantineReason: string | null;
}

export interface CrashRecord {
  at: number;
  kind: CrashKind;
  message: string;
}

interface Deferred {
  nextAlarmAt: number | null;
  /** Set when the write is an activation's end. */
  lastActiveAt?: number;
}

interface TenantRow {
  id: string;
  status: TenantStatus;
  created_at: number;
  ceilings: string | null;
  next_alarm_at: number | null;
  last_active_at: number | null;
  quarantined_at: number | null;
  quarantine_reason: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isTenantId(value: string): boolean {
  return UUID.test(value);
}

function toRecord(row: TenantRow): TenantRecord {
  return {
    id: row.id,
    status: row.status,
    createdAt: row.created_at,
    ceilings: row.ceilings === null ? null : (JSON.parse(row.ceilings) as Ceilings),
    nextAlarmAt: row.next_alarm_at,
    lastActiveAt: row.last_active_at,
    quarantinedAt: row.quarantined_at,
    quarantineReason: row.quarantine_reason,
  };
}

export class TenantRegistry {
  readonly #db: Database.Database;
  readonly #dataDir: string;
  readonly #sql;
  readonly #deferred = new Map<string, Deferred>();

  /** Ceilings of a new tenant: null (none) for self-hosters, "no plan yet" where billing is on. */
  readonly #defaultCeilings: Ceilings;

  constructor(db: Database.Database, dataDir: string, options: { defaultCeilings?: Ceilings } = {}) {
    this.#defaultCeilings = options.defaultCeilings ?? null;
    this.#db = db;
    this.#dataDir = dataDir;
    this.#sql = {
      insert: db.prepare('INSERT INTO tenants (id, created_at, ceilings, next_alarm_at) VALUES (?, ?, ?, ?)'),
      get: db.prepare<[string], TenantRow>('SELECT * FROM tenants WHERE id = ?'),
      list: db.prepare<[], TenantRow>('SELECT * FROM tenants ORDER BY created_at, id'),
      due: db.prepare<[number, number], { id: string; next_alarm_at: number }>(
        "SELECT id, next_alarm_at FROM tenants WHERE status = 'ready' AND next_alarm_at IS NOT NULL AND next_alarm_at <= ? ORDER BY next_alarm_at LIMIT ?",
      ),
      nextDue: db.prepare<[], { at: number | null }>(
        "SELECT min(next_alarm_at) AS at FROM tenants WHERE status = 'ready' AND next_alarm_at IS NOT NULL",
      ),
      setAlarm: db.prepare('UPDATE tenants SET next_alarm_at = ? WHERE id = ?'),
      hibernated: db.prepare('UPDATE tenants SET next_alarm_at = ?, last_active_at = ? WHERE id = ?'),
      setCeilings: db.prepare('UPDATE tenants SET ceilings = ? WHERE id = ?'),
      setStatus: db.prepare('UPDATE tenants SET status = ? WHERE id = ?'),
      remove: db.prepare('DELETE FROM tenants WHERE id = ?'),
      quarantine: db.prepare("UPDATE tenants SET status = 'quarantined', quarantined_at = ?, quarantine_reason = ? WHERE id = ?"),
      release: db.prepare(
        "UPDATE tenants SET status = 'ready', quarantined_at = NULL, quarantine_reason = NULL WHERE id = ? AND status = 'quarantined'",
      ),
      clearCrashes: db.prepare('DELETE FROM tenant_crashes WHERE tenant_id = ?'),
      crash: db.prepare('INSERT INTO tenant_crashes (tenant_id, at, kind, message) VALUES (?, ?, ?, ?)'),
      crashesSince: db.prepare<[string, number], { n: number }>('SELECT count(*) AS n FROM tenant_crashes WHERE tenant_id = ? AND at > ?'),
      crashes: db.prepare<[string, number], CrashRecord>(
        'SELECT at, kind, message FROM tenant_crashes WHERE tenant_id = ? ORDER BY at DESC LIMIT ?',
      ),
      countByStatus: db.prepare<[], { status: TenantStatus; n: number }>('SELECT status, count(*) AS n FROM tenants GROUP BY status'),
    };
  }

  /** Registers a tenant; it is woken immediately so its runtime can lay out its jobs. */
  create(options: { id?: string; ceilings?: Ceilings; now?: number } = {}): TenantRecord {
    const id = options.id ?? randomUUID();
    if (!isTenantId(id)) throw new Error(`Not a tenant id: ${id}`);
    const now = options.now ?? Date.now();
    const ceilings = options.ceilings === undefined ? this.#defaultCeilings : options.ceilings;
    this.#sql.insert.run(id, now, ceilings ? JSON.stringify(ceilings) : null, now);
    return this.get(id)!;
  }

  get(id: string): TenantRecord | undefined {
    if (!isTenantId(id)) return undefined;
    const row = this.#sql.get.get(id);
    return row ? this.#withDeferred(toRecord(row)) : undefined;
  }

  list(): TenantRecord[] {
    return this.#sql.list.all().map((row) => this.#withDeferred(toRecord(row)));
  }

  #withDeferred(record: TenantRecord): TenantRecord {
    const deferred = this.#deferred.get(record.id);
    if (!deferred) return record;
    record.nextAlarmAt = deferred.nextAlarmAt;
    if (deferred.lastActiveAt !== undefined) record.lastActiveAt = deferred.lastActiveAt;
    return record;
  }

  dbPath(id: string): string {
    if (!isTenantId(id)) throw new Error(`Not a tenant id: ${id}`);
    return join(this.#dataDir, 'tenants', `${id}.db`);
  }

  due(now: number, limit: number): { id: string; nextAlarmAt: number }[] {
    // A deferred alarm that is due is rare (a tenant that hibernated with work left): write it
    // so the query finds it. Rows whose deferred alarm moved later are stale and skipped.
    for (const deferred of this.#deferred.values()) {
      if (deferred.nextAlarmAt !== null && deferred.nextAlarmAt <= now) {
        this.flushDeferred();
        break;
      }
    }
    const due: { id: string; nextAlarmAt: number }[] = [];
    for (const row of this.#sql.due.all(now, limit)) {
      const deferred = this.#deferred.get(row.id);
      if (!deferred) due.push({ id: row.id, nextAlarmAt: row.next_alarm_at });
    }
    return due;
  }

  /** The earliest alarm; may be early while deferred writes are pending, never late. */
  nextDueAt(): number | null {
    let next = this.#sql.nextDue.get()?.at ?? null;
    for (const { nextAlarmAt } of this.#deferred.values()) {
      if (nextAlarmAt !== null && (next === null || nextAlarmAt < next)) next = nextAlarmAt;
    }
    return next;
  }

  setNextAlarm(id: string, at: number | null): void {
    this.#deferred.delete(id);
    this.#sql.setAlarm.run(at, id);
  }

  recordHibernation(id: string, nextAlarmAt: number | null, at: number): void {
    this.#deferred.delete(id);
    this.#sql.hibernated.run(nextAlarmAt, at, id);
  }

  /** Like `setNextAlarm`, written at the next `flushDeferred`. */
  deferAlarm(id: string, at: number | null): void {
    const deferred = this.#deferred.get(id);
    if (deferred) deferred.nextAlarmAt = at;
    else this.#deferred.set(id, { nextAlarmAt: at });
  }

  /** Like `recordHibernation`, written at the next `flushDeferred`. */
  deferHibernation(id: string, nextAlarmAt: number | null, at: number): void {
    this.#deferred.set(id, { nextAlarmAt, lastActiveAt: at });
  }

  get deferredCount(): number {
    return this.#deferred.size;
  }

  /** Writes every deferred alarm and activation end in one transaction (one fsync). */
  flushDeferred(): void {
    if (this.#deferred.size === 0) return;
    this.#db.transaction(() => {
      for (const [id, deferred] of this.#deferred) {
        if (deferred.lastActiveAt === undefined) this.#sql.setAlarm.run(deferred.nextAlarmAt, id);
        else this.#sql.hibernated.run(deferred.nextAlarmAt, deferred.lastActiveAt, id);
      }
    })();
    this.#deferred.clear();
  }

  setCeilings(id: string, ceilings: Ceilings): void {
    this.#sql.setCeilings.run(ceilings ? JSON.stringify(ceilings) : null, id);
  }

  /** Records a crash; returns how many crashes fall within the window ending now. */
  recordCrash(id: string, crash: CrashRecord, windowMs: number): number {
    return this.#db.transaction(() => {
      this.#sql.crash.run(id, crash.at, crash.kind, crash.message.slice(0, 1000));
      return this.#sql.crashesSince.get(id, crash.at - windowMs)!.n;
    })();
  }

  crashes(id: string, limit = 20): CrashRecord[] {
    return this.#sql.crashes.all(id, limit);
  }

  setStatus(id: string, status: TenantStatus): void {
    this.#sql.setStatus.run(status, id);
  }

  /** Forgets a tenant (its data purge); the caller deletes its files. */
  remove(id: string): void {
    this.#deferred.delete(id);
    this.#sql.remove.run(id);
  }

  quarantine(id: string, reason: string, at: number): void {
    this.#sql.quarantine.run(at, reason, id);
  }

  /** Lifts a quarantine and forgets the crash history that caused it; false if not quarantined. */
  release(id: string): boolean {
    return this.#db.transaction(() => {
      const changed = this.#sql.release.run(id).changes > 0;
      if (changed) this.#sql.clearCrashes.run(id);
      return changed;
    })();
  }

  countByStatus(): Record<TenantStatus, number> {
    const counts: Record<TenantStatus, number> = { ready: 0, quarantined: 0, stopped: 0 };
    for (const row of this.#sql.countByStatus.all()) counts[row.status] = row.n;
    return counts;
  }
}
