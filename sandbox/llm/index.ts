/**
 * A fake LLM provider for tests, benchmarks and the sandbox: one node:http server on loopback that
 * speaks both OpenAI's chat completions and Anthropic's messages (wire.ts), so the tenant's real
 * clients run unchanged against it with a base URL of `${url}/v1`.
 *
 * It reads the prompt (prompt.ts) and writes plausible text of the requested shape (writer.ts):
 * a reply, a tweet, a thread, or "OK" to a health check. Answers are deterministic per seed and
 * request. Usage is counted from text length (about 4 characters a token), so cost accounting has
 * real numbers to add up. Faults (429 with retry-after, Anthropic's 529, 5xx), latency and scripted
 * answers can be injected; requests are recorded without their keys. Never imported by production
 * code paths outside the sandbox switch.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pino from 'pino';
import { readBody, sendJson } from '../x/http.js';
import { DEFAULT_TOPICS, prng } from '../x/world.js';
import { readPrompt } from './prompt.js';
import { anthropicAnswer, anthropicError, failureBody, openaiAnswer, openaiError, parseAnthropic, parseOpenAi, type Completion, type CompletionRequest, type Provider } from './wire.js';
import { write } from './writer.js';

export type { Provider } from './wire.js';

export interface FakeLlmOptions {
  /** The only key accepted; without it any non-empty key is (and `apiKey` is a placeholder). */
  apiKey?: string;
  /** OpenAI-format calls without any key are answered, as a local Ollama does. */
  keyless?: boolean;
  seed?: number;
  /** Extra latency per completion, in ms: fixed, or uniform in [min, max]. */
  latencyMs?: number | [number, number];
  /**
   * 'per-input' (default): the same request always gets the same answer. 'per-call': a call counter
   * joins the seed, so repeated prompts vary as a model at temperature > 0 would (still reproducible
   * for one sequence of calls).
   */
  sampling?: 'per-input' | 'per-call';
  /** Models listed by GET /v1/models; when given, other models are refused with 404. */
  models?: string[];
  /** Topics recognised in quoted tweets (default: the sandbox X's). */
  topics?: string[];
  now?: () => number;
  log?: pino.Logger;
  host?: string;
  port?: number;
}

/** One injected behaviour for the next matching completions. */
export interface LlmFault {
  /** Answer with this status in the provider's error shape (529 is Anthropic's "overloaded"). */
  status?: 429 | 500 | 503 | 529;
  /** Sent as `retry-after` (seconds) with the error. */
  retryAfterSeconds?: number;
  /** Wait this long before answering (longer than a client's timeout: a hung provider). */
  delayMs?: number;
  /** Answer this text instead of writing one (an over-long tweet, an unparseable thread…). */
  content?: string;
  /** Only for this wire format (default: both). */
  provider?: Provider;
  /** How many completions it applies to (default 1). */
  times?: number;
}

export interface FakeLlmRequest {
  provider: Provider;
  method: string;
  path: string;
  status: number;
  at: number;
  model?: string;
  system?: string;
  user?: string;
  maxTokens?: number;
  temperature?: number;
  anthropicVersion?: string;
  /** The text answered, when the call succeeded. */
  text?: string;
  /** The JSON answered, for contract tests. */
  response?: unknown;
}

export interface FakeLlm {
  url: string;
  openaiBaseUrl: string;
  anthropicBaseUrl: string;
  apiKey: string;
  /** Calls seen, oldest first (never their keys). */
  requests: FakeLlmRequest[];
  inject(fault: LlmFault): void;
  close(): Promise<void>;
}

const PLACEHOLDER_KEY = 'sandbox-llm-key';
const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'claude-sonnet-4-6', 'claude-haiku-4-5', 'llama3.2'];
const BODY_LIMIT = 1024 * 1024;
const CHARS_PER_TOKEN = 4;

