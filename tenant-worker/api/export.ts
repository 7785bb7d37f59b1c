/**
 * A tenant's settings and history as one JSON document, and loading such a document into a tenant:
 * how a user moves between a self-hosted install and the cloud, or between servers.
 *
 * The format (version 1; `docs/operations.md` shows it to users):
 *
 *   { "format": "tuitbot-export", "version": 1, "exportedAt": <epoch ms>,
 *     "schema": ["0001_runtime.sql", …],        the tenant migrations the data was written under
 *     "secrets": "excluded" | { "kdf": { "name": "scrypt", "N", "r", "p", "salt" }, "check": "<sealed>" },
 *     "tables": { "<table>": { "columns": ["…"], "rows": [[<cell>, …], …] } } }
 *
 * Every table of the tenant DB is written (the migration record is `schema`), rows in key order. A
 * cell is null, a number, a string, `{ "$int": "<decimal>" }` for an integer beyond 2^53,
 * `{ "$blob": "<base64>" }`, or in a secret column `{ "$sealed": "<base64url>" }`. Secrets (X tokens,
 * the LLM key) are left out (null) unless the user gives a passphrase: then each is sealed with
 * AES-256-GCM under a key derived from the passphrase by scrypt, bound to its table and column.
 *
 * Import refuses a newer format or a file written under migrations this code does not know, and a
 * tenant that already has data unless told to replace it; it is one transaction. Tables and columns
 * are found in the schema, not listed here, so a table added by a later migration travels too.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCallback, type ScryptOptions } from 'node:crypto';
import { getHeapStatistics } from 'node:v8';
import type Database from 'better-sqlite3';
import * as v from 'valibot';
import { RemoteError, type TenantSecrets } from '../../protocol/index.js';
import { validate, type Handler } from '../handlers.js';
import { baseUrlProblem } from '../llm/config.js';
import { TENANT_SEALED_COLUMNS } from '../sealed-columns.js';

export const EXPORT_FORMAT = 'tuitbot-export';
export const EXPORT_VERSION = 1;

/** OWASP's scrypt parameters (128 MiB); a file may ask for at most 4× the work. */
const KDF = { name: 'scrypt', N: 2 ** 17, r: 8, p: 1 } as const;
const SCRYPT_MAXMEM = 512 * 1024 * 1024;
const CHECK_TEXT = EXPORT_FORMAT;

type Cell = null | number | string | { $int: string } | { $blob: string } | { $sealed: string };

export interface TenantExport {
  format: typeof EXPORT_FORMAT;
  version: number;
  exportedAt: number;
  schema: string[];
  secrets: 'excluded' | { kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string }; check: string };
  tables: Record<string, { columns: string[]; rows: Cell[][] }>;
}

export type ImportOutcome =
  | { ok: true; tables: Record<string, number>; secrets: 'imported' | 'excluded' | 'dropped'; dropped: string[] }
  | { ok: false; code: ImportRefusal; message: string; fields?: Record<string, string> };

export type ImportRefusal = 'invalid_file' | 'format_too_new' | 'schema_too_new' | 'not_empty' | 'wrong_passphrase';

function scrypt(passphrase: string, salt: Buffer, kdf: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: SCRYPT_MAXMEM };
  return new Promise((resolve, reject) => scryptCallback(passphrase.normalize('NFC'), salt, 32, options, (error, key) => (error ? reject(error) : resolve(key))));
}

function sealCell(key: Buffer, aad: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(`${EXPORT_FORMAT}/${EXPORT_VERSION}/${aad}`));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
}

