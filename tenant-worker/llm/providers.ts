/**
 * The providers' wire formats, from the client's side: how one completion is asked for and how its
 * answer and errors are read. OpenAI and any OpenAI-compatible server (Ollama, vLLM, LM Studio…)
 * share the chat-completions format; Anthropic has its messages format. Everything else (timeouts,
 * retries, metering) is the client's and is the same for all of them.
 */

export type LlmProvider = 'openai' | 'anthropic' | 'openai-compatible';

export const LLM_PROVIDERS: readonly LlmProvider[] = ['openai', 'anthropic', 'openai-compatible'];

/** Where to send a completion and with what; the key is plaintext here, in memory only. */
export interface LlmSettings {
  provider: LlmProvider;
  /** Up to and including the version segment, e.g. https://api.openai.com/v1. */
  baseUrl: string;
  /** Required for OpenAI and Anthropic; optional for an OpenAI-compatible server. */
  apiKey: string | null;
  model: string;
}

export const PROVIDER_DEFAULTS: Record<LlmProvider, { baseUrl: string; model: string }> = {
  openai: { baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini' },
  // The reference's 'claude-sonnet-4-5-20250514' never existed, and Sonnet 4.5 retires on 2026-11-30.
  anthropic: { baseUrl: 'https://api.anthropic.com/v1', model: 'claude-sonnet-4-6' },
  'openai-compatible': { baseUrl: 'http://localhost:11434/v1', model: 'llama3.2' },
};

export const ANTHROPIC_VERSION = '2023-06-01';

export interface CompletionParams {
  /** The rules; omitted from the request when empty. */
  system?: string;
  /** The task. */
  user: string;
  maxTokens: number;
  temperature: number;
}

export interface WireRequest {
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface WireAnswer {
  text: string;
  inputTokens: number;
  outputTokens: number;
  model: string;
  /** The model stopped at max_tokens rather than by itself. */
  truncated: boolean;
}

/**
 * OpenAI's reasoning models (o-series, gpt-5) refuse `max_tokens` and any temperature but the
 * default; their hidden reasoning also counts against the limit, hence the headroom.
 */
const REASONING_MODEL = /^(o\d|gpt-5)/;
const REASONING_HEADROOM_TOKENS = 1024;

export function wireRequest(settings: LlmSettings, params: CompletionParams): WireRequest {
  const base = settings.baseUrl.replace(/\/+$/, '');
  const system = params.system?.trim() ? params.system : undefined;
  if (settings.provider === 'anthropic') {
    return {
      url: `${base}/messages`,
      headers: { 'content-type': 'application/json', 'anthropic-version': ANTHROPIC_VERSION, ...(settings.apiKey !== null && { 'x-api-key': settings.apiKey }) },
      body: {
        model: settings.model,
        max_tokens: params.maxTokens,
        ...(system !== undefined && { system }),
        // No temperature: Anthropic's newer models refuse it ("temperature is deprecated for this
        // model"), and API version 2026-10-21 refuses it for every model.
        messages: [{ role: 'user', content: params.user }],
      },
    };
  }
  const reasoning = settings.provider === 'openai' && REASONING_MODEL.test(settings.model);
  return {
    url: `${base}/chat/completions`,
    headers: { 'content-type': 'application/json', ...(settings.apiKey !== null && { authorization: `Bearer ${settings.apiKey}` }) },
    body: {
      model: settings.model,
      messages: [...(system !== undefined ? [{ role: 'system', content: system }] : []), { role: 'user', content: params.user }],
      ...(reasoning ? { max_completion_tokens: params.maxTokens + REASONING_HEADROOM_TOKENS } : { max_tokens: params.maxTokens, temperature: params.temperature }),
    },
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;
const count = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : 0);

/** The answer's text and usage, or null when the body is not a completion of this format. */
export function readAnswer(provider: LlmProvider, body: unknown, model: string): WireAnswer | null {
  if (!isObject(body)) return null;
  const usage = isObject(body['usage']) ? body['usage'] : {};
  const answeredModel = typeof body['model'] === 'string' ? body['model'] : model;
  if (provider === 'anthropic') {
    if (!Array.isArray(body['content'])) return null;
    // The text blocks, concatenated; other block kinds (thinking, tool use) are not ours.
    const text = body['content'].filter((block): block is { type: 'text'; text: string } => isObject(block) && block['type'] === 'text' && typeof block['text'] === 'string').map((block) => block.text).join('');
    return { text, inputTokens: count(usage['input_tokens']), outputTokens: count(usage['output_tokens']), model: answeredModel, truncated: body['stop_reason'] === 'max_tokens' };
  }
  const choice = Array.isArray(body['choices']) ? body['choices'][0] : undefined;
  if (!isObject(choice) || !isObject(choice['message'])) return null;
  const content = choice['message']['content'];
  const text = typeof content === 'string' ? content : '';
  return { text, inputTokens: count(usage['prompt_tokens']), outputTokens: count(usage['completion_tokens']), model: answeredModel, truncated: choice['finish_reason'] === 'length' };
}

/** The provider's own words for an error: `{ error: { message } }` in both formats (Anthropic nests a type too). */
export function errorDetail(body: unknown, status: number): string {
  if (isObject(body) && isObject(body['error']) && typeof body['error']['message'] === 'string') return body['error']['message'];
  if (typeof body === 'string' && body.trim() !== '') return body.trim().slice(0, 300);
  return `HTTP ${status}`;
}
