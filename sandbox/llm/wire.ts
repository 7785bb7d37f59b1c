/**
 * The two wire formats the sandbox LLM speaks, as the providers document them: OpenAI's chat
 * completions (`POST /v1/chat/completions`, bearer key, `{ error: { message, type, param, code } }`)
 * and Anthropic's messages (`POST /v1/messages`, `x-api-key` + `anthropic-version`,
 * `{ type: 'error', error: { type, message } }`, 529 when overloaded). Each side turns a request body
 * into one neutral `Completion` request or a 400 in its own error shape, and a finished completion
 * into its own answer.
 */

export type Provider = 'openai' | 'anthropic';

export interface CompletionRequest {
  model: string;
  system: string;
  user: string;
  maxTokens: number;
  temperature: number;
  /** Every message's text, for counting input tokens. */
  inputChars: number;
  messageCount: number;
}

export interface Completion {
  id: string;
  model: string;
  text: string;
  /** The answer stopped at max_tokens. */
  truncated: boolean;
  inputTokens: number;
  outputTokens: number;
  created: number;
}

export type Parsed = { ok: true; request: CompletionRequest } | { ok: false; status: number; body: unknown };

/** OpenAI's error envelope. `type` and `code` follow the values OpenAI documents per status. */
export function openaiError(message: string, type: string, code: string | null = null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

/** Anthropic's error envelope. */
export function anthropicError(type: string, message: string) {
  return { type: 'error', error: { type, message } };
}

/** Message content as text: a string, or an array of text parts (both providers accept either). */
function textOf(content: unknown): string | null {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return null;
  const parts = content.map((part: unknown) => (typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'text' ? (part as { text?: unknown }).text : undefined));
  return parts.every((p): p is string => typeof p === 'string') ? parts.join('') : null;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export function parseOpenAi(body: unknown): Parsed {
  const bad = (message: string, param: string | null, code: string | null = null): Parsed => ({ ok: false, status: 400, body: openaiError(message, 'invalid_request_error', code, param) });
  if (!isObject(body)) return bad('We could not parse the JSON body of your request.', null);
  if (typeof body['model'] !== 'string' || body['model'] === '') return bad('you must provide a model parameter', null);
  const messages = body['messages'];
  if (!Array.isArray(messages)) return bad("Missing required parameter: 'messages'.", 'messages', 'missing_required_parameter');
  if (messages.length === 0) return bad("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", 'messages', 'empty_array');
  const system: string[] = [];
  let user = '';
  let chars = 0;
  for (const [index, message] of messages.entries()) {
    const role = isObject(message) ? message['role'] : undefined;
    const text = isObject(message) ? textOf(message['content']) : null;
    if (!['system', 'developer', 'user', 'assistant'].includes(String(role)) || text === null) return bad(`Invalid value for 'messages[${index}]'.`, `messages[${index}]`, 'invalid_value');
    chars += text.length;
    if (role === 'system' || role === 'developer') system.push(text);
    if (role === 'user') user = text;
  }
  // Newer OpenAI models take max_completion_tokens; both are accepted, as OpenAI does for older ones.
  const limit = body['max_completion_tokens'] ?? body['max_tokens'] ?? 4096;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) return bad(`Invalid 'max_tokens': integer below minimum value.`, 'max_tokens', 'integer_below_min_value');
  const temperature = body['temperature'] ?? 1;
  if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) return bad(`Invalid 'temperature': decimal above maximum value. Expected a value <= 2.`, 'temperature', 'decimal_above_max_value');
  return { ok: true, request: { model: body['model'], system: system.join('\n\n'), user, maxTokens: limit, temperature, inputChars: chars, messageCount: messages.length } };
}

/** API version 2026-10-21 dropped the sampling parameters; 2023-06-01 still takes them. */
const NO_SAMPLING_FROM = '2026-10-21';

