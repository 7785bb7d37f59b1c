import { rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openDatabase } from '../../../migrations/runner.js';
import { createSession, SESSION_TTL_MS, validateSessionToken } from '../../../supervisor/auth/sessions.js';
import { createUser } from '../../../supervisor/auth/users.js';
import { TenantRegistry } from '../../../supervisor/tenants/registry.js';
import { tempDataDir } from '../../helpers/tenants.js';

t.test('sessions slide for 30 days, are refreshed at most hourly, and expire', async (t) => {
  const dir = tempDataDir();
  const db = openDatabase(join(dir, 'management.db'), 'management');
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const user = createUser(db, new TenantRegistry(db, dir), { email: 'a@example.com', passwordHash: null });
  const t0 = 1_800_000_000_000;
  const { token, session } = createSession(db, user.id, {}, t0);
  t.equal(session.expiresAt, t0 + SESSION_TTL_MS);
  const lastVerified = () => (db.prepare('SELECT last_verified_at AS v FROM sessions').get() as { v: number }).v;

  t.ok(validateSessionToken(db, token, t0 + 59 * 60 * 1000));
  t.equal(lastVerified(), t0, 'no write within the hour');
  const refreshed = validateSessionToken(db, token, t0 + 61 * 60 * 1000)!;
  t.equal(lastVerified(), t0 + 61 * 60 * 1000, 'refreshed after an hour');
  t.equal(refreshed.expiresAt, t0 + 61 * 60 * 1000 + SESSION_TTL_MS, 'the expiry slides');

  const [id, secret] = token.split('.');
  // A different last character (a fixed one would equal the real one 1 time in 32).
  const wrong = `${secret!.slice(0, -1)}${secret!.endsWith('x') ? 'y' : 'x'}`;
  t.equal(validateSessionToken(db, `${id}.${wrong}`, t0), null, 'a wrong secret for a real id is refused');
  t.equal(validateSessionToken(db, id!, t0), null, 'an id alone is refused');
  t.equal(validateSessionToken(db, 'garbage', t0), null);

  t.equal(validateSessionToken(db, token, refreshed.expiresAt + 1), null, 'an expired session is refused');
  t.equal((db.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n, 0, 'and deleted');
});
