// The uWebSockets.js native binary, loaded directly.
//
// The package's own entry point silently swaps in a slow pure-JS fallback when the binary does not match this
// Node build (or when UWS_USE_FALLBACK is set). We would rather not start than serve every tenant at a fraction
// of the capacity we planned for, so we require the binary ourselves and refuse to run without it.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as UWS from 'uWebSockets.js';

export type HttpResponse = UWS.HttpResponse;
export type HttpRequest = UWS.HttpRequest;
export type TemplatedApp = UWS.TemplatedApp;
export type ListenSocket = UWS.us_listen_socket;

function loadNative(): typeof UWS {
  const refuse = (why: string): Error =>
    new Error(`uWebSockets.js native binary did not load (${why}); refusing to run on the slow JS fallback`);
  if (process.env['UWS_USE_FALLBACK']) throw refuse('UWS_USE_FALLBACK is set');
  const require = createRequire(import.meta.url);
  const binary = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    const pkgDir = dirname(require.resolve('uWebSockets.js/package.json'));
    return require(join(pkgDir, 'binaries', binary)) as typeof UWS;
  } catch (err) {
    throw refuse(`${binary}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export const uws: typeof UWS = loadNative();