/** The plaintext, or null when the value does not open under this key (wrong passphrase, tampered, moved). */
function openCell(key: Buffer, aad: string, sealed: string): string | null {
  const payload = Buffer.from(sealed, 'base64url');
  if (payload.byteLength < 28) return null;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, payload.subarray(0, 12));
    decipher.setAAD(Buffer.from(`${EXPORT_FORMAT}/${EXPORT_VERSION}/${aad}`));
    decipher.setAuthTag(payload.subarray(payload.byteLength - 16));
    return Buffer.concat([decipher.update(payload.subarray(12, payload.byteLength - 16)), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

interface TableInfo {
  name: string;
  withoutRowid: boolean;
}

/** Every table of the tenant's data (not SQLite's own, not the migration record). */
function dataTables(db: Database.Database): TableInfo[] {
  return db
    .prepare<[], { name: string; wr: number }>(
      "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations' ORDER BY name",
    )
    .all()
    .map((row) => ({ name: row.name, withoutRowid: row.wr === 1 }));
}

function columnsOf(db: Database.Database, table: string): string[] {
  return db.prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid').all(table).map((row) => row.name);
}

function appliedMigrations(db: Database.Database): string[] {
  return db.prepare<[], { name: string }>('SELECT name FROM schema_migrations ORDER BY version').all().map((row) => row.name);
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;

/** The secret field of a column, if it holds sealed values. */
function sealedField(table: string, column: string): string | undefined {
  return TENANT_SEALED_COLUMNS.find((c) => c.table === table && c.column === column)?.field;
}

function encodeCell(value: unknown): Cell {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : { $int: value.toString() };
  if (value instanceof Uint8Array) return { $blob: Buffer.from(value).toString('base64') };
  return value as Cell;
}

function decodeCell(cell: Cell): unknown {
  if (cell === null || typeof cell !== 'object') return cell;
  if ('$int' in cell) return BigInt(cell.$int);
  if ('$blob' in cell) return Buffer.from(cell.$blob, 'base64');
  throw new Error('a sealed cell outside a secret column');
}

/**
 * The tenant's data as an export document, as JSON text. With a passphrase, secrets are sealed under
 * a key derived from it; without, they are null. The tables are read in one transaction (a snapshot),
 * row by row into text: a whole DB as JS objects costs several times its size, and a tenant's heap
 * is small (TENANT_HEAP_MB).
 */
export async function exportTenantJson(
  db: Database.Database,
  secrets: TenantSecrets | null,
  options: { passphrase?: string | null; now?: number } = {},
): Promise<string> {
  let key: Buffer | null = null;
  let header: TenantExport['secrets'] = 'excluded';
  if (options.passphrase != null) {
    if (!secrets) throw new RemoteError('secrets_unavailable', 'This tenant was started without its secret keys.');
    const salt = randomBytes(16);
    key = await scrypt(options.passphrase, salt, KDF);
    header = { kdf: { ...KDF, salt: salt.toString('base64') }, check: sealCell(key, 'check', CHECK_TEXT) };
  }
  const parts: string[] = [];
  db.transaction(() => {
    const head = { format: EXPORT_FORMAT, version: EXPORT_VERSION, exportedAt: options.now ?? Date.now(), schema: appliedMigrations(db), secrets: header };
    parts.push(`${JSON.stringify(head).slice(0, -1)},"tables":{`);
    dataTables(db).forEach((table, index) => {
      const statement = db.prepare(`SELECT * FROM ${quote(table.name)}${table.withoutRowid ? '' : ' ORDER BY rowid'}`).raw(true).safeIntegers(true);
      const columns = statement.columns().map((column) => column.name);
      const fields = columns.map((column) => sealedField(table.name, column));
      parts.push(`${index > 0 ? ',' : ''}${JSON.stringify(table.name)}:{"columns":${JSON.stringify(columns)},"rows":[`);
      let batch: string[] = [];
      for (const row of statement.iterate() as Iterable<unknown[]>) {
        const cells = row.map((value, i): Cell => {
          const field = fields[i];
          if (field === undefined || value === null) return encodeCell(value);
          if (!key || !secrets) return null;
          try {
            return { $sealed: sealCell(key, `${table.name}.${columns[i]}`, secrets.open(field, value as string)) };
          } catch {
            // A value no key of ours opens any more is as good as absent.
            return null;
          }
        });
        batch.push(JSON.stringify(cells));
        // Joined in batches: one string per row would cost more in overhead than in text.
        if (batch.length === 1000) {
          parts.push(batch.join(','), ',');
          batch = [];
        }
      }
      if (batch.length > 0) parts.push(batch.join(','));
      else if (parts.at(-1) === ',') parts.pop();
      parts.push(']}');
    });
    parts.push('}}');
  })();
  return parts.join('');
}

/** `exportTenantJson` as an object (tests, small tenants). */
export async function exportTenant(db: Database.Database, secrets: TenantSecrets | null, options: { passphrase?: string | null; now?: number } = {}): Promise<TenantExport> {
  return JSON.parse(await exportTenantJson(db, secrets, options)) as TenantExport;
}

/** What the tenant's tables take on disk (the export's text is about as large). */
function dataBytes(db: Database.Database): number {
  const pages = (db.pragma('page_count', { simple: true }) as number) - (db.pragma('freelist_count', { simple: true }) as number);
  return pages * (db.pragma('page_size', { simple: true }) as number);
}

const Identifier = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'is not a table or column name'));
const CellSchema = v.union(
  [
    v.null(),
    v.number(),
    v.string(),
    v.strictObject({ $int: v.pipe(v.string(), v.regex(/^-?\d{1,20}$/)) }),
    v.strictObject({ $blob: v.pipe(v.string(), v.base64()) }),
    v.strictObject({ $sealed: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/)) }),
  ],
  'must be null, a number, a string or an encoded value',
);
const Header = v.object({ format: v.literal(EXPORT_FORMAT, `must be "${EXPORT_FORMAT}"`), version: v.pipe(v.number(), v.integer(), v.minValue(1)) });
const ExportFile = v.object({
  ...Header.entries,
  exportedAt: v.pipe(v.number(), v.integer(), v.minValue(0)),
  schema: v.array(v.pipe(v.string(), v.regex(/^\d{4}_[a-z0-9_]+\.sql$/, 'is not a migration name'))),
  secrets: v.union([
    v.literal('excluded'),
    v.object({
      kdf: v.object({
        name: v.literal('scrypt'),
        N: v.pipe(v.number(), v.integer(), v.minValue(2 ** 14), v.maxValue(2 ** 19), v.check((n) => (n & (n - 1)) === 0, 'must be a power of 2')),
        r: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(16)),
        p: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(4)),
        salt: v.pipe(v.string(), v.base64()),
      }),
      check: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]+$/)),
    }),
  ]),
  tables: v.record(Identifier, v.object({ columns: v.pipe(v.array(Identifier), v.minLength(1)), rows: v.array(v.array(CellSchema)) })),
});

