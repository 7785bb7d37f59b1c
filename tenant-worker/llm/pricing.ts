/**
 * What a call costs: the providers' list prices per million tokens for the models we know.
 *
 * Sources: OpenAI's and Anthropic's public pricing pages (standard tier, input ≤ 200K tokens, no
 * batch or cache discounts); the older models agree with ../shared/reference/tuitbot-runtime.md §5.
 * Reviewed 2026-11 from secondary copies of those pages (no network to the providers here): check
 * them when touching this table. Prices change: update this table when they do; it is the only place.
 * A model not listed here (and every OpenAI-compatible server: local or third-party, we cannot
 * know) costs 0 and is flagged `priced: false`, so the costs page can say "unknown" instead of
 * inventing a number (the reference charged unknown models as gpt-4o-mini or Sonnet).
 */
import type { LlmProvider } from './providers.js';

/** USD per 1M tokens, which is also micro-dollars per token. */
interface Price {
  input: number;
  output: number;
}

const PRICES: Record<'openai' | 'anthropic', Record<string, Price>> = {
  openai: {
    'gpt-5': { input: 1.25, output: 10 },
    'gpt-5-mini': { input: 0.25, output: 2 },
    'gpt-5-nano': { input: 0.05, output: 0.4 },
    'gpt-4.1': { input: 2, output: 8 },
    'gpt-4.1-mini': { input: 0.4, output: 1.6 },
    'gpt-4.1-nano': { input: 0.1, output: 0.4 },
    'gpt-4o': { input: 2.5, output: 10 },
    'gpt-4o-mini': { input: 0.15, output: 0.6 },
    'gpt-4-turbo': { input: 10, output: 30 },
    'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  },
  anthropic: {
    'claude-opus-4-7': { input: 5, output: 25 },
    'claude-opus-4-6': { input: 5, output: 25 },
    'claude-opus-4-5': { input: 5, output: 25 },
    'claude-opus-4-1': { input: 15, output: 75 },
    'claude-opus-4': { input: 15, output: 75 },
    'claude-sonnet-4-6': { input: 3, output: 15 },
    'claude-sonnet-4-5': { input: 3, output: 15 },
    'claude-sonnet-4': { input: 3, output: 15 },
    'claude-3-7-sonnet': { input: 3, output: 15 },
    'claude-haiku-4-5': { input: 1, output: 5 },
    'claude-3-5-haiku': { input: 0.8, output: 4 },
    'claude-3-haiku': { input: 0.25, output: 1.25 },
  },
};

export interface Cost {
  /** Micro-dollars (1 USD = 1,000,000), rounded to the nearest. */
  costMicros: number;
  /** False when the model's price is unknown and the cost is recorded as 0. */
  priced: boolean;
}

/** A dated snapshot ("gpt-4o-2024-08-06", "claude-sonnet-4-5-20250929") or "-latest" costs what its model does. */
function baseModel(model: string): string {
  return model
    .toLowerCase()
    .replace(/-(\d{4}-\d{2}-\d{2}|\d{8})$/, '')
    .replace(/-latest$/, '');
}

export function priceOf(provider: LlmProvider, model: string): Price | null {
  if (provider === 'openai-compatible') return null;
  return PRICES[provider][baseModel(model)] ?? null;
}

export function costOf(provider: LlmProvider, model: string, inputTokens: number, outputTokens: number): Cost {
  const price = priceOf(provider, model);
  if (!price) return { costMicros: 0, priced: false };
  return { costMicros: Math.round(inputTokens * price.input + outputTokens * price.output), priced: true };
}
