/**
 * The web app on the API's own port: the public pages (prerendered HTML), the `/dashboard/*` client app (one
 * fallback page whatever the depth), and the hashed assets, from the build held in memory (./site.ts).
 *
 * These are catch-all routes, so the router still prefers every real route (a literal beats the wildcard at each
 * segment); the server's own prefixes are never the app's, and an unknown path under them gets the same JSON
 * 404 as before. Elsewhere a browser asking for a page that does not exist gets the app's 404 page, a script
 * gets JSON. Without a build the server still runs, says so at start, and answers pages with how to build it.
 */
import type { Logger } from 'pino';
import { errorReply } from '../http/errors.js';
import type { Reply } from '../http/reply.js';
import type { Router } from '../http/router.js';
import type { Handler, RequestContext } from '../http/server.js';
import { defaultSiteDir, loadSite, negotiate, type Asset, type Site } from './site.js';

export interface WebOptions {
  log: Logger;
  /** The cloud build; default dashboard/build/cloud. */
  dir?: string;
}

/** The server's own namespaces: never answered with a page. */
const SERVER_PREFIXES = /^\/(api|auth|webhooks|healthz|readyz|metrics|dev)(\/|$)/;
const APP_PREFIX = /^\/dashboard(\/|$)/;
const OTHER_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export function addWebRoutes(router: Router<Handler>, options: WebOptions): { site: Site | null } {
  const dir = options.dir ?? defaultSiteDir();
  const site = loadSite(dir);
  if (site) options.log.info({ dir, files: site.assets.size }, 'serving the web app');
  else options.log.warn({ dir }, 'the web app is not built: pages answer with how to build it (npm run build:cloud)');

  router.add('GET', '/*', (ctx) => {
    const path = ctx.path;
    if (SERVER_PREFIXES.test(path)) return unmatched(router, ctx);
    if (!site) return wantsHtml(ctx) ? notBuilt(dir) : notFound(ctx);
    const asset = site.assets.get(path);
    if (asset) return send(ctx, asset, 200);
    if (APP_PREFIX.test(path)) return send(ctx, site.fallback, 200);
    if (path.length > 1 && path.endsWith('/') && site.assets.has(path.replace(/\/+$/, ''))) {
      return { status: 308, headers: { Location: path.replace(/\/+$/, '') } };
    }
    // The client app renders its own "page not found" for a path it has no route for.
    return wantsHtml(ctx) ? send(ctx, site.fallback, 404) : notFound(ctx);
  });

  // Without these, a POST to an unknown path would match only the GET wildcard and be answered 405.
  for (const method of OTHER_METHODS) router.add(method, '/*', (ctx) => unmatched(router, ctx));
  return { site };
}

/**
 * What the router answered before these wildcards existed: 405 with the Allow list when the path is a route
 * under other methods (the wildcards would otherwise hide that), 404 otherwise.
 */
function unmatched(router: Router<Handler>, ctx: RequestContext): Reply {
  const allow = ['GET', ...OTHER_METHODS].filter((method) => {
    if (method === ctx.method) return false;
    const match = router.match(method, ctx.path);
    return match.kind === 'found' && match.pattern !== '/*';
  });
  if (allow.length === 0) return notFound(ctx);
  if (allow.includes('GET')) allow.push('HEAD');
  const reply = errorReply(405, 'method_not_allowed', `${ctx.method} is not allowed here`);
  return { ...reply, headers: { ...reply.headers, Allow: allow.sort().join(', ') } };
}

function notFound(ctx: RequestContext): Reply {
  return errorReply(404, 'not_found', `no route for ${ctx.method} ${ctx.path}`);
}

function wantsHtml(ctx: RequestContext): boolean {
  return (ctx.headers['accept'] ?? '').includes('text/html');
}

function send(ctx: RequestContext, asset: Asset, status: number): Reply {
  // A 304 carries the page's own headers: browsers update the cached response's headers from it, and the server's
  // API default (CSP default-src 'none') on a 304 would block the cached page's scripts and styles.
  if (status === 200 && ctx.headers['if-none-match'] === asset.etag) return { status: 304, headers: asset.headers };
  const { body, encoding } = negotiate(asset, ctx.headers['accept-encoding']);
  const headers = encoding === 'identity' ? asset.headers : { ...asset.headers, 'Content-Encoding': encoding };
  return { status, headers: status === 200 ? headers : { ...headers, 'Cache-Control': 'no-store' }, body };
}

function notBuilt(dir: string): Reply {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>TuitBot: the web app is not built</title>
<style>body{font:16px/1.5 system-ui,sans-serif;background:#0f1117;color:#e6edf3;max-width:40rem;margin:10vh auto;padding:0 1rem}code{background:#161b22;padding:2px 6px;border-radius:4px}</style></head>
<body><h1>The web app is not built</h1><p>The server is running and its API answers, but the pages of the web app were not found in
<code>${dir.replace(/[<>&"]/g, '')}</code>.</p><p>Build them with <code>npm run build:cloud</code> (about a minute) and reload this page.
<code>npm start</code> does this for you when the build is missing.</p></body></html>`;
  return { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'" }, body: html };
}
