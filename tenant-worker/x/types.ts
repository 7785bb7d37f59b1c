/**
 * Posts and users as the runtime uses them, read from X's v2 JSON (`data`, `includes.users`, `meta`).
 * Authors are joined from `includes.users` here, once, so no job has to.
 */

export interface XUser {
  id: string;
  username: string;
  name: string;
  followers?: number;
  following?: number;
  tweetCount?: number;
  createdAt?: string;
  description?: string;
}

export interface XMetrics {
  impressions: number;
  likes: number;
  retweets: number;
  replies: number;
  quotes: number;
  bookmarks: number;
}

export interface XPost {
  id: string;
  text: string;
  authorId?: string;
  /** From includes.users, when the author was expanded. */
  author?: XUser;
  createdAt?: string;
  conversationId?: string;
  lang?: string;
  inReplyToUserId?: string;
  referenced?: { type: 'retweeted' | 'quoted' | 'replied_to'; id: string }[];
  metrics?: XMetrics;
}

export interface XPage {
  posts: XPost[];
  /** Pass as since_id next time to get only newer posts. */
  newestId?: string;
  oldestId?: string;
  nextToken?: string;
}

/** The fields TuitBot asks for on every post read (runtime §6.1). */
export const POST_FIELDS = {
  'tweet.fields': 'public_metrics,created_at,author_id,conversation_id,lang,in_reply_to_user_id,referenced_tweets',
  expansions: 'author_id',
  'user.fields': 'public_metrics,created_at',
} as const;

export const USER_FIELDS = { 'user.fields': 'public_metrics,created_at,description' } as const;

interface RawUser {
  id: string;
  username: string;
  name: string;
  created_at?: string;
  description?: string;
  public_metrics?: { followers_count?: number; following_count?: number; tweet_count?: number };
}

interface RawPost {
  id: string;
  text: string;
  author_id?: string;
  created_at?: string;
  conversation_id?: string;
  lang?: string;
  in_reply_to_user_id?: string;
  referenced_tweets?: XPost['referenced'];
  public_metrics?: { impression_count?: number; like_count?: number; retweet_count?: number; reply_count?: number; quote_count?: number; bookmark_count?: number };
}

export interface RawEnvelope {
  data?: unknown;
  includes?: { users?: RawUser[] };
  meta?: { newest_id?: string; oldest_id?: string; next_token?: string; result_count?: number };
  errors?: { type?: string; detail?: string }[];
}

export function toUser(raw: RawUser): XUser {
  const m = raw.public_metrics;
  return {
    id: raw.id,
    username: raw.username,
    name: raw.name,
    ...(m?.followers_count !== undefined && { followers: m.followers_count }),
    ...(m?.following_count !== undefined && { following: m.following_count }),
    ...(m?.tweet_count !== undefined && { tweetCount: m.tweet_count }),
    ...(raw.created_at !== undefined && { createdAt: raw.created_at }),
    ...(raw.description !== undefined && { description: raw.description }),
  };
}

export function toPost(raw: RawPost, authors: ReadonlyMap<string, XUser>): XPost {
  const m = raw.public_metrics;
  const author = raw.author_id === undefined ? undefined : authors.get(raw.author_id);
  return {
    id: raw.id,
    text: raw.text,
    ...(raw.author_id !== undefined && { authorId: raw.author_id }),
    ...(author && { author }),
    ...(raw.created_at !== undefined && { createdAt: raw.created_at }),
    ...(raw.conversation_id !== undefined && { conversationId: raw.conversation_id }),
    ...(raw.lang !== undefined && { lang: raw.lang }),
    ...(raw.in_reply_to_user_id !== undefined && { inReplyToUserId: raw.in_reply_to_user_id }),
    ...(raw.referenced_tweets !== undefined && { referenced: raw.referenced_tweets }),
    ...(m && {
      metrics: {
        impressions: m.impression_count ?? 0,
        likes: m.like_count ?? 0,
        retweets: m.retweet_count ?? 0,
        replies: m.reply_count ?? 0,
        quotes: m.quote_count ?? 0,
        bookmarks: m.bookmark_count ?? 0,
      },
    }),
  };
}

export function authorsOf(envelope: RawEnvelope): Map<string, XUser> {
  return new Map((envelope.includes?.users ?? []).map((u) => [u.id, toUser(u)]));
}

export function toPage(envelope: RawEnvelope): XPage {
  const authors = authorsOf(envelope);
  const meta = envelope.meta ?? {};
  return {
    posts: ((envelope.data as RawPost[] | undefined) ?? []).map((p) => toPost(p, authors)),
    ...(meta.newest_id !== undefined && { newestId: meta.newest_id }),
    ...(meta.oldest_id !== undefined && { oldestId: meta.oldest_id }),
    ...(meta.next_token !== undefined && { nextToken: meta.next_token }),
  };
}

export type { RawPost, RawUser };
