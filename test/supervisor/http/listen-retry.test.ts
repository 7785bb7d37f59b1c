// A fixed port still held by the previous run's closing connections is retried until it frees (with one warning),
// a port that stays busy fails at the deadline with the listener's own error, and port 0 never waits.
import t from 'tap';
import { listenWithRetry } from '../../../supervisor/http/listen-retry.js';

function busyFor(failures: number) {
  let calls = 0;
  return {
    calls: () => calls,
    listen: async () => {
      calls += 1;
      if (calls <= failures) throw new Error('could not listen on 127.0.0.1:3001');
      return 3001;
    },
  };
}

function recorder() {
  const lines: string[] = [];
  return { lines, log: { warn: (_fields: object, msg: string) => void lines.push(msg) } };
}

t.test('a port that frees after a while is listened on, with a warning while waiting and one when it frees', async (t) => {
  const port = busyFor(3);
  const { lines, log } = recorder();
  const started = Date.now();
  t.equal(await listenWithRetry(port.listen, { host: '127.0.0.1', port: 3001 }, log as never, 5_000), 3001);
  t.equal(port.calls(), 4, 'three refusals, then the listen');
  t.ok(Date.now() - started >= 3 * 250 - 20, 'spaced out, not a busy loop');
  t.equal(lines.length, 2);
  t.match(lines[0], /the port is busy: retrying/);
  t.match(lines[1], /free again/);
});

t.test('a port that stays busy fails at the deadline with the listener\'s error', async (t) => {
  const port = busyFor(Infinity);
  const { lines, log } = recorder();
  const started = Date.now();
  await t.rejects(listenWithRetry(port.listen, { host: '127.0.0.1', port: 3001 }, log as never, 1_000), /could not listen on 127\.0\.0\.1:3001/);
  t.ok(Date.now() - started >= 1_000, 'it waited the whole deadline');
  t.ok(port.calls() >= 4 && port.calls() <= 6, `about one attempt per 250 ms (${port.calls()})`);
  t.equal(lines.length, 1, 'one warning, not one per attempt');
});

t.test('port 0 (any free port) fails at once: nothing to wait for', async (t) => {
  const port = busyFor(Infinity);
  const { lines, log } = recorder();
  await t.rejects(listenWithRetry(port.listen, { host: '127.0.0.1', port: 0 }, log as never, 60_000));
  t.equal(port.calls(), 1);
  t.same(lines, []);
});
