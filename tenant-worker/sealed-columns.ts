/**
 * Every sealed value a tenant DB holds, and re-sealing them under the current key (key rotation).
 *
 * A column listed here is opened and sealed with its field name as AAD; a new sealed column must be
 * added here, or a rotation would leave it behind (test/tenant-worker/sealed-columns.test.ts checks
 * the schema for columns this list does not know).
 */
import type Database from 'better-sqlite3';
import type { TenantSecrets } from '../protocol/index.js';

export interface SealedColumn {
  table: string;
  column: string;
  /** The field name bound into the ciphertext. */
  field: string;
}

export const TENANT_SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'x_connection', column: 'access_token', field: 'x_access_token' },
  { table: 'x_connection', column: 'refresh_token', field: 'x_refresh_token' },
  { table: 'llm_config', column: 'api_key', field: 'llm_api_key' },
];

/**
 * Re-seals values sealed under an older key. Each update only applies if the value is still the one
 * read (compare-and-swap), so a tenant that refreshes its tokens meanwhile is never overwritten with
 * the old ones. Returns how many values were re-sealed.
 */
export function resealTenant(db: Database.Database, secrets: TenantSecrets): number {
  let count = 0;
  for (const { table, column, field } of TENANT_SEALED_COLUMNS) {
    const rows = db.prepare<[], { row: number; value: string }>(`SELECT rowid AS row, ${column} AS value FROM ${table} WHERE ${column} IS NOT NULL`).all();
    const update = db.prepare(`UPDATE ${table} SET ${column} = ? WHERE rowid = ? AND ${column} = ?`);
    for (const row of rows) {
      if (!secrets.isStale(row.value)) continue;
      count += update.run(secrets.seal(field, secrets.open(field, row.value)), row.row, row.value).changes;
    }
  }
  return count;
}
