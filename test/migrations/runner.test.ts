import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { checkpointAndClose, loadMigrations, migrate, MigrationError, migrationsDir, openDatabase } from '../../migrations/runner.js';

interface Scratch {
  root: string;
  /** A fresh migrations directory (loadMigrations caches per path, so one per scenario). */
  migrations(files: Record<string, string>): string;
  file(name: string): string;
}

function scratch(t: Test): Scratch {
  const root = mkdtempSync(join(tmpdir(), 'tuitbot-migrations-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  let dirs = 0;
  return {
    root,
    migrations(files) {
      const dir = join(root, `migrations-${++dirs}`);
      mkdirSync(dir);
      for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
      return dir;
    },
    file: (name) => join(root, name),
  };
}

function tables(db: Database.Database): string[] {
  return db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    .all()
    .map((row) => row.name);
}

function recorded(db: Database.Database): { version: number; name: string; checksum: string }[] {
  return db.prepare<[], { version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version').all();
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const ONE = 'CREATE TABLE a (id INTEGER PRIMARY KEY) STRICT;';
const TWO = 'CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id)) STRICT;';
// Depends on b existing, so it only works when applied after 0002.
const TEN = 'ALTER TABLE b ADD COLUMN note TEXT;';

t.test('pending migrations are applied in version order and recorded with name and checksum', async (t) => {
  const s = scratch(t);
  const dir = s.migrations({ '0010_note.sql': TEN, '0002_b.sql': TWO, '0001_a.sql': ONE, 'README.md': 'not a migration' });
  const db = new Database(s.file('x.db'));
  t.teardown(() => db.close());
  t.same(migrate(db, loadMigrations(dir)), ['0001_a.sql', '0002_b.sql', '0010_note.sql'], 'returns what it applied, in order');
  t.same(recorded(db), [
    { version: 1, name: '0001_a.sql', checksum: sha256(ONE) },
    { version: 2, name: '0002_b.sql', checksum: sha256(TWO) },
    { version: 10, name: '0010_note.sql', checksum: sha256(TEN) },
  ]);
  t.same(tables(db), ['a', 'b', 'schema_migrations']);
  t.ok(db.prepare("SELECT 1 FROM pragma_table_info('b') WHERE name = 'note'").get(), 'the later migration ran on top of the earlier ones');
});

t.test('re-opening an up-to-date database applies nothing; a new migration is applied alone', async (t) => {
  const s = scratch(t);
  const path = s.file('x.db');
  const dir = s.migrations({ '0001_a.sql': ONE });
  checkpointAndClose(openDatabase(path, 'tenant', { migrationsDir: dir }));

  const again = openDatabase(path, 'tenant', { migrationsDir: dir });
  t.same(migrate(again, loadMigrations(dir)), [], 'nothing is pending');
  t.equal(recorded(again).length, 1);
  checkpointAndClose(again);

  const later = s.migrations({ '0001_a.sql': ONE, '0002_b.sql': TWO });
  const db = new Database(path);
  t.teardown(() => db.close());
  t.same(migrate(db, loadMigrations(later)), ['0002_b.sql'], 'only the new migration is applied');
});

t.test('a migration edited after it was applied is refused, naming it', async (t) => {
  const s = scratch(t);
  const path = s.file('x.db');
  checkpointAndClose(openDatabase(path, 'tenant', { migrationsDir: s.migrations({ '0001_a.sql': ONE, '0002_b.sql': TWO }) }));
  const edited = s.migrations({ '0001_a.sql': ONE, '0002_b.sql': `${TWO}\n-- a harmless-looking comment` });
  t.throws(() => openDatabase(path, 'tenant', { migrationsDir: edited }), {
    name: 'MigrationError',
    message: /Migration 0002_b\.sql was changed after it was applied/,
  });
  const db = new Database(path);
  t.teardown(() => db.close());
  t.same(recorded(db).map((m) => m.checksum), [sha256(ONE), sha256(TWO)], 'the record is untouched');
});

t.test('a database with a migration this code does not know is refused, and nothing is applied', async (t) => {
  const s = scratch(t);
  const path = s.file('x.db');
  checkpointAndClose(openDatabase(path, 'tenant', { migrationsDir: s.migrations({ '0001_a.sql': ONE, '0003_c.sql': 'CREATE TABLE c (x INTEGER) STRICT;' }) }));
  const older = s.migrations({ '0001_a.sql': ONE, '0002_b.sql': TWO });
  const error = t.throws(() => openDatabase(path, 'tenant', { migrationsDir: older }));
  t.type(error, MigrationError);
  t.match(error, { message: /has migration 0003_c\.sql, which this version of TuitBot does not know/ });
  const db = new Database(path);
  t.teardown(() => db.close());
  t.notOk(tables(db).includes('b'), 'the pending 0002 was not applied to the newer schema');
});

t.test('a failing migration rolls back completely, is not recorded, and its error propagates', async (t) => {
  const s = scratch(t);
  const path = s.file('x.db');
  const dir = s.migrations({
    '0001_a.sql': ONE,
    '0002_broken.sql': 'CREATE TABLE half (x INTEGER) STRICT;\nINSERT INTO a (id) VALUES (1);\nCREATE TABLE oops (;',
    '0003_c.sql': 'CREATE TABLE c (x INTEGER) STRICT;',
  });
  t.throws(() => openDatabase(path, 'tenant', { migrationsDir: dir }), { name: 'MigrationError', message: /0002_broken\.sql failed and was rolled back: .*syntax error/ });
  const db = new Database(path);
  t.teardown(() => db.close());
  t.same(tables(db), ['a', 'schema_migrations'], 'no table of the failed migration or after it exists');
  t.equal((db.prepare('SELECT count(*) AS n FROM a').get() as { n: number }).n, 0, 'its data changes are rolled back');
  t.same(recorded(db).map((m) => m.name), ['0001_a.sql'], 'only the good migration is recorded');
});

t.test('badly named migration files are refused', async (t) => {
  const s = scratch(t);
  for (const name of ['1_a.sql', '0001-a.sql', '0001_A.sql', '00001_a.sql', '0001_.sql', 'a_0001.sql']) {
    const dir = s.migrations({ '0000_ok.sql': ONE, [name]: ONE });
    t.throws(() => loadMigrations(dir), { name: 'MigrationError', message: new RegExp(`"${name.replace('.', '\\.')}" .* is not named NNNN_name\\.sql`) }, name);
  }
});

t.test('two migrations sharing a version are refused', async (t) => {
  const s = scratch(t);
  const dir = s.migrations({ '0001_a.sql': ONE, '0001_b.sql': TWO });
  t.throws(() => loadMigrations(dir), { name: 'MigrationError', message: /share version 1/ });
});

t.test('openDatabase turns on WAL and foreign keys', async (t) => {
  const s = scratch(t);
  const db = openDatabase(s.file('x.db'), 'tenant', { migrationsDir: s.migrations({ '0001_a.sql': ONE, '0002_b.sql': TWO }) });
  t.teardown(() => db.close());
  t.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  t.equal(db.pragma('foreign_keys', { simple: true }), 1);
  t.equal(db.pragma('synchronous', { simple: true }), 2, 'synchronous = FULL');
  t.throws(() => db.prepare('INSERT INTO b (id, a_id) VALUES (1, 42)').run(), { code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
});

t.test('checkpointAndClose leaves no WAL content behind', async (t) => {
  const s = scratch(t);
  const path = s.file('x.db');
  const db = openDatabase(path, 'tenant', { migrationsDir: s.migrations({ '0001_a.sql': ONE }) });
  const insert = db.prepare('INSERT INTO a (id) VALUES (?)');
  for (let i = 1; i <= 200; i++) insert.run(i);
  t.ok(statSync(`${path}-wal`).size > 0, 'writes went to the WAL first');
  checkpointAndClose(db);
  t.notOk(db.open);
  t.ok(!existsSync(`${path}-wal`) || statSync(`${path}-wal`).size === 0, 'the WAL is empty or gone');
  checkpointAndClose(db); // closing twice is harmless

  // The main file alone is complete: read it without its WAL.
  const copy = s.file('copy.db');
  copyFileSync(path, copy);
  const reader = new Database(copy, { readonly: true });
  t.teardown(() => reader.close());
  t.equal((reader.prepare('SELECT count(*) AS n FROM a').get() as { n: number }).n, 200);
});

t.test('the product migrations apply cleanly to fresh files', async (t) => {
  const s = scratch(t);
  const management = openDatabase(s.file('management.db'), 'management');
  t.teardown(() => management.close());
  for (const table of ['schema_migrations', 'tenant_crashes', 'tenants', 'users', 'sessions', 'email_outbox']) {
    t.ok(tables(management).includes(table), `management has ${table}`);
  }
  t.same(
    recorded(management).map((m) => m.name),
    loadMigrations(migrationsDir('management')).map((m) => m.name),
    'every management migration is applied',
  );

  const tenant = openDatabase(s.file('tenant.db'), 'tenant');
  t.teardown(() => tenant.close());
  for (const table of ['jobs', 'schema_migrations', 'settings']) t.ok(tables(tenant).includes(table), `tenant has ${table}`);
  t.same(recorded(tenant).map((m) => m.name), loadMigrations(migrationsDir('tenant')).map((m) => m.name), 'every tenant migration is applied');
});

t.test('a readonly open neither creates the file nor migrates', async (t) => {
  const s = scratch(t);
  t.throws(() => openDatabase(s.file('missing.db'), 'tenant', { readonly: true }));
  t.notOk(existsSync(s.file('missing.db')));
});
