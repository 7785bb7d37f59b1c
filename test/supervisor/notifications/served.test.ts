/**
 * The real `tuitbot serve` mounts /unsubscribe and signs with the server's own key material: a token made
 * from the data directory's encryption key works without a session, a forged one is a 400 page, and
 * neither reaches the log.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { keyringOf } from '../../../protocol/index.js';
import { parseEncryptionKey } from '../../../supervisor/config.js';
import { UnsubscribeTokens } from '../../../supervisor/notifications/unsubscribe-token.js';
import { Browser } from '../../helpers/browser.js';
import { serveTemp } from '../../helpers/process.js';

t.test('a self-hosted server: its own token unsubscribes without a session, a forged one does not', async (t) => {
  const server = await serveTemp(t, { HOST: '127.0.0.1', TUITBOT_MODE: 'self-host' });
  const owner = new Browser(server.base);
  t.equal((await owner.json('POST', '/auth/signup', { email: 'owner@example.com', password: 'a self-hoster passphrase' })).status, 201);
  const management = new Database(join(server.dir, 'management.db'), { readonly: true });
  const userId = management.prepare("SELECT id FROM users WHERE email = 'owner@example.com'").pluck().get() as string;
  management.close();

  const key = parseEncryptionKey(readFileSync(join(server.dir, 'encryption.key'), 'utf8'))!;
  const genuine = new UnsubscribeTokens(keyringOf(key)).sign({ kind: 'approval_reminders', userId });
  const forged = new UnsubscribeTokens(keyringOf(new Uint8Array(32).fill(7))).sign({ kind: 'approval_reminders', userId });

  const bad = await fetch(`${server.base}/unsubscribe?token=${forged}`, { method: 'POST' });
  t.equal(bad.status, 400);
  t.match(await bad.text(), /This unsubscribe link is not valid/);
  const page = await fetch(`${server.base}/unsubscribe?token=${genuine}`);
  t.equal(page.status, 200);
  t.match(await page.text(), /approval queue/);
  t.match(page.headers.get('content-security-policy'), /form-action 'self'/);

  const before = await owner.json('GET', '/api/settings');
  t.equal(before.body.values['notifications.approval_reminders'], true, 'on by default');
  const done = await fetch(`${server.base}/unsubscribe?token=${genuine}`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  t.equal(done.status, 200);
  const after = await owner.json('GET', '/api/settings');
  t.equal(after.body.values['notifications.approval_reminders'], false, 'the owner sees it off in the settings');
  t.equal(after.body.values['notifications.weekly_summary'], true, 'the other kind stays on');

  t.notOk(server.output().includes(genuine.split('.').at(-1)!), 'the token is not logged');
  t.notOk(server.output().includes(forged.split('.').at(-1)!), 'nor the forged one');
});
