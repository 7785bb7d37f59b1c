import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { uws } from '../../../supervisor/http/uws.js';

const modulePath = fileURLToPath(new URL('../../../supervisor/http/uws.ts', import.meta.url));

t.test('the native uWS binary is loaded, not the JS fallback', async (t) => {
  t.type(uws.App, 'function');
  // The JS fallback (dist/index.js) exports only _cfg, App and two socket helpers; getParts is native-only.
  t.type((uws as unknown as Record<string, unknown>)['getParts'], 'function');
});

t.test('UWS_USE_FALLBACK makes loading fail loudly instead of running slow', async (t) => {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `await import(${JSON.stringify(modulePath)})`],
    { env: { ...process.env, UWS_USE_FALLBACK: '1' }, encoding: 'utf8', cwd: fileURLToPath(new URL('../../..', import.meta.url)) },
  );
  t.not(run.status, 0);
  t.match(run.stderr, /uWebSockets\.js native binary did not load \(UWS_USE_FALLBACK is set\); refusing to run on the slow JS fallback/);
});
