/**
 * The HTTP face of the fake Stripe (node:http): `/v1/*` with Stripe's authentication, idempotency keys,
 * request ids and error envelope, and the hosted pages beside it. Every request is handled to the end
 * synchronously against the engine, so two requests never interleave.
 *
 * Idempotency follows Stripe: a POST with `Idempotency-Key` that succeeded is replayed byte for byte
 * (with `Idempotent-Replayed: true`) for 24 hours; the same key with other parameters or another
 * endpoint is a 400 `idempotency_error`; failed validations are not remembered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { expand, findRoute } from './api.js';
import type { BillingEngine } from './billing.js';
import { DAY_MS } from './clock.js';
import { StripeApiError } from './errors.js';
import { parseParams, Reader } from './form.js';
import { API_VERSION, newId } from './objects.js';
import * as pages from './pages.js';

export interface ServerDeps {
  engine: BillingEngine;
  apiKey: string;
  log: Logger;
  completeCheckout: (id: string, outcome: 'pay' | 'decline' | 'cancel') => { redirect: string | null };
}

interface Remembered {
  fingerprint: string;
  status: number;
  body: string;
  requestId: string;
  atMs: number;
}

export function createStripeServer(deps: ServerDeps): Server {
  const remembered = new Map<string, Remembered>();

  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        handle(req, res, body);
      } catch (error) {
        deps.log.error({ err: error, method: req.method, url: req.url }, 'sandbox stripe: unexpected error');
        if (!res.headersSent) json(res, 500, { error: { message: 'An unknown error occurred', type: 'api_error' } }, {});
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://sandbox.stripe');
    const method = req.method ?? 'GET';
    if (url.pathname.startsWith('/v1/')) return api(req, res, method, url, body);
    const page = /^\/(c\/pay|p\/session|i)\/([^/]+)$/.exec(url.pathname);
    if (!page) return html(res, { status: 404, html: '<!doctype html><title>Not found</title><p>Sandbox Stripe: no such page.</p>' });
    const [, kind, raw] = page;
    const id = decodeURIComponent(raw!);
    const form = new URLSearchParams(body);
    if (kind === 'c/pay') return html(res, method === 'POST' ? pages.checkoutAction(deps.engine, id, form, (outcome) => deps.completeCheckout(id, outcome)) : pages.checkoutPage(deps.engine, id));
    if (kind === 'p/session') return html(res, method === 'POST' ? pages.portalAction(deps.engine, id, form) : pages.portalPage(deps.engine, id));
    return html(res, pages.invoicePage(deps.engine, id));
  }

  function api(req: IncomingMessage, res: ServerResponse, method: string, url: URL, body: string): void {
    const requestId = newId('req');
    const idempotencyKey = method === 'POST' ? (header(req, 'idempotency-key') ?? null) : null;
    const headers: Record<string, string> = { 'Request-Id': requestId, 'Stripe-Version': API_VERSION, ...(idempotencyKey !== null && { 'Idempotency-Key': idempotencyKey }) };
    const fail = (error: StripeApiError) => json(res, error.status, error.toJSON(), headers);

    const authError = authenticate(header(req, 'authorization'));
    if (authError) return fail(authError);

    const found = findRoute(method, url.pathname);
    if (!found) {
      return fail(new StripeApiError(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${url.pathname}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`));
    }

    const fingerprint = `${method} ${url.pathname}?${url.search} ${body}`;
    const nowMs = deps.engine.nowMs();
    if (idempotencyKey !== null) {
      const previous = remembered.get(idempotencyKey);
      if (previous && nowMs - previous.atMs < DAY_MS) {
        if (previous.fingerprint !== fingerprint) {
          return fail(
            new StripeApiError(
              400,
              'idempotency_error',
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            ),
          );
        }
        res.writeHead(previous.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(previous.body), ...headers, 'Request-Id': previous.requestId, 'Idempotent-Replayed': 'true' });
        res.end(previous.body);
        return;
      }
    }

    try {
      // GET and DELETE carry their parameters in the query string; POST in the form body.
      const params = new Reader(parseParams(method === 'POST' ? body : url.search.slice(1)));
      const object = found.handler(deps.engine, { method, path: url.pathname, params, cause: { requestId, idempotencyKey } }, found.id);
      const out = JSON.stringify(expand(deps.engine, object, params.strings('expand')), null, 2);
      if (idempotencyKey !== null) remembered.set(idempotencyKey, { fingerprint, status: 200, body: out, requestId, atMs: nowMs });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out), ...headers });
      res.end(out);
    } catch (error) {
      if (error instanceof StripeApiError) return fail(error);
      throw error;
    }
  }

  function authenticate(authorization: string | undefined): StripeApiError | null {
    if (!authorization) {
      return new StripeApiError(
        401,
        'invalid_request_error',
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      );
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    // Stripe also takes the key as the Basic-auth user name (`curl -u sk_test_…:`).
    const basic = /^Basic\s+(\S+)$/i.exec(authorization)?.[1];
    const key = bearer ?? (basic ? Buffer.from(basic, 'base64').toString('utf8').split(':')[0] : undefined);
    if (key === deps.apiKey) return null;
    const shown = key ? `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}` : '';
    return new StripeApiError(401, 'invalid_request_error', `Invalid API Key provided: ${shown}`);
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function json(res: ServerResponse, status: number, value: unknown, headers: Record<string, string>): void {
  const out = JSON.stringify(value, null, 2);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(out), ...headers });
  res.end(out);
}

function html(res: ServerResponse, page: pages.PageResult): void {
  if (page.location !== undefined) {
    res.writeHead(page.status, { Location: page.location, 'Content-Length': 0, 'Cache-Control': 'no-store' });
    res.end();
    return;
  }
  const out = page.html ?? '';
  res.writeHead(page.status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(out),
    'Cache-Control': 'no-store',
    // The pages have no scripts and no external assets; say so to the browser too.
    'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'",
    'Referrer-Policy': 'no-referrer',
  });
  res.end(out);
}
