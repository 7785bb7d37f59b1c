// The headers every response carries unless its handler set that header itself.
//
// The API serves JSON, not documents, so the defaults are the strictest that still work for it: no framing, no
// sniffing, no resources of its own (CSP default-src 'none'). Routes that serve the dashboard's HTML override CSP.
// HSTS is opt-in: only a deployment that is known to sit behind HTTPS may promise browsers it always will.
//
// They are the same on every response, so they are built once: the response path (exchange.ts) asks
// `securityHeaders` for the pairs a reply still needs, which for the common reply (a handler that set only
// Content-Type) is one of four frozen lists, with no per-response object, Set or lower-casing of the defaults.
import { JSON_CONTENT_TYPE } from './reply.js';

export interface SecurityHeaderOptions {
  hsts?: boolean;
}

export type HeaderPair = readonly [name: string, value: string];

const DEFAULTS: readonly HeaderPair[] = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'strict-origin-when-cross-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
];
const HSTS: HeaderPair = ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'];
const NO_STORE: HeaderPair = ['Cache-Control', 'no-store'];

const freeze = (pairs: HeaderPair[]): readonly HeaderPair[] => Object.freeze(pairs.map((pair) => Object.freeze(pair)));
/**
 * Indexed by (hsts ? 1 : 0) | (json ? 2 : 0): the defaults when the handler overrode none of them. Exported so the
 * wire can encode these lists once.
 */
export const FULL_SECURITY_HEADERS: readonly (readonly HeaderPair[])[] = [
  freeze([...DEFAULTS]),
  freeze([...DEFAULTS, HSTS]),
  freeze([...DEFAULTS, NO_STORE]),
  freeze([...DEFAULTS, HSTS, NO_STORE]),
];

/** What a handler's own headers say, as far as the defaults are concerned. */
export interface SetHeaders {
  /** Bit i set: the handler set DEFAULTS[i] (HSTS is bit DEFAULTS.length, Cache-Control the next). */
  overridden: number;
  /** The handler's Content-Type, if it set one. */
  contentType: string | undefined;
}

const BIT = new Map<string, number>([
  ...DEFAULTS.map(([name], i) => [name.toLowerCase(), 1 << i] as const),
  [HSTS[0].toLowerCase(), 1 << DEFAULTS.length],
  [NO_STORE[0].toLowerCase(), 1 << (DEFAULTS.length + 1)],
]);

/** The bit of a lower-cased header name among the defaults, 0 if it is not one of them. */
export function defaultBit(lowerName: string): number {
  return BIT.get(lowerName) ?? 0;
}

/**
 * The default pairs a reply still needs, given what its handler set (compared case-insensitively).
 * JSON responses also get `Cache-Control: no-store`: they are per-user API data, never shared-cacheable.
 */
export function securityHeaders(set: SetHeaders, options: SecurityHeaderOptions = {}): readonly HeaderPair[] {
  const json = set.contentType !== undefined && isJson(set.contentType);
  const full = FULL_SECURITY_HEADERS[(options.hsts ? 1 : 0) | (json ? 2 : 0)]!;
  if (set.overridden === 0) return full;
  return full.filter(([name]) => (set.overridden & BIT.get(name.toLowerCase())!) === 0);
}

/** The handler's headers plus the defaults it did not set, as one object (for callers outside the hot path). */
export function withSecurityHeaders(
  headers: Record<string, string> | undefined,
  options: SecurityHeaderOptions = {},
): Record<string, string> {
  const out: Record<string, string> = { ...headers };
  const set: SetHeaders = { overridden: 0, contentType: undefined };
  for (const [name, value] of Object.entries(out)) {
    const lower = name.toLowerCase();
    set.overridden |= defaultBit(lower);
    if (lower === 'content-type') set.contentType ??= value;
  }
  for (const [name, value] of securityHeaders(set, options)) out[name] = value;
  return out;
}

function isJson(contentType: string): boolean {
  if (contentType === JSON_CONTENT_TYPE) return true;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}
