/** The discovery API's shapes (supervisor/routes/discovery.ts). */
export interface FeedItem {
  tweetId: string;
  source: 'search' | 'mention' | 'target';
  keyword: string | null;
  author: { id: string; username: string; followers: number | null };
  text: string;
  postedAt: number;
  metrics: { likes?: number; replies?: number; retweets?: number } | null;
  score: number | null;
  scoreBreakdown: Record<string, number> | null;
  matchedKeywords: string[] | null;
  status: string;
  skipReason: string | null;
  discoveredAt: number;
  reply: { tweetId: string; content: string; postedAt: number } | null;
  queuedApprovalId: number | null;
}

/**
 * The six signals of the score, with the words a person reads and the setting that holds each one's maximum
 * (tenant-worker/runtime/scoring.ts: a signal is a fraction of its maximum).
 */
export const SIGNALS: [key: string, label: string, maxSetting: string][] = [
  ['keyword', 'Keyword match', 'scoring.keyword_relevance_max'],
  ['followers', 'Author followers', 'scoring.follower_count_max'],
  ['recency', 'Recency', 'scoring.recency_max'],
  ['engagement', 'Engagement', 'scoring.engagement_rate_max'],
  ['replies', 'Few replies yet', 'scoring.reply_count_max'],
  ['contentType', 'Content type', 'scoring.content_type_max'],
];
