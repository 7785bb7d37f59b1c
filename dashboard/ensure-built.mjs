// Builds the cloud web app (npm run build:cloud) when it is missing or older than its sources, so that
// `npm start` and `npm test` on a fresh checkout serve real pages. A current build costs one directory walk.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const built = join(here, 'build/cloud/200.html');
// Everything the build reads: the app, its config, and the product files it renders at build time.
const sources = ['src', 'static', 'svelte.config.js', 'vite.config.ts', '../supervisor/billing/plans.ts', '../.env.example', '../package-lock.json'].map((p) => join(here, p));

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const current = () => (existsSync(built) ? statSync(built).mtimeMs : 0) >= Math.max(...sources.map(newest));
if (current()) process.exit(0);

// Test files run in parallel and each may find the build stale: one builds, the others wait for it.
const lock = join(here, 'build/.building');
mkdirSync(join(here, 'build'), { recursive: true });
const deadline = Date.now() + 5 * 60_000;
for (;;) {
  try {
    mkdirSync(lock);
    break;
  } catch {
    if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
    else await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
let status = 0;
try {
  if (!current()) {
    console.error(existsSync(built) ? 'The web app is older than its sources: rebuilding it (npm run build:cloud)…' : 'The web app is not built yet: building it (npm run build:cloud, about a minute)…');
    // The build's own chatter goes to stderr, so a caller's stdout (tap's TAP stream) stays clean.
    status = spawnSync('npm', ['run', 'build:cloud'], { cwd: join(here, '..'), stdio: ['ignore', process.stderr, 'inherit'] }).status ?? 1;
  }
} finally {
  rmSync(lock, { recursive: true, force: true });
}
process.exit(status);
