// Backups and restore against real tenant actors on real threads and real SQLite files: an active
// tenant copies itself, a hibernated one is copied without being woken, retention keeps days and
// weeks, and a restore brings old data back through the actor.
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { purgeDeletedAccounts } from '../../../supervisor/auth/purge.js';
import { createUser } from '../../../supervisor/auth/users.js';
import { purgeTenantData } from '../../../supervisor/billing/purge-tenant.js';
import { applyRetention, backupName, listBackups, managementBackupDir, tenantBackupDir } from '../../../supervisor/backups/files.js';
import { restoreTenant, RestoreError } from '../../../supervisor/backups/restore.js';
import { backupEverything, type BackupDeps } from '../../../supervisor/backups/run.js';
import { startBackupSchedule } from '../../../supervisor/backups/schedule.js';
import { hostAccess } from '../../../supervisor/backups/server.js';
import { startTenants, until } from '../../helpers/tenants.js';

const TIMEOUT = 20_000;
const retention = { keepDaily: 7, keepWeekly: 4 };

function storedTimezone(path: string): unknown {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT value FROM settings WHERE key = 'timezone'").get() as { value: string } | undefined;
    return row && JSON.parse(row.value);
  } finally {
    db.close();
  }
}

t.test('write → backup → change → restore: the old data is back, through the actor', async (t) => {
  const tenants = startTenants({ idleMs: 300 });
  t.teardown(() => tenants.close());
  const { host, registry, dir } = tenants;
  const { id } = registry.create();
  const ask = (method: string, params: unknown) => host.request(id, method, params, TIMEOUT) as Promise<any>;
  const deps: BackupDeps = { dataDir: dir, registry, retention, tenants: hostAccess(host), management: tenants.db };

  await ask('settings.put', { key: 'timezone', value: 'Europe/Paris' });
  t.equal(host.state(id), 'active');
  const first = await backupEverything(deps);
  const management = first.outcomes.find((o) => o.target === 'management')!;
  t.match(management, { status: 'done', via: 'connection' });
  t.ok(new Database(management.file!, { readonly: true }).prepare('SELECT id FROM tenants').get(), 'the management backup holds the registry');
  const own = first.outcomes.find((o) => o.target === id)!;
  t.match(own, { status: 'done', via: 'tenant' }, 'an active tenant copies itself (its file is held exclusively)');
  t.equal(storedTimezone(own.file!), 'Europe/Paris', 'the copy holds what was written');
  t.same(readdirSync(tenantBackupDir(dir, id)).filter((name) => name.endsWith('.partial')), [], 'no partial file is left');

  await ask('settings.put', { key: 'timezone', value: 'Asia/Tokyo' });
  t.equal((await ask('settings.get', { key: 'timezone' })).value, 'Asia/Tokyo');

  // The tenant is active: the restore holds it (no new activation) and waits for it to hibernate.
  const restored = await restoreTenant({ registry, dataDir: dir }, id, { settleMs: 100 });
  t.equal(restored.from, own.file);
  t.ok(restored.replacedKeptAt && existsSync(restored.replacedKeptAt), 'the replaced DB is kept aside');
  t.equal(storedTimezone(restored.replacedKeptAt!), 'Asia/Tokyo', 'the kept DB is the one that was replaced');
  t.equal(registry.get(id)!.status, 'ready', 'the hold is lifted');
  t.equal((await ask('settings.get', { key: 'timezone' })).value, 'Europe/Paris', 'the actor reads the restored data');
});

