/**
 * The runtime's events for dashboards, as TenantEvent kinds with typed data.
 *
 * Kinds are namespaced like the tenant's other events (`x.connected`); the names the dashboard knows
 * them by (ActionPerformed, …) map one to one. Store functions emit them after their transaction
 * commits, so an event never announces something that was rolled back.
 */
import type { TenantEvent } from '../../protocol/index.js';
import type { SkipReason } from './guards.js';

export const RUNTIME_EVENTS = {
  ActionPerformed: 'runtime.action_performed',
  TweetDiscovered: 'runtime.tweet_discovered',
  ActionSkipped: 'runtime.action_skipped',
  ApprovalQueued: 'runtime.approval_queued',
  ApprovalUpdated: 'runtime.approval_updated',
  ContentScheduled: 'runtime.content_scheduled',
  FollowerUpdate: 'runtime.follower_update',
  RuntimeStatus: 'runtime.status',
  Error: 'runtime.error',
} as const;

export type PostKind = 'reply' | 'tweet' | 'thread';

/** Where an action came from; the same vocabulary as action_log.source. */
export type ActionSource = 'discovery' | 'mention' | 'target' | 'content' | 'thread' | 'scheduled' | 'approval' | 'manual' | 'system';

export interface RuntimeEventData {
  ActionPerformed: {
    action: PostKind;
    source: ActionSource;
    /** Our post at X (a thread's first part). */
    tweetId: string;
    content: string;
    targetTweetId?: string;
    targetAuthor?: string;
    approvalId?: number;
  };
  TweetDiscovered: {
    tweetId: string;
    source: 'search' | 'mention' | 'target';
    author: string;
    text: string;
    score: number | null;
    keyword: string | null;
  };
  ActionSkipped: {
    action: PostKind;
    source: ActionSource;
    reason: SkipReason;
    detail: string;
    targetTweetId?: string;
  };
  ApprovalQueued: {
    id: number;
    kind: PostKind;
    content: string | string[];
    source: string;
    targetAuthor: string | null;
    score: number | null;
    topic: string | null;
  };
  ApprovalUpdated: {
    ids: number[];
    status: string;
    kind?: PostKind;
    /** A failure the user should see (the item stays visible with it). */
    error?: string;
    tweetId?: string;
  };
  ContentScheduled: { id: number; kind: 'tweet' | 'thread'; status: string; scheduledFor: number | null };
  FollowerUpdate: { followers: number; change: number | null; following: number; dropPercent?: number };
  RuntimeStatus: {
    running: boolean;
    mode: 'autopilot' | 'composer';
    approvalMode: boolean;
    activeNow: boolean;
    nextActiveAt: number | null;
    jobs: { name: string; lastRunAt: number | null; nextRunAt: number; lastError: string | null; pausedUntil: number | null }[];
  };
  Error: { message: string; job?: string; code?: string };
}

export type RuntimeEventName = keyof RuntimeEventData;

export function runtimeEvent<N extends RuntimeEventName>(name: N, at: number, data: RuntimeEventData[N]): TenantEvent {
  return { kind: RUNTIME_EVENTS[name], at, data };
}
