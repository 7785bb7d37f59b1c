/**
 * Opens a SQLite file the way the product always does and brings its schema up to date.
 *
 * Both sides need this (the supervisor for `management.db`, a tenant actor for its own file),
 * and it imports nothing of ours, so it lives beside the SQL it applies.
 *
 * Migrations are `NNNN_name.sql` files in `management/` or `tenant/`. Each is applied in its own
 * transaction and recorded in `schema_migrations` with the SHA-256 of its text. A migration that
 * was changed after it was applied, or a database that knows a migration this code does not,
 * is refused: silently running against a schema we did not write is how data gets lost.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export type SchemaKind = 'management' | 'tenant';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const cache = new Map<string, Migration[]>();

export function migrationsDir(kind: SchemaKind): string {
  return fileURLToPath(new URL(`./${kind}/`, import.meta.url));
}

/** Reads and orders the migrations of a directory once per process (tenants open often). */
export function loadMigrations(dir: string): Migration[] {
  const cached = cache.get(dir);
  if (cached) return cached;
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new MigrationError(`Migration file "${file}" in ${dir} is not named NNNN_name.sql.`);
    const version = Number(match[1]);
    if (migrations.some((m) => m.version === version)) {
      throw new MigrationError(`Two migrations in ${dir} share version ${version}.`);
    }
    const sql = readFileSync(`${dir}/${file}`, 'utf8');
    migrations.push({ version, name: file, sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  cache.set(dir, migrations);
  return migrations;
}

/** Applies pending migrations; returns the names it applied. */
export function migrate(db: Database.Database, migrations: Migration[]): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  ) STRICT`);
  const appliedNames: string[] = [];
  const selectApplied = db.prepare<[], { version: number; name: string; checksum: string }>(
    'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
  );
  const record = db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)');

  // IMMEDIATE takes the write lock before reading what is applied, so two processes opening
  // the same file cannot both apply the same migration.
  const step = db.transaction((migration: Migration) => {
    const applied = new Map(selectApplied.all().map((row) => [row.version, row]));
    if (applied.has(migration.version)) return;
    db.exec(migration.sql);
    record.run(migration.version, migration.name, migration.checksum, Date.now());
    appliedNames.push(migration.name);
  });

  const applied = selectApplied.all();
  const known = new Map(migrations.map((m) => [m.version, m]));
  for (const row of applied) {
    const migration = known.get(row.version);
    if (!migration) {
      throw new MigrationError(
        `The database has migration ${row.name}, which this version of TuitBot does not know; refusing to run against a newer schema.`,
      );
    }
    if (migration.checksum !== row.checksum) {
      throw new MigrationError(
        `Migration ${row.name} was changed after it was applied (recorded checksum ${row.checksum.slice(0, 12)}…, file ${migration.checksum.slice(0, 12)}…). Applied migrations must never be edited; add a new one.`,
      );
    }
  }
  const appliedVersions = new Set(applied.map((row) => row.version));
  for (const migration of migrations) {
    if (appliedVersions.has(migration.version)) continue;
    try {
      step.immediate(migration);
    } catch (error) {
      throw new MigrationError(`Migration ${migration.name} failed and was rolled back: ${(error as Error).message}`, { cause: error });
    }
  }
  return appliedNames;
}

export interface OpenOptions {
  readonly?: boolean;
  /** Defaults to the product's migrations for `kind`; tests pass their own directory. */
  migrationsDir?: string;
  /** Hold the file locked until close and keep the WAL index in memory (no -shm file): for a
   * DB that one connection owns, creating and deleting the -shm file was most of an open. */
  exclusive?: boolean;
}

/**
 * Opens (creating if needed) a database file in WAL mode and migrates it.
 * `synchronous=FULL`: a write the user was told succeeded survives a power cut, not only a crash.
 */
export function openDatabase(path: string, kind: SchemaKind, options: OpenOptions = {}): Database.Database {
  const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  try {
    db.pragma('busy_timeout = 5000');
    // Must precede the first read, or SQLite has already built a shared-memory index.
    if (options.exclusive) db.pragma('locking_mode = EXCLUSIVE');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
    }
    db.pragma('foreign_keys = ON');
    if (!options.readonly) migrate(db, loadMigrations(options.migrationsDir ?? migrationsDir(kind)));
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Folds the WAL back into the main file before a clean close, so a copied file is complete. */
export function checkpointAndClose(db: Database.Database): void {
  if (!db.open) return;
  if (!db.readonly) db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
