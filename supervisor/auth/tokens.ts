/**
 * Random tokens and their stored form. Every token we hand out carries at least 128 random bits
 * and is stored only as its SHA-256, so a copy of the database lets nobody log in or reset anything.
 */
import { sha256 } from '@oslojs/crypto/sha2';
import { constantTimeEqual } from '@oslojs/crypto/subtle';
import { encodeBase32LowerCaseNoPadding } from '@oslojs/encoding';
import { randomBytes } from 'node:crypto';

/** 20 random bytes (160 bits) in lower-case base32: URL- and cookie-safe, 32 characters. */
export function randomToken(bytes = 20): string {
  return encodeBase32LowerCaseNoPadding(randomBytes(bytes));
}

export function hashToken(token: string): Uint8Array {
  return sha256(new TextEncoder().encode(token));
}

export function hashesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && constantTimeEqual(a, b);
}
