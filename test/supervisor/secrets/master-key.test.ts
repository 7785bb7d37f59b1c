import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { ConfigError, loadConfig } from '../../../supervisor/config.js';
import { KEY_FILE, loadEncryptionKey } from '../../../supervisor/secrets/master-key.js';
import { keyIdOf, SecretBox } from '../../../protocol/secret-box.js';
import { captureLog, tempDataDir } from '../../helpers/tenants.js';
import { problemsOf } from '../../helpers/config.js';

const TENANT = '2f8c1d9e-0b7a-4c3e-9f1a-6d5e4c3b2a10';

function dataDir(t: Test): string {
  const dir = tempDataDir('tuitbot-key-');
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('self-host without ENCRYPTION_KEY generates a 0600 key file once and reuses it', async (t) => {
  const dir = dataDir(t);
  const config = loadConfig({ TUITBOT_MODE: 'self-host', DATA_DIR: dir });
  t.equal(config.encryptionKey, null);
  const first = captureLog();
  const keyring = loadEncryptionKey(config, first.log);
  const path = join(dir, KEY_FILE);
  t.equal(statSync(path).mode & 0o777, 0o600, 'only the owner may read it');
  t.same(readdirSync(dir).filter((name) => name.startsWith(KEY_FILE)), [KEY_FILE], 'no temporary file left behind');
  const fileText = readFileSync(path, 'utf8').trim();
  t.match(first.logs, [{ msg: /generated a new encryption key/, keyId: keyring.currentId, path }]);
  t.notOk(JSON.stringify(first.logs).includes(fileText), 'the log never holds the key');

  const sealed = new SecretBox(keyring).seal(TENANT, 'totp_secret', 'seed');
  const second = captureLog();
  const again = loadEncryptionKey(config, second.log);
  t.equal(again.currentId, keyring.currentId, 'the same key on the next start');
  t.equal(readFileSync(path, 'utf8').trim(), fileText, 'the file is not rewritten');
  t.equal(new SecretBox(again).open(TENANT, 'totp_secret', sealed), 'seed');
  t.notMatch(second.logs, [{ msg: /generated/ }]);
});

t.test('ENCRYPTION_KEY is used as given, in hex or base64, and no key file is written', async (t) => {
  const dir = dataDir(t);
  const key = randomBytes(32);
  for (const text of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
    const config = loadConfig({ TUITBOT_MODE: 'self-host', DATA_DIR: dir, ENCRYPTION_KEY: text });
    const { log, logs } = captureLog();
    t.equal(loadEncryptionKey(config, log).currentId, keyIdOf(key));
    t.notOk(JSON.stringify(logs).includes(text));
  }
  t.notOk(existsSync(join(dir, KEY_FILE)));
});

t.test('the parsed key never shows up when the config is logged or printed', async (t) => {
  const text = randomBytes(32).toString('hex');
  const config = loadConfig({ ENCRYPTION_KEY: text });
  const { log, logs } = captureLog();
  log.info({ config }, 'config');
  t.match(logs[0], { config: { encryptionKey: '[redacted]' } });
  const { inspect } = await import('node:util');
  t.notMatch(inspect(config), /encryptionKey: Uint8Array/);
});

t.test('when ENCRYPTION_KEY replaces a key file, the file key still opens what it sealed', async (t) => {
  const dir = dataDir(t);
  const fileKeyring = loadEncryptionKey(loadConfig({ DATA_DIR: dir }), captureLog().log);
  const sealed = new SecretBox(fileKeyring).seal(TENANT, 'x_token', 'old');
  const key = randomBytes(32);
  const { log, logs } = captureLog();
  const keyring = loadEncryptionKey(loadConfig({ DATA_DIR: dir, ENCRYPTION_KEY: key.toString('base64') }), log);
  t.equal(keyring.currentId, keyIdOf(key));
  t.equal(new SecretBox(keyring).open(TENANT, 'x_token', sealed), 'old');
  t.match(logs, [{ level: 40, msg: /differs from the key file/ }]);
});

t.test('cloud mode refuses to start without ENCRYPTION_KEY', async (t) => {
  const cloud = { TUITBOT_MODE: 'cloud', PUBLIC_URL: 'https://app.tuitbot.cloud', METRICS_TOKEN: 'x'.repeat(32) };
  t.ok(problemsOf(cloud).some((p) => /^ENCRYPTION_KEY: required in cloud mode/.test(p)));
  const dir = dataDir(t);
  t.throws(() => loadEncryptionKey({ mode: 'cloud', dataDir: dir, encryptionKey: null }, captureLog().log), ConfigError);
  t.notOk(existsSync(join(dir, KEY_FILE)), 'and never falls back to a generated key');
  t.notOk(problemsOf({ ...cloud, ENCRYPTION_KEY: randomBytes(32).toString('base64') }).some((p) => p.startsWith('ENCRYPTION_KEY')));
});

t.test('an ENCRYPTION_KEY that is not 32 bytes is a config error that does not echo the value', async (t) => {
  for (const bad of ['short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64'), randomBytes(33).toString('base64'), 'g'.repeat(64)]) {
    const problems = problemsOf({ ENCRYPTION_KEY: bad });
    t.match(problems, [/^ENCRYPTION_KEY: must be 32 bytes/], bad.length + ' characters');
    t.notOk(problems.join().includes(bad));
  }
});

t.test('a key file that holds no valid key stops the start instead of being replaced', async (t) => {
  const dir = dataDir(t);
  writeFileSync(join(dir, KEY_FILE), 'not a key\n', { mode: 0o600 });
  t.throws(() => loadEncryptionKey(loadConfig({ DATA_DIR: dir }), captureLog().log), ConfigError);
  t.equal(readFileSync(join(dir, KEY_FILE), 'utf8'), 'not a key\n');
});
