import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../../migrations/runner.js';
import { TenantRegistry } from '../../supervisor/tenants/registry.js';
import { tempDataDir } from '../helpers/tenants.js';
import { runCli } from '../helpers/process.js';

t.test('tuitbot tenants list|show|release operate on the registry', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, dir);
  const healthy = registry.create();
  const broken = registry.create();
  for (let i = 0; i < 4; i++) registry.recordCrash(broken.id, { at: Date.now() - i, kind: 'error', message: `boom ${i}` }, 600_000);
  registry.quarantine(broken.id, '4 crashes within 600 s', Date.now());
  db.close();

  const list = runCli(['tenants', 'list'], { DATA_DIR: dir });
  t.equal(list.status, 0);
  t.match(list.stdout, new RegExp(`${healthy.id}\\s+ready`));
  t.match(list.stdout, new RegExp(`${broken.id}\\s+quarantined`));
  t.match(list.stdout, /2 tenant\(s\)/);

  const asJson = JSON.parse(runCli(['tenants', 'list', '--json'], { DATA_DIR: dir }).stdout) as { id: string; status: string }[];
  t.same(asJson.map((x) => x.status).sort(), ['quarantined', 'ready']);

  const show = JSON.parse(runCli(['tenants', 'show', broken.id], { DATA_DIR: dir }).stdout) as { status: string; crashes: unknown[]; quarantineReason: string };
  t.equal(show.status, 'quarantined');
  t.equal(show.crashes.length, 4);
  t.match(show.quarantineReason, /4 crashes/);

  const release = runCli(['tenants', 'release', broken.id], { DATA_DIR: dir });
  t.equal(release.status, 0);
  t.match(release.stdout, /released/);
  const again = runCli(['tenants', 'release', broken.id], { DATA_DIR: dir });
  t.equal(again.status, 1, 'releasing a tenant that is not quarantined is an error');
  const after = JSON.parse(runCli(['tenants', 'show', broken.id], { DATA_DIR: dir }).stdout) as { status: string; crashes: unknown[] };
  t.equal(after.status, 'ready');
  t.equal(after.crashes.length, 0, 'release forgets the crash history');

  const unknown = runCli(['tenants', 'show', '00000000-0000-4000-8000-000000000000'], { DATA_DIR: dir });
  t.equal(unknown.status, 2);
  t.match(unknown.stderr, /no tenant/);
});

t.test('tuitbot migrate brings management and tenant DBs up to date, and refuses an edited migration', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const tenant = new TenantRegistry(db, dir).create();
  db.close();
  // A tenant DB from an older version: no tables yet.
  mkdirSync(join(dir, 'tenants'), { recursive: true });
  writeFileSync(join(dir, 'tenants', `${tenant.id}.db`), '');
  const result = runCli(['migrate', '--tenants'], { DATA_DIR: dir });
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, new RegExp(`tenants/${tenant.id}.db: up to date`));
  const tenantDb = openDatabase(join(dir, 'tenants', `${tenant.id}.db`), 'tenant');
  const applied = tenantDb.prepare<[], { name: string }>('SELECT name FROM schema_migrations ORDER BY name').all().map((row) => row.name);
  t.same(applied, readdirSync(new URL('../../migrations/tenant/', import.meta.url)).filter((name) => name.endsWith('.sql')).sort(), 'every tenant migration');
  tenantDb.prepare("UPDATE schema_migrations SET checksum = 'edited'").run();
  tenantDb.close();
  const refused = runCli(['migrate', '--tenants'], { DATA_DIR: dir });
  t.equal(refused.status, 2);
  t.match(refused.stderr, /0001_runtime\.sql was changed after it was applied/);
});

t.test('unknown commands print the usage', async (t) => {
  const result = runCli(['frobnicate'], { DATA_DIR: '/tmp/none' });
  t.equal(result.status, 2);
  t.match(result.stderr, /usage:/);
});

t.test('tuitbot invite prints a single-use signup link', async (t) => {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = runCli(['invite', '--email', 'friend@example.com'], { DATA_DIR: dir, REGISTRATION: 'invite', PUBLIC_URL: 'https://tuitbot.example.org' });
  t.equal(result.status, 0, result.stderr);
  t.match(result.stdout, /^https:\/\/tuitbot\.example\.org\/signup\?invite=[a-z2-7]{32}$/m);
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const row = db.prepare('SELECT email, length(token_hash) AS n FROM invites').get() as { email: string; n: number };
  t.same(row, { email: 'friend@example.com', n: 32 }, 'only the hash of the token is stored');
  db.close();
});
