/**
 * Password hashing and the password policy.
 *
 * argon2id at OWASP's minimum (19 MiB, t=2, p=1); argon2 runs on libuv's thread pool, off the event
 * loop. A stored hash with older parameters is replaced on the next successful login. The policy is
 * NIST's: 8–128 characters, no composition rules, and not one of the 10,000 most common passwords.
 */
import { readFileSync } from 'node:fs';
import argon2 from 'argon2';

const PARAMS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;

let common: Set<string> | null = null;
function commonPasswords(): Set<string> {
  common ??= new Set(readFileSync(new URL('./data/common-passwords.txt', import.meta.url), 'utf8').split('\n').filter(Boolean));
  return common;
}

/** Why a password is refused, or null when it is acceptable. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `must be at least ${PASSWORD_MIN} characters`;
  if (length > PASSWORD_MAX) return `must be at most ${PASSWORD_MAX} characters`;
  if (commonPasswords().has(password.toLowerCase())) return 'is one of the most common passwords; choose another';
  return null;
}

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PARAMS);
}

export interface Verification {
  ok: boolean;
  /** A replacement hash when the stored one used older parameters. */
  rehash?: string;
}

export async function verifyPassword(hash: string, password: string): Promise<Verification> {
  let ok = false;
  try {
    ok = await argon2.verify(hash, password);
  } catch {
    return { ok: false };
  }
  if (!ok) return { ok };
  return argon2.needsRehash(hash, PARAMS) ? { ok, rehash: await hashPassword(password) } : { ok };
}

let dummy: Promise<string> | null = null;
/** Costs one verification against nothing, so an unknown email takes as long as a wrong password. */
export async function dummyVerify(password: string): Promise<void> {
  dummy ??= hashPassword('dummy password that matches nothing');
  await argon2.verify(await dummy, password).catch(() => false);
}
