/**
 * The sandbox's simulated LLM: in sandbox mode a newcomer sees meaningful replies and tweets without
 * an API key. Tenants use it only when their user configured no LLM of their own. Never outside
 * sandbox mode: self-hosters and cloud users bring their own key.
 */
import type { Logger } from 'pino';
import type { LlmFallback } from '../../protocol/index.js';
import type { Mode } from '../config.js';

export interface SandboxLlm {
  fallback: LlmFallback;
  close(): Promise<void>;
}

export async function setUpSandboxLlm(mode: Mode, log: Logger): Promise<SandboxLlm | null> {
  if (mode !== 'sandbox') return null;
  // The sandbox switch: the only production path that reaches into sandbox/llm.
  const { startFakeLlm } = await import('../../sandbox/llm/index.js');
  // per-call sampling: a repeated prompt gets a new answer, as from a real model.
  const fake = await startFakeLlm({ sampling: 'per-call', log });
  log.warn({ url: fake.url }, 'SANDBOX: tenants without their own LLM key use a simulated LLM (OpenAI wire format)');
  return {
    fallback: { provider: 'openai', baseUrl: fake.openaiBaseUrl, apiKey: fake.apiKey, model: 'gpt-4o-mini' },
    close: () => fake.close(),
  };
}