function refusal(code: ImportRefusal, message: string, fields?: Record<string, string>): ImportOutcome {
  return fields ? { ok: false, code, message, fields } : { ok: false, code, message };
}

function issuesAsFields(issues: readonly v.BaseIssue<unknown>[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of issues.slice(0, 20)) fields[v.getDotPath(issue) ?? '(file)'] ??= issue.message;
  return fields;
}

/**
 * Loads an export into this tenant's DB, in one transaction. Refusals are values (the caller maps
 * them); `replace` empties a tenant that already has data first. Secrets are re-sealed with this
 * tenant's key when the passphrase opens them, else left out (an X connection without its tokens is
 * marked disconnected, so the user reconnects). An LLM base URL this server may not call is dropped.
 */
export async function importTenant(
  db: Database.Database,
  secrets: TenantSecrets | null,
  file: unknown,
  options: { passphrase?: string | null; replace?: boolean; allowPrivateNetwork: boolean; now?: number },
): Promise<ImportOutcome> {
  const header = v.safeParse(Header, file);
  if (!header.success) return refusal('invalid_file', 'This is not a TuitBot export.', issuesAsFields(header.issues));
  if (header.output.version > EXPORT_VERSION) {
    return refusal('format_too_new', `This export is format version ${header.output.version}; this server reads version ${EXPORT_VERSION} and older. Upgrade TuitBot first.`);
  }
  const parsed = v.safeParse(ExportFile, file);
  if (!parsed.success) return refusal('invalid_file', 'The export file is malformed.', issuesAsFields(parsed.issues));
  const data = parsed.output;

  const known = new Set(appliedMigrations(db));
  const newer = data.schema.filter((name) => !known.has(name));
  if (newer.length > 0) return refusal('schema_too_new', `This export was written by a newer TuitBot (migrations ${newer.join(', ')}). Upgrade TuitBot first.`);

  const targets = new Map(dataTables(db).map((table) => [table.name, new Set(columnsOf(db, table.name))]));
  const dropped: string[] = [];
  const fields: Record<string, string> = {};
  for (const [name, table] of Object.entries(data.tables)) {
    const columns = targets.get(name);
    if (!columns) {
      // Only possible for a table a later migration removed: its data has no place here.
      dropped.push(`table ${name}`);
      continue;
    }
    for (const column of table.columns) if (!columns.has(column)) fields[`tables.${name}.columns`] ??= `has no column "${column}" here`;
    if (new Set(table.columns).size !== table.columns.length) fields[`tables.${name}.columns`] ??= 'names a column twice';
    const bad = table.rows.findIndex((row) => row.length !== table.columns.length);
    if (bad >= 0) fields[`tables.${name}.rows.${bad}`] = `must have ${table.columns.length} cells`;
    table.columns.forEach((column, i) => {
      if (sealedField(name, column) !== undefined) return;
      const sealedRow = table.rows.findIndex((row) => row[i] !== null && typeof row[i] === 'object' && '$sealed' in (row[i] as object));
      if (sealedRow >= 0) fields[`tables.${name}.rows.${sealedRow}.${i}`] = 'is sealed but the column is not a secret';
    });
  }
  if (Object.keys(fields).length > 0) return refusal('invalid_file', 'The export does not fit this server\'s tables.', fields);

  let key: Buffer | null = null;
  let secretsOutcome: 'imported' | 'excluded' | 'dropped' = 'excluded';
  if (data.secrets !== 'excluded') {
    secretsOutcome = 'dropped';
    if (options.passphrase != null && secrets) {
      key = await scrypt(options.passphrase, Buffer.from(data.secrets.kdf.salt, 'base64'), data.secrets.kdf);
      if (openCell(key, 'check', data.secrets.check) !== CHECK_TEXT) return refusal('wrong_passphrase', 'The passphrase does not open the secrets of this export.');
      secretsOutcome = 'imported';
    }
  }

  const now = options.now ?? Date.now();
  return db.transaction((): ImportOutcome => {
    // The runtime's job rows are scheduling state, not the user's data: a fresh tenant may have them.
    const holding = [...targets.keys()].filter((name) => name !== 'jobs' && db.prepare(`SELECT 1 FROM ${quote(name)} LIMIT 1`).get() !== undefined);
    if (holding.length > 0 && !options.replace) {
      return refusal('not_empty', `This account already has data (${holding.join(', ')}); import with replace to overwrite it.`);
    }
    // Rows reference each other (threads, approvals, intents): checked once, at commit.
    db.pragma('defer_foreign_keys = ON');
    for (const name of targets.keys()) db.prepare(`DELETE FROM ${quote(name)}`).run();
    const counts: Record<string, number> = {};
    for (const [name, table] of Object.entries(data.tables)) {
      if (!targets.has(name)) continue;
      const insert = db.prepare(`INSERT INTO ${quote(name)} (${table.columns.map(quote).join(', ')}) VALUES (${table.columns.map(() => '?').join(', ')})`);
      const secretFields = table.columns.map((column) => sealedField(name, column));
      for (const row of table.rows) {
        insert.run(
          row.map((cell, i) => {
            const field = secretFields[i];
            if (field === undefined || cell === null) return decodeCell(cell);
            if (typeof cell !== 'object' || !('$sealed' in cell) || !key || !secrets) return null;
            const plaintext = openCell(key, `${name}.${table.columns[i]}`, cell.$sealed);
            return plaintext === null ? null : secrets.seal(field, plaintext);
          }),
        );
      }
      counts[name] = table.rows.length;
    }
    const disconnected = db
      .prepare(
        "UPDATE x_connection SET status = 'disconnected', refresh_token = NULL, expires_at = NULL, disconnected_at = ?, disconnected_reason = 'user', updated_at = ? WHERE status = 'connected' AND access_token IS NULL",
      )
      .run(now, now).changes;
    if (disconnected > 0) dropped.push('the X connection (its tokens were not in the export: reconnect X)');
    const llm = db.prepare<[], { base_url: string }>('SELECT base_url FROM llm_config').get();
    const problem = llm ? baseUrlProblem(llm.base_url, { allowPrivateNetwork: options.allowPrivateNetwork }) : null;
    if (problem) {
      db.prepare('DELETE FROM llm_config').run();
      dropped.push(`the LLM settings (the base URL ${problem} on this server)`);
    }
    return { ok: true, tables: counts, secrets: secretsOutcome, dropped };
  })();
}

