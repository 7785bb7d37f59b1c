// The headers every response carries unless its handler set that header itself.
//
// The API serves JSON, not documents, so the defaults are the strictest that still work for it: no framing, no
// sniffing, no resources of its own (CSP default-src 'none'). Routes that serve the dashboard's HTML override CSP.
// HSTS is opt-in: only a deployment that is known to sit behind HTTPS may promise browsers it always will.

export interface SecurityHeaderOptions {
  hsts?: boolean;
}

const DEFAULTS: ReadonlyArray<readonly [string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-Frame-Options', 'DENY'],
  ['Referrer-Policy', 'strict-origin-when-cross-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
];

const HSTS = ['Strict-Transport-Security', 'max-age=31536000; includeSubDomains'] as const;

/**
 * Returns the handler's headers plus the defaults it did not set, compared case-insensitively.
 * JSON responses also get `Cache-Control: no-store`: they are per-user API data, never shared-cacheable.
 */
export function withSecurityHeaders(
  headers: Record<string, string> | undefined,
  options: SecurityHeaderOptions = {},
): Record<string, string> {
  const out: Record<string, string> = { ...headers };
  const present = new Set(Object.keys(out).map((name) => name.toLowerCase()));
  const add = (name: string, value: string): void => {
    if (!present.has(name.toLowerCase())) out[name] = value;
  };
  for (const [name, value] of DEFAULTS) add(name, value);
  if (options.hsts) add(HSTS[0], HSTS[1]);
  const contentType = Object.entries(out).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
  if (contentType !== undefined && isJson(contentType)) add('Cache-Control', 'no-store');
  return out;
}

function isJson(contentType: string): boolean {
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}
