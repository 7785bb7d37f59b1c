import t from 'tap';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openDatabase } from '../../../migrations/runner.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { tempDataDir } from '../../helpers/tenants.js';

function setup(t: { teardown(fn: () => void): void }) {
  const dir = tempDataDir();
  const db = openDatabase(join(dir, 'management.db'), 'management');
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const onDisk = (id: string) =>
    new Database(join(dir, 'management.db'), { readonly: true })
      .prepare<[string], { next_alarm_at: number | null; last_active_at: number | null }>('SELECT next_alarm_at, last_active_at FROM tenants WHERE id = ?')
      .get(id)!;
  return { registry: new TenantRegistry(db, dir), onDisk };
}

t.test('deferred alarms are seen by every read at once and reach the file in one flush', async (t) => {
  const { registry, onDisk } = setup(t);
  const now = 1_000_000;
  const a = registry.create({ now });
  const b = registry.create({ now });
  registry.deferAlarm(a.id, now + 60_000);
  registry.deferHibernation(b.id, now + 30_000, now + 5);
  t.equal(registry.get(a.id)!.nextAlarmAt, now + 60_000);
  t.equal(registry.get(b.id)!.lastActiveAt, now + 5);
  t.same(registry.due(now + 1, 10), [], 'rows whose deferred alarm moved later are not due');
  t.equal(registry.nextDueAt(), now, 'the earliest alarm may be early while writes are pending, never late');
  t.equal(onDisk(a.id).next_alarm_at, now, 'nothing written yet');
  t.equal(registry.deferredCount, 2);

  registry.flushDeferred();
  t.equal(registry.deferredCount, 0);
  t.same(onDisk(a.id), { next_alarm_at: now + 60_000, last_active_at: null });
  t.same(onDisk(b.id), { next_alarm_at: now + 30_000, last_active_at: now + 5 });
  t.equal(registry.nextDueAt(), now + 30_000);
});

t.test('a deferred alarm that is already due is written before the scheduler looks', async (t) => {
  const { registry, onDisk } = setup(t);
  const now = 1_000_000;
  const a = registry.create({ now });
  registry.setNextAlarm(a.id, now + 60_000);
  registry.deferAlarm(a.id, now + 10);
  t.same(registry.due(now + 20, 10), [{ id: a.id, nextAlarmAt: now + 10 }]);
  t.equal(onDisk(a.id).next_alarm_at, now + 10);
});

t.test('an immediate write replaces a deferred one for the same tenant', async (t) => {
  const { registry, onDisk } = setup(t);
  const a = registry.create({ now: 1_000 });
  registry.deferAlarm(a.id, 5_000);
  registry.setNextAlarm(a.id, 9_000);
  registry.flushDeferred();
  t.equal(onDisk(a.id).next_alarm_at, 9_000);
});
