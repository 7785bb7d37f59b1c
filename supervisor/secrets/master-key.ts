/**
 * Where the master key for secrets at rest comes from.
 *
 * Cloud: `ENCRYPTION_KEY`, always (the config refuses to start without it). Self-host and sandbox:
 * `ENCRYPTION_KEY` if set, otherwise `<DATA_DIR>/encryption.key`, generated on first start with mode
 * 0600 and reused afterwards, so a one-container install works without a step and keeps working.
 * When both exist and differ, the variable seals and the file's key stays in the keyring to open what
 * it sealed. Nothing here ever logs a key: only its id, which reveals nothing.
 *
 * Rotation: earlier keys stay in the keyring, only to open — from ENCRYPTION_KEYS_PREVIOUS, or from
 * `<DATA_DIR>/encryption.key.previous` (one per line), which `tuitbot rotate-key --generate` appends
 * to when it replaces the key file. `tuitbot rotate-key` then re-seals everything under the current key.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, parseEncryptionKey, type Config } from '../config.js';
import { keyIdOf, keyringOf, type Keyring } from '../../protocol/secret-box.js';

export const KEY_FILE = 'encryption.key';
export const PREVIOUS_KEYS_FILE = 'encryption.key.previous';

export function loadEncryptionKey(config: Pick<Config, 'mode' | 'dataDir' | 'encryptionKey'> & Partial<Pick<Config, 'encryptionKeysPrevious'>>, log: Logger): Keyring {
  const current = loadCurrentKey(config, log);
  const previous = [...(config.encryptionKeysPrevious ?? []), ...readPreviousKeys(join(config.dataDir, PREVIOUS_KEYS_FILE))];
  const older = previous.filter((key) => !current.keys.has(keyIdOf(key)));
  if (older.length === 0) return current;
  log.info({ keyIds: older.map(keyIdOf) }, 'previous encryption keys in the keyring (they only open older secrets)');
  return keyringOf(current.keys.get(current.currentId)!, ...[...current.keys.values()].filter((key) => keyIdOf(key) !== current.currentId), ...older);
}

function loadCurrentKey(config: Pick<Config, 'mode' | 'dataDir' | 'encryptionKey'>, log: Logger): Keyring {
  const path = join(config.dataDir, KEY_FILE);
  const fileKey = readKeyFile(path, log);
  if (config.encryptionKey) {
    if (fileKey && keyIdOf(fileKey) !== keyIdOf(config.encryptionKey)) {
      log.warn(
        { keyId: keyIdOf(config.encryptionKey), fileKeyId: keyIdOf(fileKey), path },
        'ENCRYPTION_KEY differs from the key file; new secrets use ENCRYPTION_KEY, the file key still opens older ones',
      );
      return keyringOf(config.encryptionKey, fileKey);
    }
    log.info({ keyId: keyIdOf(config.encryptionKey) }, 'encryption key from ENCRYPTION_KEY');
    return keyringOf(config.encryptionKey);
  }
  if (config.mode === 'cloud') {
    throw new ConfigError(['ENCRYPTION_KEY: required in cloud mode (it encrypts every secret at rest)']);
  }
  if (fileKey) {
    log.info({ keyId: keyIdOf(fileKey), path }, 'encryption key from the key file');
    return keyringOf(fileKey);
  }
  const created = createKeyFile(path);
  log.warn(
    { keyId: keyIdOf(created), path },
    'generated a new encryption key file (mode 0600); back it up with the data directory: without it stored secrets cannot be read',
  );
  return keyringOf(created);
}

/** Keys a rotation retired, one per line; none when the file does not exist. */
function readPreviousKeys(path: string): Uint8Array[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const key = parseEncryptionKey(line);
      if (!key) throw new ConfigError([`${path}: holds a line that is not a 32-byte key; restore it from a backup`]);
      return key;
    });
}

/**
 * Replaces the key file with a new key and appends the old one to the previous-keys file first,
 * so no moment exists in which a sealed value has no key on disk. Key-file installs only: with
 * ENCRYPTION_KEY the operator rotates the variable. Returns the ids (old, new).
 */
export function generateNextKeyFile(dataDir: string): { previousId: string; currentId: string } {
  const path = join(dataDir, KEY_FILE);
  const old = parseEncryptionKey(readFileSync(path, 'utf8'));
  if (!old) throw new ConfigError([`${path}: does not hold a 32-byte key (base64 or hex); restore it from a backup`]);
  const previous = join(dataDir, PREVIOUS_KEYS_FILE);
  const fd = openSync(previous, 'a', 0o600);
  try {
    writeSync(fd, `${Buffer.from(old).toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  const next = new Uint8Array(randomBytes(32));
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const out = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(out, `${Buffer.from(next).toString('base64')}\n`);
    fsyncSync(out);
  } finally {
    closeSync(out);
  }
  renameSync(temporary, path);
  return { previousId: keyIdOf(old), currentId: keyIdOf(next) };
}

/** The key in the file, undefined if there is none; a file that holds no valid key stops the start. */
function readKeyFile(path: string, log: Logger): Uint8Array | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const key = parseEncryptionKey(text);
  // Never replaced silently: a new key would make every stored secret unreadable.
  if (!key) throw new ConfigError([`${path}: does not hold a 32-byte key (base64 or hex); restore it from a backup`]);
  if ((statSync(path).mode & 0o077) !== 0) log.warn({ path }, 'the encryption key file is readable by other users; chmod 600 it');
  return key;
}

/**
 * Written to a temporary file and hard-linked into place: the key file appears complete or not at
 * all, and if two processes race the first link wins and the second reads that key.
 */
function createKeyFile(path: string): Uint8Array {
  const key = new Uint8Array(randomBytes(32));
  mkdirSync(join(path, '..'), { recursive: true });
  // Random, not the pid: in a container every start is pid 1, and a crash could leave the name taken.
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, 'wx', 0o600);
  try {
    writeSync(fd, `${Buffer.from(key).toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = parseEncryptionKey(readFileSync(path, 'utf8'));
    if (!winner) throw new ConfigError([`${path}: does not hold a 32-byte key (base64 or hex); restore it from a backup`]);
    return winner;
  } finally {
    unlinkSync(temporary);
  }
  return key;
}