const Passphrase = v.pipe(v.string(), v.minLength(8, 'must be at least 8 characters'), v.maxLength(1024, 'is too long'));
const ExportParams = v.object({ passphrase: v.optional(v.nullable(Passphrase)) });
const ImportParams = v.object({ file: v.unknown(), passphrase: v.optional(v.nullable(Passphrase)), replace: v.optional(v.boolean(), false) });

export const exportHandlers: Record<string, Handler> = {
  /**
   * `{ ok: true, json }` (the document as text), or `{ ok: false, code: 'too_large' }` when building it
   * could exhaust this thread's heap (measured: 96 MiB of heap fails between 14 and 27 MB of tables,
   * building objects; as text it needs about twice the tables' size): `tuitbot export` on the server
   * has no such limit.
   */
  'export.json': async (context, params) => {
    const { passphrase } = validate(ExportParams, params ?? {});
    const bytes = dataBytes(context.db);
    const limit = Math.floor(getHeapStatistics().heap_size_limit / 4);
    if (bytes > limit) {
      return { ok: false, code: 'too_large', message: `Your data (${Math.round(bytes / 1_048_576)} MB) is too large to download here; the server's operator can export it with \`tuitbot export\`.` };
    }
    return { ok: true, json: await exportTenantJson(context.db, context.secrets, { passphrase: passphrase ?? null }) };
  },

  /** Answers the outcome, refusals included (`{ ok: false, code }`): the route maps them to HTTP. */
  'import.json': async (context, params) => {
    if (context.ceilings?.readOnly) throw new RemoteError('read_only', 'Your subscription has ended: your data is read-only until you subscribe again.');
    const { file, passphrase, replace } = validate(ImportParams, params);
    const outcome = await importTenant(context.db, context.secrets, file, { passphrase: passphrase ?? null, replace, allowPrivateNetwork: context.mode !== 'cloud' });
    // The job set follows the imported runtime state (started, paused, stopped).
    if (outcome.ok) await context.reloadJobs();
    return outcome;
  },
};
