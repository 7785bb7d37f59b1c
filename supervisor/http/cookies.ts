// Cookie header parsing and Set-Cookie serialisation over the `cookie` package, with safe defaults:
// HttpOnly, SameSite=Lax and Path=/ unless a caller deliberately loosens them. Secure is an explicit option
// because self-hosters may run plain HTTP on localhost, where a Secure cookie would never come back.
import { parseCookie, stringifySetCookie } from 'cookie';

export interface CookieOptions {
  secure?: boolean;
  httpOnly?: boolean;
  sameSite?: 'lax' | 'strict' | 'none';
  path?: string;
  domain?: string;
  /** Seconds; 0 deletes the cookie. */
  maxAge?: number;
  expires?: Date;
}

export function parseCookies(header?: string): Record<string, string> {
  // Null prototype so a cookie named "__proto__" or "constructor" is just data.
  const out: Record<string, string> = Object.create(null);
  if (!header) return out;
  for (const [name, value] of Object.entries(parseCookie(header))) {
    if (value !== undefined) out[name] = value;
  }
  return out;
}

export function serializeCookie(name: string, value: string, options: CookieOptions = {}): string {
  const sameSite = options.sameSite ?? 'lax';
  return stringifySetCookie(name, value, {
    httpOnly: options.httpOnly ?? true,
    sameSite,
    path: options.path ?? '/',
    // Browsers drop SameSite=None cookies that are not Secure, so None implies Secure.
    secure: options.secure === true || sameSite === 'none',
    ...(options.domain !== undefined && { domain: options.domain }),
    ...(options.maxAge !== undefined && { maxAge: options.maxAge }),
    ...(options.expires !== undefined && { expires: options.expires }),
  });
}
