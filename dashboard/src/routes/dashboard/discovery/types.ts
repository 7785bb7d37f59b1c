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

/** The six signals of the score, in the order the scorer weighs them, with the words a person reads. */
export const SIGNALS: [key: string, label: string][] = [
  ['keyword', 'Keyword match'],
  ['followers', 'Author followers'],
  ['recency', 'Recency'],
  ['engagement', 'Engagement'],
  ['replies', 'Few replies yet'],
  ['contentType', 'Content type'],
];
