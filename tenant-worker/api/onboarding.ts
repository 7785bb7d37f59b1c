/**
 * The tenant's part of the onboarding checklist the dashboard's wizard walks: the business profile
 * (which keys are still missing), X connected, an LLM (the user's own, the sandbox's, or none), the
 * approval mode (a choice with a safe default, so always done; `chosen` says whether the user looked
 * at it), and the runtime started. The plan step is the supervisor's (billing), added there.
 */
import type { Handler, HandlerContext } from '../handlers.js';
import { runtimeStatus } from '../runtime/runtime-handlers.js';

export function onboardingSteps(context: HandlerContext) {
  const status = runtimeStatus(context);
  const chosen = context.db.prepare("SELECT 1 FROM settings WHERE key IN ('approval_mode', 'mode')").get() !== undefined;
  return {
    business: { done: Object.keys(status.missingSetup).length === 0, missing: status.missingSetup },
    x: { done: status.x.connected, configured: status.x.configured, username: status.x.username },
    llm: { done: status.llm !== 'none', kind: status.llm },
    approval: { done: true, chosen, approvalMode: status.approvalMode, mode: status.mode },
    runtime: { done: status.state !== 'stopped', state: status.state },
  };
}

export const onboardingHandlers: Record<string, Handler> = {
  'onboarding.status': (context) => onboardingSteps(context),
};
