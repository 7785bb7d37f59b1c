/**
 * The built web app (`npm run build:cloud` → dashboard/build/cloud) held in memory, ready to send.
 *
 * The build is a few hundred kilobytes, so every file is read once at start with everything a response needs
 * worked out ahead: its content type, caching rule, ETag, a gzip and a brotli body (the build's precompressed
 * siblings, or compressed here with node:zlib), and, for HTML, a Content-Security-Policy that allows exactly the
 * page's own inline scripts by hash (SvelteKit's hydration bootstrap and the theme script) and nothing inline
 * else. Requests only ever look up this map: no path ever reaches the file system, so there is nothing to
 * traverse.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

export type Encoding = 'br' | 'gzip' | 'identity';

export interface Asset {
  body: Buffer;
  br: Buffer | null;
  gzip: Buffer | null;
  headers: Record<string, string>;
  etag: string;
}

export interface Site {
  dir: string;
  /** URL path (`/`, `/pricing`, `/_app/immutable/…`) → asset. */
  assets: Map<string, Asset>;
  /** The client app's entry for /dashboard/* (SvelteKit's SPA fallback page). */
  fallback: Asset;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.webmanifest': 'application/manifest+json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.svg', '.txt', '.webmanifest']);
// Below this, compression saves less than its headers cost.
const MIN_COMPRESS_BYTES = 1024;

/** Hashed file names never change content: cached for a year. HTML must pick up a deploy at once. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
const SHORT = 'public, max-age=3600';

const FALLBACK_FILE = '200.html';

/** The default build location, next to the sources (tsx) or next to dist/ (compiled). */
export function defaultSiteDir(): string {
  const candidates = ['../../dashboard/build/cloud', '../../../dashboard/build/cloud'].map((path) => fileURLToPath(new URL(path, import.meta.url)));
  return candidates.find((dir) => existsSync(join(dir, FALLBACK_FILE))) ?? candidates[0]!;
}

/** Reads a build into memory; null when there is none (no fallback page). */
export function loadSite(dir: string): Site | null {
  if (!existsSync(join(dir, FALLBACK_FILE))) return null;
  const assets = new Map<string, Asset>();
  for (const file of walk(dir)) {
    const ext = extname(file);
    if (ext === '.gz' || ext === '.br') continue;
    const path = relative(dir, file).split(sep).join('/');
    assets.set(urlPathOf(path), loadAsset(file, path));
  }
  const fallback = assets.get(urlPathOf(FALLBACK_FILE))!;
  // The fallback is reached through /dashboard/*, never by its file name.
  assets.delete(urlPathOf(FALLBACK_FILE));
  return { dir, assets, fallback };
}

/** `index.html` → `/`, `docs/api.html` → `/docs/api`, anything else keeps its name. */
function urlPathOf(path: string): string {
  if (path === 'index.html') return '/';
  if (path.endsWith('/index.html')) return `/${path.slice(0, -'/index.html'.length)}`;
  if (path.endsWith('.html')) return `/${path.slice(0, -'.html'.length)}`;
  return `/${path}`;
}

function loadAsset(file: string, path: string): Asset {
  const ext = extname(file);
  const body = readFileSync(file);
  const compressible = COMPRESSIBLE.has(ext) && body.length >= MIN_COMPRESS_BYTES;
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  const headers: Record<string, string> = {
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Cache-Control': path.startsWith('_app/immutable/') ? IMMUTABLE : ext === '.html' ? REVALIDATE : SHORT,
    ETag: etag,
    Vary: 'Accept-Encoding',
  };
  if (ext === '.html') {
    headers['Content-Security-Policy'] = pageCsp(body.toString('utf8'));
    // Mailed links carry tokens in the URL (?token=): never pass them on to another site.
    headers['Referrer-Policy'] = 'no-referrer';
  }
  return {
    body,
    br: compressible ? (readIfExists(`${file}.br`) ?? brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })) : null,
    gzip: compressible ? (readIfExists(`${file}.gz`) ?? gzipSync(body, { level: 9 })) : null,
    headers,
    etag,
  };
}

/**
 * The page's policy: its own inline scripts by SHA-256, everything else from this origin only. Styles may be
 * inline (Svelte transitions and style: directives write style attributes).
 */
export function pageCsp(html: string): string {
  const hashes = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)].map(
    (match) => `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`,
  );
  return [
    "default-src 'self'",
    `script-src 'self' ${hashes.join(' ')}`.trim(),
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: https:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The smallest body the client accepts. */
export function negotiate(asset: Asset, acceptEncoding: string | undefined): { body: Buffer; encoding: Encoding } {
  const accepts = (name: string) => acceptEncoding !== undefined && new RegExp(`(^|[\\s,])${name}(?!;q=0(\\.0*)?(\\s|,|$))`).test(acceptEncoding);
  if (asset.br && accepts('br')) return { body: asset.br, encoding: 'br' };
  if (asset.gzip && accepts('gzip')) return { body: asset.gzip, encoding: 'gzip' };
  return { body: asset.body, encoding: 'identity' };
}

function readIfExists(file: string): Buffer | null {
  return existsSync(file) ? readFileSync(file) : null;
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
