/** The strategy API's shapes (supervisor/routes/strategy.ts). */
export interface Recommendation {
  category: 'promote' | 'kill' | 'experiment' | 'alert' | 'celebrate';
  priority: 'high' | 'medium' | 'low';
  rule: string;
  title: string;
  description: string;
}

export interface TopicRow {
  topic: string;
  avgScore: number;
  posts: number;
  allTimeAvgScore: number | null;
}

export interface Report {
  weekStart: number;
  weekEnd: number;
  timeZone: string;
  firstDay: string;
  lastDay: string;
  complete: boolean;
  computedAt: number;
  output: {
    replies: number;
    tweets: number;
    threads: number;
    total: number;
    repliesBySource: { discovery: number; mention: number; target: number; manual: number };
    partialThreads: number;
    failed: number;
    skipped: number;
    queued: number;
  };
  capacity: unknown;
  followers: { start: number | null; end: number | null; delta: number | null };
  scores: { avgReply: number | null; avgTweet: number | null; measuredReplies: number; measuredTweets: number };
  replyAcceptanceRate: number | null;
  estimatedFollowConversion: number | null;
  distinctTopics: number;
  topTopics: TopicRow[];
  bottomTopics: TopicRow[];
  topContent: { kind: string; tweetId: string; preview: string; score: number; likes: number; retweets: number; replies: number; impressions: number; postedAt: number }[];
  recommendations: Recommendation[];
}

export interface Inputs {
  contentPillars: string[];
  industryTopics: string[];
  productKeywords: string[];
  competitorKeywords: string[];
  targetAccounts: string[];
}
