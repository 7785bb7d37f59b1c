// The operator's CLI for data: backup, restore, export and import on a stopped server's data
// directory, and backup and restore beside a running server.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { checkpointAndClose, openDatabase } from '../../migrations/runner.js';
import { Browser } from '../helpers/browser.js';
import { runCli, serveTemp } from '../helpers/process.js';
import { seed, timezoneIn } from './backups/cli-seed.js';

t.test('tuitbot backup, restore, export and import on a stopped server', async (t) => {
  const { dir, ada, bob, env } = seed(t);
  const backup = runCli(['backup'], env);
  t.equal(backup.status, 0, backup.stderr);
  t.match(backup.stdout, /^management\s+done/m);
  t.match(backup.stdout, new RegExp(`^${ada}\\s+done`, 'm'));
  t.match(backup.stdout, new RegExp(`^${bob}\\s+no_data`, 'm'));
  t.match(runCli(['backup', '--tenant', 'ada@example.com'], env).stdout, new RegExp(`^${ada}\\s+unchanged`, 'm'), 'an unchanged tenant is not copied again');

  const live = join(dir, 'tenants', `${ada}.db`);
  const db = openDatabase(live, 'tenant');
  db.prepare("UPDATE settings SET value = '\"Asia/Tokyo\"' WHERE key = 'timezone'").run();
  checkpointAndClose(db);
  const restore = runCli(['restore', 'ada@example.com'], env);
  t.equal(restore.status, 0, restore.stderr);
  t.match(restore.stdout, /kept at .*replaced-/);
  t.equal(timezoneIn(live), 'Europe/Paris', 'the backup is back');
  const none = runCli(['restore', bob], env);
  t.equal(none.status, 1, 'no backup to restore');
  t.match(none.stderr, /has no backups/);

  const passphrase = join(dir, 'passphrase');
  writeFileSync(passphrase, 'a long enough passphrase\n');
  const out = join(dir, 'ada.json');
  const exported = runCli(['export', '--tenant', 'ada@example.com', '--format', 'json', '--passphrase-file', passphrase, '--out', out], env);
  t.equal(exported.status, 0, exported.stderr);
  t.equal(statSync(out).mode & 0o777, 0o600, 'the file is the owner’s only');
  t.match(JSON.parse(readFileSync(out, 'utf8')), { format: 'tuitbot-export', version: 1, secrets: { kdf: { name: 'scrypt' } } });
  const toStdout = runCli(['export', '--tenant', ada], env);
  t.match(JSON.parse(toStdout.stdout), { secrets: 'excluded', tables: { settings: { rows: [['timezone', '"Europe/Paris"', 1]] } } });
  t.equal(runCli(['export', '--tenant', ada, '--format', 'csv'], env).status, 2);

  const imported = runCli(['import', '--tenant', 'bob@example.com', out, '--passphrase-file', passphrase], env);
  t.equal(imported.status, 0, imported.stderr);
  t.match(imported.stdout, /imported \d+ rows .*secrets: imported/);
  t.equal(timezoneIn(join(dir, 'tenants', `${bob}.db`)), 'Europe/Paris');
  const again = runCli(['import', '--tenant', bob, out], env);
  t.equal(again.status, 1);
  t.match(again.stderr, /not_empty/);
  t.equal(runCli(['import', '--tenant', bob, out, '--replace'], env).status, 0, '--replace overwrites');
  t.equal(JSON.parse(runCli(['tenants', 'show', bob], env).stdout).status, 'ready', 'the import hold is lifted');
});

t.test('beside a running server: backup while it serves, then restore waits for the tenant and the server reads the old data', async (t) => {
  const server = await serveTemp(t, { TENANT_IDLE_MS: '300', BACKUP_INTERVAL_MS: '0', HTTP_REQUEST_TIMEOUT_MS: '20000' });
  const env = { DATA_DIR: server.dir, LOG_LEVEL: 'silent' };
  const ada = new Browser(server.base);
  t.equal((await ada.json('POST', '/auth/signup', { email: 'ada@example.com', password: 'correct horse battery staple' })).status, 201);
  t.equal((await ada.json('PATCH', '/api/settings', { timezone: 'Europe/Paris' })).status, 200);

  // Right after the request the tenant may still be active (busy to the CLI); it idles in 300 ms.
  let backedUp = false;
  for (let i = 0; i < 20 && !backedUp; i++) {
    const run = runCli(['backup', '--tenant', 'ada@example.com'], env);
    t.not(run.status, 1, run.stdout);
    backedUp = / done /.test(run.stdout);
    if (!backedUp) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  t.ok(backedUp, 'the tenant was backed up once idle');
  const files = readdirSync(join(server.dir, 'backups', 'tenants')).length;
  t.equal(files, 1);

  t.equal((await ada.json('PATCH', '/api/settings', { timezone: 'Asia/Tokyo' })).status, 200);
  // Just used, so active: the restore holds it and waits for it to hibernate.
  const restore = runCli(['restore', 'ada@example.com', '--wait', '30'], env);
  t.equal(restore.status, 0, restore.stderr);
  const settings = await ada.json('GET', '/api/settings');
  t.equal(settings.status, 200);
  t.equal(settings.body.values.timezone, 'Europe/Paris', 'the server serves the restored data');
});
