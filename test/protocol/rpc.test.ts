import t from 'tap';
import { PendingRequests, RemoteError, itemsOfBatch } from '../../protocol/index.js';

t.test('create builds a request with a fresh id and a deadline timeoutMs from now', async (t) => {
  const pending = new PendingRequests();
  const before = Date.now();
  const first = pending.create('ping', undefined, 5_000);
  const second = pending.create('settings.get', { key: 'a' }, 1_000);
  t.match(first.message, { type: 'request', id: 1, method: 'ping', params: undefined });
  t.match(second.message, { type: 'request', id: 2, method: 'settings.get', params: { key: 'a' } });
  t.ok(first.message.deadline >= before + 5_000 && first.message.deadline <= Date.now() + 5_000);
  t.equal(pending.size, 2);
  pending.failAll(new Error('cleanup'));
  await Promise.allSettled([first.result, second.result]);
});

t.test('settle resolves an ok response with its result and forgets the entry', async (t) => {
  const pending = new PendingRequests();
  const { message, result } = pending.create('ping', undefined, 5_000);
  t.ok(pending.settle({ type: 'response', id: message.id, ok: true, result: { pong: 1 } }));
  t.same(await result, { pong: 1 });
  t.equal(pending.size, 0);
  t.notOk(pending.settle({ type: 'response', id: message.id, ok: true }), 'a second answer to the same id is refused');
});

t.test('settle rejects a failed response with a RemoteError carrying code, message and fields', async (t) => {
  const pending = new PendingRequests();
  const { message, result } = pending.create('settings.put', {}, 5_000);
  t.ok(
    pending.settle({
      type: 'response',
      id: message.id,
      ok: false,
      error: { code: 'invalid_params', message: 'bad params', fields: { key: 'Invalid format' } },
    }),
  );
  const error = await result.then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(error, RemoteError);
  t.match(error, { name: 'RemoteError', code: 'invalid_params', message: 'bad params', fields: { key: 'Invalid format' } });
  t.same((error as RemoteError).toBody(), { code: 'invalid_params', message: 'bad params', fields: { key: 'Invalid format' } });
  t.same(new RemoteError('x', 'y').toBody(), { code: 'x', message: 'y' }, 'a body without fields has no fields key');
  t.equal(pending.size, 0);
});

t.test('settle returns false for an unknown id and leaves others pending', async (t) => {
  const pending = new PendingRequests();
  const { message, result } = pending.create('ping', undefined, 5_000);
  t.notOk(pending.settle({ type: 'response', id: message.id + 100, ok: true }));
  t.equal(pending.size, 1);
  pending.settle({ type: 'response', id: message.id, ok: true, result: 'late but fine' });
  t.equal(await result, 'late but fine');
});

t.test('a request not answered before its deadline rejects with deadline_exceeded and is forgotten', async (t) => {
  const pending = new PendingRequests();
  const { message, result } = pending.create('slow', undefined, 30);
  const started = Date.now();
  await t.rejects(result, { name: 'RemoteError', code: 'deadline_exceeded', message: /"slow" within 30 ms/ });
  t.ok(Date.now() - started >= 25, 'not before the timeout');
  t.equal(pending.size, 0);
  t.notOk(pending.settle({ type: 'response', id: message.id, ok: true }), 'a late answer is refused');
});

t.test('fail rejects one request; failAll rejects every pending request', async (t) => {
  const pending = new PendingRequests();
  const a = pending.create('a', undefined, 5_000);
  const b = pending.create('b', undefined, 5_000);
  const c = pending.create('c', undefined, 5_000);
  const malformed = new RemoteError('protocol_error', 'The tenant sent a malformed answer.');
  pending.fail(a.message.id, malformed);
  await t.rejects(a.result, malformed);
  t.equal(pending.size, 2);
  pending.fail(999, new Error('nobody'));
  t.equal(pending.size, 2, 'failing an unknown id changes nothing');

  const crashed = new RemoteError('tenant_crashed', 'crashed');
  pending.failAll(crashed);
  await t.rejects(b.result, crashed);
  await t.rejects(c.result, crashed);
  t.equal(pending.size, 0);
  t.notOk(pending.settle({ type: 'response', id: b.message.id, ok: true }));
});

t.test('itemsOfBatch unpacks only a batch of the named type, for one-by-one judging', async (t) => {
  t.same(itemsOfBatch({ type: 'requests', requests: [1, { id: 2 }] }, 'requests'), [1, { id: 2 }]);
  t.same(itemsOfBatch({ type: 'responses', responses: [] }, 'responses'), []);
  t.equal(itemsOfBatch({ type: 'responses', responses: [1] }, 'requests'), undefined, 'another batch type');
  t.equal(itemsOfBatch({ type: 'requests', requests: 'no' }, 'requests'), undefined, 'not an array');
  t.equal(itemsOfBatch({ type: 'request', id: 1 }, 'requests'), undefined, 'a single message');
  t.equal(itemsOfBatch(null, 'requests'), undefined);
  t.equal(itemsOfBatch('requests', 'requests'), undefined);
});
