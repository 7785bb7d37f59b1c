/**
 * The container-equivalent smoke test (scripts/smoke-container.sh): the Dockerfile's build and runtime steps
 * replayed in a clean temporary directory, the server started as the image starts it, and checked over HTTP.
 * Each "ok - …" / "not ok - …" line of the script becomes one assertion here.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// The replay builds the server and the dashboard: minutes on a busy 2-core machine, not the suite's 2.
t.setTimeout(15 * 60_000);

const script = fileURLToPath(new URL('../../scripts/smoke-container.sh', import.meta.url));

t.test('the image, replayed: built, started, healthy, ready, and a signup works', async (t) => {
  // A black box: tap's coverage hooks (NODE_OPTIONS) and settings stay out of the builds and servers it runs.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'NODE_OPTIONS' && !name.startsWith('TAP')));
  const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));

  const results = [...output.matchAll(/^(ok|not ok) - (.*)$/gm)];
  for (const [, verdict, name] of results) t.ok(verdict === 'ok', name!);
  t.ok(results.length >= 15, `every check ran (${results.length} reported)`);
  t.equal(status, 0, 'the script passed');
  if (status !== 0) t.comment(output.slice(-6000));
});
