// The operator's CLI on a real data directory: the tenant admin commands and invites.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/process.js';
import { seed } from './backups/cli-seed.js';

t.test('tenants list|show|suspend|resume|purge and invite create', async (t) => {
  const { dir, ada, bob, env } = seed(t);
  const list = runCli(['tenants', 'list'], env);
  t.equal(list.status, 0, list.stderr);
  t.match(list.stdout, new RegExp(`${ada}\\s+ready\\s+unlimited\\s+\\d+ KiB\\s+-\\s+ada@example.com`), 'status, plan, size and account');
  t.match(list.stdout, new RegExp(`${bob}\\s+ready\\s+unlimited\\s+-\\s+`), 'a tenant that never ran has no DB');

  const usage = JSON.parse(runCli(['tenants', 'list', '--json', '--usage'], env).stdout) as { id: string; email: string; usage: unknown }[];
  t.match(usage.find((x) => x.id === ada), { email: 'ada@example.com', usage: { postsLast30Days: 1, xSpendMicrosThisMonth: 0 } });
  t.equal(usage.find((x) => x.id === bob)!.usage, null);

  const show = JSON.parse(runCli(['tenants', 'show', 'ADA@example.com'], env).stdout) as Record<string, unknown>;
  t.match(show, { id: ada, email: 'ada@example.com', status: 'ready', crashes: [], backups: [], usage: { postsLast30Days: 1 } }, 'found by email, case-insensitively');

  t.equal(runCli(['tenants', 'suspend', ada], env).status, 0);
  t.match(JSON.parse(runCli(['tenants', 'show', ada], env).stdout), { status: 'stopped' });
  t.equal(runCli(['tenants', 'suspend', ada], env).status, 1, 'suspending twice is an error');
  t.equal(runCli(['tenants', 'release', ada], env).status, 1, 'release is for quarantines');
  t.equal(runCli(['tenants', 'resume', ada], env).status, 0);
  t.match(JSON.parse(runCli(['tenants', 'show', ada], env).stdout), { status: 'ready' });

  t.ok(runCli(['backup'], env).status === 0);
  const refused = runCli(['tenants', 'purge', ada], env);
  t.equal(refused.status, 1);
  t.match(refused.stderr, /--yes/);
  t.ok(existsSync(join(dir, 'tenants', `${ada}.db`)), 'nothing is deleted without --yes');
  const purged = runCli(['tenants', 'purge', ada, '--yes'], env);
  t.equal(purged.status, 0, purged.stderr);
  t.notOk(existsSync(join(dir, 'tenants', `${ada}.db`)), 'the DB is gone');
  t.notOk(existsSync(join(dir, 'backups', 'tenants', ada)), 'and its backups');
  t.match(JSON.parse(runCli(['tenants', 'show', ada], env).stdout), { status: 'ready', dbBytes: null });

  const invite = runCli(['invite', 'create', '--email', 'friend@example.com'], { ...env, REGISTRATION: 'invite', PUBLIC_URL: 'https://tuitbot.example.org' });
  t.equal(invite.status, 0, invite.stderr);
  t.match(invite.stdout, /^https:\/\/tuitbot\.example\.org\/signup\?invite=[a-z2-7]{32}$/m);
  t.equal(runCli(['invite', 'frobnicate'], env).status, 2);
  t.equal(runCli(['tenants', 'show', 'nobody@example.com'], env).status, 2);
});