export async function startFakeLlm(options: FakeLlmOptions = {}): Promise<FakeLlm> {
  const now = options.now ?? Date.now;
  const seed = options.seed ?? 1;
  const topics = options.topics ?? DEFAULT_TOPICS;
  const faults: Array<LlmFault & { times: number }> = [];
  const requests: FakeLlmRequest[] = [];
  const latency = prng(seed ^ 0x11a7e);
  let calls = 0;
  const log = options.log;
  // Pending delays are cancelled by close(), so a test's hung call does not keep the process alive.
  const sleeping = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        sleeping.delete(timer);
        resolve();
      }, ms);
      sleeping.add(timer);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://fake.llm').pathname;
    const method = req.method ?? 'GET';
    const anthropicHeaders = req.headers['x-api-key'] !== undefined || req.headers['anthropic-version'] !== undefined;
    const provider: Provider = path === '/v1/messages' || (path !== '/v1/chat/completions' && anthropicHeaders) ? 'anthropic' : 'openai';
    const record: FakeLlmRequest = { provider, method, path, status: 0, at: now() };
    const version = req.headers['anthropic-version'];
    if (typeof version === 'string') record.anthropicVersion = version;
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      record.response = body;
      requests.push(record);
      sendJson(res, status, body, { [provider === 'openai' ? 'x-request-id' : 'request-id']: `req_${requests.length}`, ...headers });
    };

    const refused = authFailure(provider, req);
    if (refused) return answer(refused.status, refused.body);
    const route = `${method} ${path}`;
    if (route === 'GET /v1/models') return answer(200, modelList(provider));
    if (route !== 'POST /v1/chat/completions' && route !== 'POST /v1/messages') {
      return answer(404, provider === 'openai' ? openaiError(`Invalid URL (${route})`, 'invalid_request_error') : anthropicError('not_found_error', 'Not Found'));
    }
    const raw = await readBody(req, BODY_LIMIT);
    if (raw === null) return answer(413, provider === 'openai' ? openaiError('Request too large.', 'invalid_request_error') : anthropicError('request_too_large', 'Request exceeds the maximum allowed number of bytes.'));
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return answer(400, provider === 'openai' ? openaiError('We could not parse the JSON body of your request.', 'invalid_request_error') : anthropicError('invalid_request_error', 'There was an issue with the JSON body of your request.'));
    }
    const parsed = provider === 'openai' ? parseOpenAi(body) : parseAnthropic(body, typeof version === 'string' ? version : '');
    if (!parsed.ok) return answer(parsed.status, parsed.body);
    const request = parsed.request;
    Object.assign(record, { model: request.model, system: request.system, user: request.user, maxTokens: request.maxTokens, temperature: request.temperature });
    if (options.models && !options.models.includes(request.model)) return answer(404, failureBody(provider, 404, provider === 'openai' ? `The model \`${request.model}\` does not exist or you do not have access to it.` : `model: ${request.model}`));

    const fault = takeFault(provider);
    const wait = (fault?.delayMs ?? 0) + latencyMs();
    if (wait > 0) await sleep(wait);
    if (res.destroyed) return void requests.push({ ...record, status: 0 });
    if (fault?.status !== undefined) {
      log?.debug({ provider, status: fault.status }, 'sandbox LLM answered with an injected error');
      return answer(fault.status, failureBody(provider, fault.status), fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {});
    }
    const completion = complete(request, fault?.content);
    record.text = completion.text;
    answer(200, provider === 'openai' ? openaiAnswer(completion) : anthropicAnswer(completion));
  }

  function authFailure(provider: Provider, req: IncomingMessage): { status: number; body: unknown } | null {
    const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1]?.trim();
    if (provider === 'openai') {
      const key = bearer;
      if (!key && options.keyless) return null;
      if (!key) return { status: 401, body: openaiError("You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", 'invalid_request_error') };
      if (options.apiKey !== undefined && key !== options.apiKey) return { status: 401, body: failureBody('openai', 401) };
      return null;
    }
    // Anthropic takes the key as x-api-key (which wins) or as a bearer token (its newer SDKs send that).
    const header = req.headers['x-api-key'];
    const key = typeof header === 'string' && header !== '' ? header : bearer;
    if (!key) return { status: 401, body: anthropicError('authentication_error', 'x-api-key header is required') };
    if (options.apiKey !== undefined && key !== options.apiKey) return { status: 401, body: failureBody('anthropic', 401) };
    if (req.headers['anthropic-version'] === undefined) return { status: 400, body: anthropicError('invalid_request_error', 'anthropic-version: header is required') };
    return null;
  }

  function modelList(provider: Provider) {
    const models = options.models ?? DEFAULT_MODELS;
    const created = Math.floor(now() / 1000);
    if (provider === 'openai') return { object: 'list', data: models.map((id) => ({ id, object: 'model', created, owned_by: 'sandbox' })) };
    const data = models.map((id) => ({ type: 'model', id, display_name: id, created_at: new Date(created * 1000).toISOString() }));
    return { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  }

  function takeFault(provider: Provider): LlmFault | undefined {
    const index = faults.findIndex((f) => f.provider === undefined || f.provider === provider);
    if (index < 0) return undefined;
    const fault = faults[index]!;
    if (--fault.times <= 0) faults.splice(index, 1);
    return fault;
  }

  function latencyMs(): number {
    const setting = options.latencyMs ?? 0;
    const [low, high] = typeof setting === 'number' ? [setting, setting] : setting;
    return low + latency() * (high - low);
  }

  function complete(request: CompletionRequest, scripted: string | undefined): Completion {
    calls += 1;
    const digest = createHash('sha256')
      .update(JSON.stringify([seed, request.model, request.system, request.user, options.sampling === 'per-call' ? calls : 0]))
      .digest();
    const full = scripted ?? write(readPrompt(request.system, request.user, topics), prng(digest.readUInt32BE(0)));
    // A model stops mid-sentence at max_tokens; so does this one.
    const truncated = tokens(full) > request.maxTokens;
    const text = truncated ? full.slice(0, request.maxTokens * CHARS_PER_TOKEN) : full;
    return {
      id: digest.subarray(4, 16).toString('hex') + calls.toString(16),
      model: request.model,
      text,
      truncated,
      // Chat formats add a few tokens of framing per message.
      inputTokens: tokens(' '.repeat(request.inputChars)) + 3 * request.messageCount,
      outputTokens: tokens(text),
      created: now(),
    };
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log?.error({ err: error }, 'sandbox LLM failed');
      if (!res.headersSent) sendJson(res, 500, openaiError('The server had an error while processing your request.', 'server_error'));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  log?.info({ url }, 'sandbox LLM listening (answers are simulated)');
  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: `${url}/v1`,
    apiKey: options.apiKey ?? PLACEHOLDER_KEY,
    requests,
    inject: (fault) => void faults.push({ ...fault, times: fault.times ?? 1 }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of sleeping) clearTimeout(timer);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / CHARS_PER_TOKEN));
}