export function parseAnthropic(body: unknown, version: string): Parsed {
  const bad = (message: string): Parsed => ({ ok: false, status: 400, body: anthropicError('invalid_request_error', message) });
  if (!isObject(body)) return bad('Request body must be a JSON object');
  if (typeof body['model'] !== 'string' || body['model'] === '') return bad('model: Field required');
  const limit = body['max_tokens'];
  if (limit === undefined) return bad('max_tokens: Field required');
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) return bad('max_tokens: Input should be greater than or equal to 1');
  const messages = body['messages'];
  if (!Array.isArray(messages)) return bad('messages: Field required');
  if (messages.length === 0) return bad('messages: at least one message is required');
  const rawSystem = body['system'];
  const system = rawSystem === undefined ? '' : textOf(rawSystem);
  if (system === null) return bad('system: Input should be a valid string or a list of text blocks');
  let user = '';
  let chars = system.length;
  for (const [index, message] of messages.entries()) {
    const role = isObject(message) ? message['role'] : undefined;
    const text = isObject(message) ? textOf(message['content']) : null;
    // The Messages API has no system role: the system prompt is a top-level field.
    if ((role !== 'user' && role !== 'assistant') || text === null) return bad(`messages.${index}: Input should be a valid message with role 'user' or 'assistant'`);
    chars += text.length;
    if (role === 'user') user = text;
  }
  if ((messages[0] as { role: string }).role !== 'user') return bad('messages: first message must use the "user" role');
  if (version >= NO_SAMPLING_FROM) {
    const sampling = ['temperature', 'top_p', 'top_k'].find((key) => key in body);
    if (sampling) return bad(`${sampling}: Extra inputs are not permitted`);
  }
  const temperature = body['temperature'] ?? 1;
  if (typeof temperature !== 'number' || temperature < 0 || temperature > 1) return bad('temperature: Input should be less than or equal to 1');
  return { ok: true, request: { model: body['model'], system, user, maxTokens: limit, temperature, inputChars: chars, messageCount: messages.length } };
}

export function openaiAnswer(c: Completion) {
  return {
    id: `chatcmpl-${c.id}`,
    object: 'chat.completion' as const,
    created: Math.floor(c.created / 1000),
    model: c.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant' as const, content: c.text, refusal: null },
        logprobs: null,
        finish_reason: c.truncated ? ('length' as const) : ('stop' as const),
      },
    ],
    usage: { prompt_tokens: c.inputTokens, completion_tokens: c.outputTokens, total_tokens: c.inputTokens + c.outputTokens },
    system_fingerprint: 'fp_sandbox',
  };
}

export function anthropicAnswer(c: Completion) {
  return {
    id: `msg_${c.id}`,
    type: 'message' as const,
    role: 'assistant' as const,
    model: c.model,
    content: [{ type: 'text' as const, text: c.text }],
    stop_reason: c.truncated ? ('max_tokens' as const) : ('end_turn' as const),
    stop_sequence: null,
    usage: { input_tokens: c.inputTokens, output_tokens: c.outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

/** What each provider answers for an injected or auth failure. */
export function failureBody(provider: Provider, status: number, detail?: string): unknown {
  if (provider === 'openai') {
    if (status === 401) return openaiError(detail ?? 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.', 'invalid_request_error', 'invalid_api_key');
    if (status === 404) return openaiError(detail ?? 'The model does not exist or you do not have access to it.', 'invalid_request_error', 'model_not_found');
    if (status === 429) return openaiError('Rate limit reached for requests. Please try again later.', 'requests', 'rate_limit_exceeded');
    if (status === 529 || status === 503) return openaiError('The engine is currently overloaded, please try again later.', 'server_error');
    return openaiError('The server had an error while processing your request. Sorry about that!', 'server_error');
  }
  if (status === 401) return anthropicError('authentication_error', detail ?? 'invalid x-api-key');
  if (status === 404) return anthropicError('not_found_error', detail ?? 'model not found');
  if (status === 429) return anthropicError('rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.');
  if (status === 529) return anthropicError('overloaded_error', 'Overloaded');
  return anthropicError('api_error', 'Internal server error');
}
