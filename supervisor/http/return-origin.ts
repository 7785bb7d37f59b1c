// Where a flow the server finishes (GitHub login, Connect X, the Stripe checkout and portal) sends the browser at
// the end: the server's own pages, or the page of the same name on the trusted origin that started it (the desktop
// build, TRUSTED_ORIGINS).
//
// The origin comes from the request that starts the flow: a navigation names it in `?return_to=<origin>` (a
// top-level GET carries no Origin header, and its Referer depends on the referrer policy of whoever serves the
// app), a fetch is known by its Origin header (set by the browser, so no script can claim another). It must be one
// of TRUSTED_ORIGINS exactly: a `return_to` naming anything else is refused with 400 before the flow starts, never
// followed, so this is no open redirect. The flow keeps it with its own state and asks `recall` again at the end, so
// a tampered or stale value (a cookie another port of the host set, a list changed by a restart) is dropped too.
import * as v from 'valibot';
import { HttpError } from './errors.js';

export const RETURN_TO = 'return_to';

/** The parameter as the OpenAPI document describes it (the check itself is `requested`: exact list membership). */
export const ReturnToQuery = v.object({
  [RETURN_TO]: v.optional(v.pipe(v.string(), v.url(), v.description('An origin listed in TRUSTED_ORIGINS (the desktop app) to end the flow on, e.g. http://127.0.0.1:5173.'))),
});

export class ReturnOrigins {
  readonly #trusted: ReadonlySet<string>;

  constructor(trustedOrigins: readonly string[]) {
    this.#trusted = new Set(trustedOrigins);
  }

  /** A navigation's `?return_to`: null when absent, the origin when trusted, 400 `invalid_request` otherwise. */
  requested(query: URLSearchParams): string | null {
    const values = query.getAll(RETURN_TO);
    if (values.length === 0) return null;
    if (values.length === 1 && this.#trusted.has(values[0]!)) return values[0]!;
    throw new HttpError(400, 'invalid_request', 'The app to return to is not one this server trusts.', {
      [RETURN_TO]: values.length > 1 ? 'must be given once' : 'must be an origin listed in TRUSTED_ORIGINS, exactly',
    });
  }

  /** A fetch's Origin when it is a trusted one (the desktop app), else null: the server's own pages. */
  ofFetch(headers: Record<string, string>): string | null {
    return this.recall(headers['origin']);
  }

  /** A stored origin checked again at the end of the flow: itself when still trusted, else null. */
  recall(stored: string | null | undefined): string | null {
    return stored !== null && stored !== undefined && this.#trusted.has(stored) ? stored : null;
  }
}

/** Nothing trusted: every flow ends on the server's pages (the default of route modules' deps). */
export const NO_RETURN_ORIGINS = new ReturnOrigins([]);
