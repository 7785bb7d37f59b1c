// CORS for the origins the operator named in TRUSTED_ORIGINS (the desktop build served by a local shell), and for
// no one else.
//
// Only /api/* and /auth/* take part: the other paths (pages, webhooks, /metrics, /dev) are never fetched by another
// origin's script. For a trusted Origin a response gets `Access-Control-Allow-Origin: <that origin>` with
// credentials; every response on those paths gets `Vary: Origin` once any origin is trusted, because what a cache
// may hand to whom then depends on it (media is `private, max-age`). An untrusted origin gets no CORS header at all,
// and its preflight is answered 403 `cross_origin` so the refusal is visible in the network panel rather than a
// silent failure. The CSRF check (RequestAuth.checkOrigin) and the WebSocket handshake consult the same list.
import { errorReply } from './errors.js';
import type { Reply } from './reply.js';

const CORS_PATH = /^\/(api|auth)(\/|$)/;
const ALLOW_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
const ALLOW_HEADERS = 'content-type, authorization, accept';
/** Seconds a browser may reuse a preflight answer (Chromium caps it at 7200). */
const PREFLIGHT_MAX_AGE = '600';

export class CorsPolicy {
  readonly #origins: ReadonlySet<string>;
  /** The response headers per trusted origin, made once. */
  readonly #headers = new Map<string, Readonly<Record<string, string>>>();

  constructor(origins: readonly string[]) {
    this.#origins = new Set(origins);
    for (const origin of origins) {
      this.#headers.set(origin, Object.freeze({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' }));
    }
  }

  /** Whether `origin` (a request's Origin header, exactly) is one the operator trusts. */
  trusts(origin: string | undefined): boolean {
    return origin !== undefined && this.#origins.has(origin);
  }

  /**
   * The answer to a CORS preflight (OPTIONS with Origin and Access-Control-Request-Method on /api or /auth), or
   * undefined when the request is not one and goes to the router as usual.
   */
  preflight(method: string, path: string, headers: Record<string, string>): Reply | undefined {
    if (method !== 'OPTIONS' || !CORS_PATH.test(path)) return undefined;
    const origin = headers['origin'];
    if (origin === undefined || headers['access-control-request-method'] === undefined) return undefined;
    if (!this.trusts(origin)) {
      const refused = errorReply(403, 'cross_origin', 'This origin may not use the TuitBot API from a browser (see TRUSTED_ORIGINS).');
      return { ...refused, headers: { ...refused.headers, Vary: 'Origin' } };
    }
    return {
      status: 204,
      headers: {
        ...this.#headers.get(origin),
        'Access-Control-Allow-Methods': ALLOW_METHODS,
        'Access-Control-Allow-Headers': ALLOW_HEADERS,
        'Access-Control-Max-Age': PREFLIGHT_MAX_AGE,
      },
    };
  }

  /** `reply` with the CORS headers this request's path and Origin call for (the same object when none apply). */
  apply(reply: Reply, path: string, origin: string | undefined): Reply {
    if (!CORS_PATH.test(path)) return reply;
    // A new object: a handler's headers may be shared (and frozen) between replies.
    const headers: Record<string, string> = {};
    let vary = 'Origin';
    for (const [name, value] of Object.entries(reply.headers ?? {})) {
      if (name.toLowerCase() !== 'vary') headers[name] = value;
      else if (!/(^|,)\s*(origin|\*)\s*(,|$)/i.test(value)) vary = `${value}, Origin`;
      else vary = value;
    }
    const cors = origin === undefined ? undefined : this.#headers.get(origin);
    return { ...reply, headers: { ...headers, ...cors, Vary: vary } };
  }
}
