/**
 * What a dashboard sees the moment its live connection opens, in one tenant round trip: the job
 * runner (last/next runs), the automation's status (state, gate reasons, X and LLM), the pending
 * approvals (the newest page and the counts) and today's usage against the limits. Events then keep it
 * current; a reconnect asks again.
 */
import type { Handler } from '../handlers.js';
import { handlers } from '../handlers.js';
import { listApprovals } from '../runtime/approvals.js';
import { runtimeStatus } from '../runtime/runtime-handlers.js';
import { usageBars } from './activity.js';

const PENDING_PAGE = 20;

export const liveHandlers: Record<string, Handler> = {
  'live.snapshot': async (context) => {
    const automation = runtimeStatus(context);
    return {
      runtime: await handlers['status']!(context, undefined),
      x: await handlers['x.status']!(context, undefined),
      automation,
      approvals: { counts: automation.approvals, pending: listApprovals(context.db, { statuses: ['pending'], limit: PENDING_PAGE }) },
      usage: usageBars(context),
    };
  },
};
