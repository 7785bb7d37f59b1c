/** The target accounts API's shapes (supervisor/routes/targets.ts). */
export interface Target {
  username: string;
  xUserId: string | null;
  status: 'unresolved' | 'active' | 'not_found';
  repliesSent: number;
  firstEngagementAt: number | null;
  lastReplyAt: number | null;
  interactionsToday: number;
  lastCheckedAt: number | null;
  addedAt: number;
  resolvedAt: number | null;
}

export interface TimelineItem {
  tweetId: string;
  text: string;
  postedAt: number;
  discoveredAt: number;
  metrics: { likes: number; replies: number; retweets: number };
  status: string;
  reply: { tweetId: string; content: string; postedAt: number } | null;
}

export interface TargetStats {
  username: string;
  status: string;
  totalReplies: number;
  postsSeen: number;
  avgRelevanceScore: number | null;
  bestReply: { tweetId: string; content: string; performanceScore: number; postedAt: number } | null;
  firstInteractionAt: number | null;
  lastInteractionAt: number | null;
  interactionFrequencyDays: number | null;
}

export const STATUS_TEXT: Record<Target['status'], string> = {
  active: 'active',
  unresolved: 'checking with X',
  not_found: 'not found on X',
};