t.test('a hibernated tenant is backed up without being woken, and only when it changed', async (t) => {
  const tenants = startTenants({ idleMs: 100 });
  t.teardown(() => tenants.close());
  const { host, registry, dir } = tenants;
  const { id } = registry.create();
  const never = registry.create();
  await host.request(id, 'settings.put', { key: 'timezone', value: 'Europe/Paris' }, TIMEOUT);
  await until(() => host.state(id) === 'hibernated');
  let activations = 0;
  host.on('activated', () => (activations += 1));
  const deps: BackupDeps = { dataDir: dir, registry, retention, tenants: hostAccess(host), management: tenants.db };

  const report = await backupEverything(deps);
  t.match(report.outcomes.find((o) => o.target === id), { status: 'done', via: 'file' });
  t.match(report.outcomes.find((o) => o.target === never.id), { status: 'no_data' }, 'a tenant that never ran has nothing to back up');
  t.equal(activations, 0, 'nothing was woken');
  t.equal(host.state(id), 'hibernated');
  t.equal(storedTimezone(listBackups(tenantBackupDir(dir, id))[0]!.path), 'Europe/Paris');

  const again = await backupEverything(deps);
  t.match(again.outcomes.find((o) => o.target === id), { status: 'unchanged' }, 'an untouched hibernated file is not copied again');
  await host.request(id, 'settings.put', { key: 'timezone', value: 'Asia/Tokyo' }, TIMEOUT);
  await until(() => host.state(id) === 'hibernated');
  const third = await backupEverything(deps);
  t.match(third.outcomes.find((o) => o.target === id), { status: 'done' }, 'a changed one is');
  t.equal(listBackups(tenantBackupDir(dir, id)).length, 2, 'both of the last 24 hours are kept');
  t.equal(listBackups(managementBackupDir(dir)).length, 3);
});

t.test('a tenant copies itself only into its own backup folder', async (t) => {
  const tenants = startTenants();
  t.teardown(() => tenants.close());
  const { id } = tenants.registry.create();
  const other = tenants.registry.create();
  for (const path of ['/tmp/evil.partial', join(tenantBackupDir(tenants.dir, other.id), 'x.partial'), join(tenantBackupDir(tenants.dir, id), 'x.db'), `${tenantBackupDir(tenants.dir, id)}/../${id}/x.partial`]) {
    await t.rejects(tenants.host.request(id, 'backup.create', { path }, TIMEOUT), { code: 'invalid_params' }, path);
  }
});

t.test('retention keeps the newest backup of each of the last 7 days and 4 weeks', async (t) => {
  const dir = join(startTenants().dir, 'retention');
  mkdirSync(dir, { recursive: true });
  const day = 86_400_000;
  const base = Date.UTC(2026, 10, 26, 3); // a Thursday
  const made: string[] = [];
  for (let i = 0; i < 40; i++) {
    for (const hour of [0, 5]) {
      const name = backupName(base - i * day + hour * 3_600_000);
      writeFileSync(join(dir, name), 'x');
      made.push(name);
    }
  }
  writeFileSync(join(dir, 'replaced-2020-01-01T00-00-00.000Z.db'), 'x');
  const deleted = applyRetention(dir, { keepDaily: 7, keepWeekly: 4 }, base + 6 * 3_600_000);
  const kept = listBackups(dir).map((b) => new Date(b.at).toISOString());
  t.equal(kept.length + deleted.length, made.length);
  const daily = Array.from({ length: 7 }, (_, i) => new Date(base - i * day + 5 * 3_600_000).toISOString());
  for (const at of daily) t.ok(kept.includes(at), `the last backup of ${at.slice(0, 10)} is kept`);
  // Weeks (ISO, Monday first) before this one end on the Sundays 2026-11-22, -15 and -08.
  for (const sunday of ['2026-11-22', '2026-11-15', '2026-11-08']) t.ok(kept.includes(`${sunday}T08:00:00.000Z`), `the week ending ${sunday} keeps its last backup`);
  t.ok(kept.includes(new Date(base).toISOString()), 'everything of the last 24 hours is kept too');
  t.equal(kept.length, 7 + 2 + 1, 'nothing else (the week ending 2026-11-22 has its last backup among the daily ones)');
  t.ok(existsSync(join(dir, 'replaced-2020-01-01T00-00-00.000Z.db')), 'a replaced DB is the operator’s to delete');
});

