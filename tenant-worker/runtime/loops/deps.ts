/**
 * What every runtime job works with, built once per activation: the tenant DB, a clock, the event
 * sink, the action limits, the plan's ceilings, the tenant's X and an LLM. The actor builds it from
 * its own state (`actorLoopDeps`); tests build it on a test clock with the sandbox X and LLM.
 */
import type Database from 'better-sqlite3';
import type { Ceilings, LlmFallback, TenantEvent, TenantSecrets } from '../../../protocol/index.js';
import { ActionLimits } from '../../action-limits.js';
import type { XBudget } from '../../x-budget.js';
import type { XConnectionStatus } from '../../x-connection.js';
import type { XClient } from '../../x/client.js';
import { LlmClient } from '../../llm/client.js';
import { LlmConfig, effectiveLlmSettings } from '../../llm/config.js';
import { LlmUsageLedger } from '../../llm/usage.js';
import type { Completer } from '../../llm/content/generator.js';
import type { RuntimeContext } from '../context.js';
import type { Intent } from '../intents.js';

/** The part of XAccount the jobs use. */
export interface XSide {
  connection: { status(): XConnectionStatus };
  budget: XBudget;
  client(): XClient | null;
}

export interface LoopDeps extends RuntimeContext {
  ceilings(): Ceilings;
  x(): XSide;
  /** A metered client for the tenant's own LLM or the host's fallback; null when there is neither. */
  llm(): Completer | null;
  random(): number;
  sleep(ms: number): Promise<void>;
  /** Per activation: whether posts left open by an earlier activation were reconciled yet. */
  activation: { reconciled: boolean };
  /** Where the tenant's uploaded media files are; by default beside the DB (runtime/attached-media.ts). */
  mediaDir?: string;
  /** Test seam: runs after X created a post and before it is recorded (a crash injected here). */
  afterPost?(intent: Intent, tweetId: string): void;
}

export interface ActorDepsOptions {
  db: Database.Database;
  ceilings: () => Ceilings;
  x: () => XSide;
  emit: (event: TenantEvent) => void;
  secrets: TenantSecrets | null;
  llmFallback: LlmFallback | null;
}

export function actorLoopDeps(options: ActorDepsOptions): LoopDeps {
  const { db } = options;
  const ledger = new LlmUsageLedger(db);
  const config = new LlmConfig(db, options.secrets);
  return {
    db,
    now: Date.now,
    emit: options.emit,
    limits: new ActionLimits(db, options.ceilings),
    ceilings: options.ceilings,
    x: options.x,
    llm: () => {
      // Read per run: the user may set or change their key while the tenant is active.
      const settings = effectiveLlmSettings(ownLlm(config), options.llmFallback);
      return settings ? new LlmClient({ settings, onCall: (call) => ledger.record(call) }) : null;
    },
    random: Math.random,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    activation: { reconciled: false },
  };
}

/** The tenant's own LLM settings; null when unset or unreadable here (no keys: the fallback applies). */
export function ownLlm(config: LlmConfig): ReturnType<LlmConfig['settings']> {
  try {
    return config.settings();
  } catch {
    return null;
  }
}
