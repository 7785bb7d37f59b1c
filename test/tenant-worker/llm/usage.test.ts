// The LLM price table and the usage summary the costs API will show: per day in the tenant's time
// zone, per model, per purpose, with failures and unpriced calls counted apart.
import t from 'tap';
import type { LlmCall } from '../../../tenant-worker/llm/client.js';
import { costOf, priceOf } from '../../../tenant-worker/llm/pricing.js';
import { llmHarness } from '../../helpers/llm.js';

t.test('prices per model, dated snapshots included; unknown and OpenAI-compatible models cost 0 and are flagged', async (t) => {
  t.same(costOf('openai', 'gpt-4o-mini', 1_000_000, 1_000_000), { costMicros: 750_000, priced: true });
  t.same(costOf('openai', 'gpt-4o-2024-08-06', 1000, 100), { costMicros: 3500, priced: true });
  t.same(costOf('anthropic', 'claude-sonnet-4-5-20250929', 1000, 100), { costMicros: 4500, priced: true });
  t.same(costOf('anthropic', 'claude-3-5-haiku-latest', 1000, 1000), { costMicros: 4800, priced: true });
  t.same(costOf('openai', 'gpt-4o-mini', 7, 3), { costMicros: 3, priced: true }, 'rounded to the micro-dollar');
  t.same(costOf('openai', 'gpt-99', 1000, 1000), { costMicros: 0, priced: false });
  t.same(costOf('openai-compatible', 'gpt-4o-mini', 1000, 1000), { costMicros: 0, priced: false }, 'a compatible server may be anything');
  t.not(priceOf('openai', 'gpt-4o'), priceOf('openai', 'gpt-4o-mini'), 'gpt-4o-mini is not priced as gpt-4o');
});

t.test('the summary: local days, models, purposes, failures and unpriced calls', async (t) => {
  const h = await llmHarness(t);
  const call = (at: string, over: Partial<LlmCall> = {}): LlmCall => ({
    at: Date.parse(at),
    provider: 'openai',
    model: 'gpt-4o-mini',
    purpose: 'reply',
    inputTokens: 1000,
    outputTokens: 100,
    status: 'ok',
    httpStatus: 200,
    durationMs: 400,
    ...over,
  });
  // 2026-11-26T22:30Z is already the 27th in Tokyo (UTC+9) and still the 26th in New York.
  h.ledger.record(call('2026-11-26T10:00:00Z'));
  h.ledger.record(call('2026-11-26T22:30:00Z', { purpose: 'tweet' }));
  h.ledger.record(call('2026-11-26T22:45:00Z', { status: 'rate_limited', httpStatus: 429, inputTokens: 0, outputTokens: 0 }));
  h.ledger.record(call('2026-11-27T09:00:00Z', { provider: 'anthropic', model: 'claude-haiku-4-5', purpose: 'thread', inputTokens: 2000, outputTokens: 800 }));
  h.ledger.record(call('2026-11-27T09:05:00Z', { provider: 'openai-compatible', model: 'llama3.2', purpose: 'thread' }));
  h.ledger.record(call('2026-12-02T09:00:00Z'));

  const range = { from: Date.parse('2026-11-26T00:00:00Z'), to: Date.parse('2026-12-01T00:00:00Z') };
  const utc = h.ledger.summary(range);
  const reply = 1000 * 0.15 + 100 * 0.6;
  const thread = 2000 * 1 + 800 * 5;
  t.match(utc.total, { calls: 5, failedCalls: 1, inputTokens: 5000, outputTokens: 1100, costMicros: 2 * reply + thread, unpricedCalls: 1 });
  t.same(utc.days.map((d) => [d.day, d.calls]), [['2026-11-26', 3], ['2026-11-27', 2]]);
  t.same(h.ledger.summary({ ...range, timeZone: 'Asia/Tokyo' }).days.map((d) => [d.day, d.calls]), [['2026-11-26', 1], ['2026-11-27', 4]]);
  t.same(h.ledger.summary({ ...range, timeZone: 'America/New_York' }).days.map((d) => [d.day, d.calls]), [['2026-11-26', 3], ['2026-11-27', 2]]);
  t.same(h.ledger.summary({ ...range, timeZone: 'Asia/Kathmandu' }).days.map((d) => d.day), ['2026-11-26', '2026-11-27'], 'a +5:45 zone folds by quarter hours');

  t.same(utc.byModel.map((m) => [m.provider, m.model, m.priced, m.calls]), [
    ['anthropic', 'claude-haiku-4-5', true, 1],
    ['openai', 'gpt-4o-mini', true, 3],
    ['openai-compatible', 'llama3.2', false, 1],
  ]);
  t.same(utc.byPurpose.map((p) => [p.purpose, p.calls, p.costMicros]), [['thread', 2, thread], ['reply', 2, reply], ['tweet', 1, reply]]);
});