t.test('a restore refuses damaged files and files from a newer schema, and changes nothing', async (t) => {
  const tenants = startTenants({ idleMs: 100 });
  t.teardown(() => tenants.close());
  const { host, registry, dir } = tenants;
  const { id } = registry.create();
  await host.request(id, 'settings.put', { key: 'timezone', value: 'Europe/Paris' }, TIMEOUT);
  await until(() => host.state(id) === 'hibernated');
  await t.rejects(restoreTenant({ registry, dataDir: dir }, id), RestoreError, 'no backups yet');

  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'SQLite format 3\0 but not really');
  await t.rejects(restoreTenant({ registry, dataDir: dir }, id, { from: junk }), RestoreError);

  await backupEverything({ dataDir: dir, registry, retention, tenants: hostAccess(host) });
  const newer = join(dir, 'newer.db');
  const copy = new Database(listBackups(tenantBackupDir(dir, id))[0]!.path, { readonly: true });
  await copy.backup(newer);
  copy.close();
  const edit = new Database(newer);
  edit.prepare("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (9999, '9999_future.sql', 'x', 0)").run();
  edit.close();
  await t.rejects(restoreTenant({ registry, dataDir: dir }, id, { from: newer }), /newer TuitBot/);
  t.equal(registry.get(id)!.status, 'ready');
  t.equal(storedTimezone(registry.dbPath(id)), 'Europe/Paris', 'the live DB is untouched');
  t.notOk(existsSync(`${registry.dbPath(id)}.restoring`), 'no staged file is left');
});

t.test('a purge removes every backup of the tenant, the replaced DBs included', async (t) => {
  const tenants = startTenants({ idleMs: 100 });
  t.teardown(() => tenants.close());
  const { host, registry, dir } = tenants;
  const { id } = registry.create();
  await host.request(id, 'settings.put', { key: 'timezone', value: 'Europe/Paris' }, TIMEOUT);
  await backupEverything({ dataDir: dir, registry, retention, tenants: hostAccess(host) });
  await restoreTenant({ registry, dataDir: dir }, id, { settleMs: 50 });
  t.equal(readdirSync(tenantBackupDir(dir, id)).length, 2, 'a backup and the replaced DB');
  await purgeTenantData({ host, registry, dataDir: dir }, id);
  t.notOk(existsSync(tenantBackupDir(dir, id)));
  t.notOk(existsSync(registry.dbPath(id)));
  t.ok(statSync(managementBackupDir(dir)).isDirectory(), 'other backups stay');
});

t.test('the purge of a deleted account removes its backups too', async (t) => {
  const tenants = startTenants();
  t.teardown(() => tenants.close());
  const { db, registry, dir } = tenants;
  const user = createUser(db, registry, { email: 'gone@example.com', passwordHash: null });
  const keep = createUser(db, registry, { email: 'stays@example.com', passwordHash: null });
  for (const id of [user.tenant_id, keep.tenant_id]) {
    mkdirSync(tenantBackupDir(dir, id), { recursive: true });
    writeFileSync(join(tenantBackupDir(dir, id), backupName(Date.now())), 'x');
  }
  db.prepare('UPDATE users SET deleted_at = ?, purge_after = ? WHERE id = ?').run(Date.now(), Date.now() - 1, user.id);
  t.same(purgeDeletedAccounts(db, registry), [user.id]);
  t.notOk(existsSync(tenantBackupDir(dir, user.tenant_id)), 'the deleted account’s backups are gone');
  t.ok(existsSync(tenantBackupDir(dir, keep.tenant_id)), 'another account’s stay');
});

t.test('the schedule runs passes at its interval, counted from the newest backup, and stops', async (t) => {
  const tenants = startTenants();
  t.teardown(() => tenants.close());
  const { host, registry, dir, log } = tenants;
  const deps = { dataDir: dir, registry, retention, tenants: hostAccess(host), management: tenants.db, log };
  const schedule = startBackupSchedule({ ...deps, intervalMs: 500, firstDelayMs: 50 });
  await until(() => listBackups(managementBackupDir(dir)).length >= 2, 10_000);
  await schedule.stop();
  const made = listBackups(managementBackupDir(dir));
  t.ok(made[0]!.at - made[1]!.at >= 450, 'a pass every interval');
  await new Promise((resolve) => setTimeout(resolve, 700));
  t.equal(listBackups(managementBackupDir(dir)).length, made.length, 'nothing after stop');

  // A restart soon after a backup waits out the rest of the interval instead of backing up again.
  const restarted = startBackupSchedule({ ...deps, intervalMs: 60_000, firstDelayMs: 50 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(listBackups(managementBackupDir(dir)).length, made.length, 'not due yet');
  await restarted.stop();
});
