/** Data directories for the CLI tests: two accounts; Ada's tenant has settings and a posted reply. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { checkpointAndClose, openDatabase } from '../../../migrations/runner.js';
import { createUser } from '../../../supervisor/auth/users.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { tempDataDir } from '../../helpers/tenants.js';

export function seed(t: Test) {
  const dir = tempDataDir();
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, 'management.db'), 'management');
  const registry = new TenantRegistry(db, dir);
  const ada = createUser(db, registry, { email: 'ada@example.com', passwordHash: null });
  const bob = createUser(db, registry, { email: 'bob@example.com', passwordHash: null });
  db.close();
  const tenantDb = openDatabase(join(dir, 'tenants', `${ada.tenant_id}.db`), 'tenant');
  tenantDb.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('timezone', '\"Europe/Paris\"', 1)").run();
  tenantDb
    .prepare("INSERT INTO replies (tweet_id, target_tweet_id, target_author_id, target_author_username, source, content, posted_at) VALUES ('2', '1', '9', 'grace', 'manual', 'hi', ?)")
    .run(Date.now() - 60_000);
  checkpointAndClose(tenantDb);
  return { dir, ada: ada.tenant_id, bob: bob.tenant_id, env: { DATA_DIR: dir, LOG_LEVEL: 'silent' } };
}

/** The `timezone` setting stored in a tenant DB. */
export function timezoneIn(path: string): unknown {
  const db = openDatabase(path, 'tenant');
  try {
    const row = db.prepare("SELECT value FROM settings WHERE key = 'timezone'").get() as { value: string } | undefined;
    return row && JSON.parse(row.value);
  } finally {
    checkpointAndClose(db);
  }
}
