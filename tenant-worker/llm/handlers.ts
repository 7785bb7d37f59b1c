/**
 * The LLM settings as the tenant API reads and writes them: the key is write-only ("set" / "not
 * set"), a new endpoint needs the key again, and "test" makes one tiny real completion with what
 * the runtime would use (the user's own LLM, or the sandbox's when there is none).
 */
import type { Handler, HandlerContext } from '../handlers.js';
import { validate } from '../handlers.js';
import { LlmClient } from './client.js';
import { effectiveLlmSettings, LlmConfig, LlmConfigUpdate } from './config.js';
import { LlmUsageLedger } from './usage.js';
import { wakeGateWaiters } from '../runtime/loops/gate.js';

const config = (context: HandlerContext) => new LlmConfig(context.db, context.secrets);

/** What the runtime will use, and where it comes from. */
function effective(context: HandlerContext) {
  const own = config(context).settings();
  const settings = effectiveLlmSettings(own, context.llmFallback);
  return { settings, source: own ? ('own' as const) : settings ? ('sandbox' as const) : null };
}

export const llmHandlers: Record<string, Handler> = {
  'llm.get': (context) => {
    const { settings, source } = effective(context);
    return { ...config(context).view(), using: source, usingModel: settings?.model ?? null };
  },

  'llm.put': (context, params) => {
    const input = validate(LlmConfigUpdate, params);
    config(context).update(input, { allowPrivateNetwork: context.mode !== 'cloud' });
    if (wakeGateWaiters(context.db, ['no_llm']) > 0) void context.tick();
    return llmHandlers['llm.get']!(context, undefined);
  },

  'llm.clear': (context) => {
    config(context).clear();
    return llmHandlers['llm.get']!(context, undefined);
  },

  'llm.test': async (context) => {
    const { settings, source } = effective(context);
    if (!settings) return { ok: false, code: 'not_configured', message: 'No LLM is configured: add a provider and API key.' };
    const ledger = new LlmUsageLedger(context.db);
    const result = await new LlmClient({ settings, onCall: (call) => ledger.record(call) }).testConnection();
    return { ...result, using: source };
  },
};
