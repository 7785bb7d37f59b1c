// Builds the cloud web app (npm run build:cloud) when it is missing or older than its sources, so that
// `npm start` and `npm test` on a fresh checkout serve real pages. A current build costs one directory walk.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
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

const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
const changedAt = Math.max(...sources.map(newest));
if (builtAt >= changedAt) process.exit(0);
console.log(builtAt === 0 ? 'The web app is not built yet: building it (npm run build:cloud, about a minute)…' : 'The web app is older than its sources: rebuilding it (npm run build:cloud)…');
const result = spawnSync('npm', ['run', 'build:cloud'], { cwd: join(here, '..'), stdio: 'inherit' });
process.exit(result.status ?? 1);
