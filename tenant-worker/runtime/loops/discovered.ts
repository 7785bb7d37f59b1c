/**
 * The posts the runtime considered answering (`discovered_tweets`) and the stream cursors (`cursors`).
 * A post is stored once, whatever its score; the reply step then reads the best fresh ones back, so a
 * post passed over for a passing reason (the day's limit, pacing) gets another chance while it is fresh.
 */
import type Database from 'better-sqlite3';
import type { XPost } from '../../x/types.js';
import type { Score } from '../scoring.js';
import { runtimeEvent } from '../events.js';
import type { LoopDeps } from './deps.js';
import type { StoredCandidate } from './replying.js';

/** How long a stored post is still worth answering. */
export const FRESH_MS = 6 * 3_600_000;

export function getCursor(db: Database.Database, key: string): string | null {
  return db.prepare<[string], { value: string }>('SELECT value FROM cursors WHERE key = ?').get(key)?.value ?? null;
}

export function setCursor(db: Database.Database, key: string, value: string, now: number): void {
  db.prepare('INSERT INTO cursors (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at').run(key, value, now);
}

export function clearCursor(db: Database.Database, key: string): void {
  db.prepare('DELETE FROM cursors WHERE key = ?').run(key);
}

/** Stores a post seen for the first time (and announces it); false when it was known already. */
export function storeDiscovered(
  deps: LoopDeps,
  post: XPost,
  found: { source: 'search' | 'mention' | 'target'; keyword?: string | null; score?: Score | null; targetAccountId?: number | null },
): boolean {
  const now = deps.now();
  const m = post.metrics;
  const score = found.score ?? null;
  const status = score !== null && !score.qualifies ? 'below_threshold' : 'new';
  const inserted = deps.db
    .prepare(
      `INSERT OR IGNORE INTO discovered_tweets (tweet_id, source, keyword, target_account_id, author_id, author_username, author_followers, text, conversation_id,
         created_at, likes, retweets, replies, quotes, impressions, score, score_breakdown, matched_keywords, status, discovered_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      post.id,
      found.source,
      found.keyword ?? null,
      found.targetAccountId ?? null,
      post.authorId ?? '',
      post.author?.username ?? '',
      post.author?.followers ?? null,
      post.text,
      post.conversationId ?? null,
      post.createdAt ? Date.parse(post.createdAt) : null,
      m?.likes ?? 0,
      m?.retweets ?? 0,
      m?.replies ?? 0,
      m?.quotes ?? 0,
      m?.impressions ?? 0,
      score?.total ?? null,
      score ? JSON.stringify(score.breakdown) : null,
      JSON.stringify(score?.matchedKeywords ?? []),
      status,
      now,
    ).changes > 0;
  if (inserted) {
    deps.emit(
      runtimeEvent('TweetDiscovered', now, {
        tweetId: post.id,
        source: found.source,
        author: post.author?.username ?? '',
        text: post.text,
        score: score?.total ?? null,
        keyword: found.keyword ?? null,
      }),
    );
  }
  return inserted;
}

/** Fresh stored posts of a source still waiting for a decision, best first. */
export function freshCandidates(db: Database.Database, source: 'search' | 'mention' | 'target', now: number, limit = 20): StoredCandidate[] {
  return db
    .prepare<[string, number, number], StoredCandidate>(
      `SELECT tweet_id AS tweetId, author_id AS authorId, author_username AS authorUsername, text, score FROM discovered_tweets
       WHERE source = ? AND status = 'new' AND discovered_at >= ? AND author_id <> ''
       ORDER BY coalesce(score, 0) DESC, discovered_at LIMIT ?`,
    )
    .all(source, now - FRESH_MS, limit);
}
