import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../../migrations/runner.js';
import { TENANT_SEALED_COLUMNS } from '../../tenant-worker/sealed-columns.js';

t.test('every secret-looking column of the tenant schema is a sealed column that rotation re-seals', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-sealed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, 'tenant.db'), 'tenant');
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all();
  const secretLike = tables.flatMap(({ name }) =>
    db
      .prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${name}')`)
      .all()
      .filter((column) => /token|secret|api_key|password|credential/.test(column.name))
      .map((column) => `${name}.${column.name}`),
  );
  db.close();
  const listed = TENANT_SEALED_COLUMNS.map(({ table, column }) => `${table}.${column}`);
  t.same(secretLike.sort(), [...listed].sort());
});
