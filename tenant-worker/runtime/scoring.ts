/**
 * How promising a post is as a reply candidate: six heuristic signals, no LLM (reference §3).
 *
 * Each signal is a fraction in [0, 1] times its configured maximum; the total is clamped to 0..100 and
 * a post qualifies at or above the threshold. With the default maxima (25, 15, 10, 15, 15, 10) the best
 * possible total is 90 and the threshold 60.
 *
 * Two of the reference's quirks are fixed on purpose:
 *   - keyword relevance no longer shrinks as the user adds keywords: matched weight is divided by the
 *     total weight capped at 4 (so up to four single-word keywords it is exactly the reference formula),
 *     and keywords match whole words, so "ai" does not match "said";
 *   - the content-type signal looks at the post (quote, media) instead of always scoring full.
 */
import type { ScoringWeights } from './config.js';

export interface ScoringInput {
  text: string;
  /** X's created_at (RFC 3339) or epoch ms; unknown scores 0 for recency. */
  createdAt?: string | number | undefined;
  authorFollowers?: number | undefined;
  likes?: number | undefined;
  retweets?: number | undefined;
  replies?: number | undefined;
  isQuote?: boolean | undefined;
  hasMedia?: boolean | undefined;
}

export interface ScoreBreakdown {
  keyword: number;
  followers: number;
  recency: number;
  engagement: number;
  replies: number;
  contentType: number;
}

export interface Score {
  total: number;
  breakdown: ScoreBreakdown;
  matchedKeywords: string[];
  qualifies: boolean;
}

/** Beyond this total weight, more configured keywords do not make a single match worth less. */
const KEYWORD_WEIGHT_CAP = 4;

const MINUTE = 60_000;

export function scoreTweet(input: ScoringInput, keywords: readonly string[], weights: ScoringWeights, now: number): Score {
  const { fraction, matched } = keywordRelevance(input.text, keywords);
  const followers = input.authorFollowers ?? 0;
  const breakdown: ScoreBreakdown = {
    keyword: round(fraction * weights.keywordRelevanceMax),
    followers: round(followerFraction(followers) * weights.followerCountMax),
    recency: round(recencyFraction(toMillis(input.createdAt), now) * weights.recencyMax),
    engagement: round(engagementFraction(input.likes ?? 0, input.retweets ?? 0, input.replies ?? 0, followers) * weights.engagementRateMax),
    replies: round(replyCountFraction(input.replies ?? 0) * weights.replyCountMax),
    contentType: input.isQuote || input.hasMedia ? 0 : weights.contentTypeMax,
  };
  const sum = Object.values(breakdown).reduce((a, b) => a + b, 0);
  const total = round(Math.min(100, Math.max(0, sum)));
  return { total, breakdown, matchedKeywords: matched, qualifies: total >= weights.threshold };
}

/** Lowercased word tokens; hashtags and mentions count as their words. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:['’][\p{L}]+)*/gu) ?? [];
}

/**
 * A single word matches as a whole word (weight 1). A phrase (weight 2) matches fully when its words
 * appear in order and adjacent, and for half its weight when they all appear somewhere: X's search
 * treats unquoted words as AND, so such posts do arrive and are somewhat on topic.
 */
export function keywordRelevance(text: string, keywords: readonly string[]): { fraction: number; matched: string[] } {
  const tokens = words(text);
  const joined = ` ${tokens.join(' ')} `;
  const present = new Set(tokens);
  let total = 0;
  let got = 0;
  const matched: string[] = [];
  for (const keyword of keywords) {
    const parts = words(keyword);
    if (parts.length === 0) continue;
    const weight = parts.length > 1 ? 2 : 1;
    total += weight;
    if (joined.includes(` ${parts.join(' ')} `)) {
      got += weight;
      matched.push(keyword);
    } else if (parts.length > 1 && parts.every((part) => present.has(part))) {
      got += weight / 2;
      matched.push(keyword);
    }
  }
  if (total === 0) return { fraction: 0, matched };
  return { fraction: Math.min(1, got / Math.min(total, KEYWORD_WEIGHT_CAP)), matched };
}

/** A bell curve: accounts of 1k–10k followers are the ones whose conversations a reply can join. */
export function followerFraction(n: number): number {
  if (n <= 0) return 0;
  if (n < 100) return n / 200;
  if (n < 1000) return 0.5 + (n - 100) / 1800;
  if (n <= 10_000) return 1;
  if (n <= 100_000) return 1 - (0.75 * (n - 10_000)) / 90_000;
  return 0.25;
}

export function recencyFraction(createdAt: number | null, now: number): number {
  if (createdAt === null) return 0;
  const age = Math.max(0, now - createdAt);
  if (age <= 5 * MINUTE) return 1;
  if (age <= 30 * MINUTE) return lerp(1, 0.8, (age - 5 * MINUTE) / (25 * MINUTE));
  if (age <= 60 * MINUTE) return lerp(0.8, 0.5, (age - 30 * MINUTE) / (30 * MINUTE));
  if (age <= 360 * MINUTE) return lerp(0.5, 0.25, (age - 60 * MINUTE) / (300 * MINUTE));
  return 0;
}

/** A 5 % engagement rate or better scores full (X's baseline is about 1.5 %). */
export function engagementFraction(likes: number, retweets: number, replies: number, followers: number): number {
  return Math.min(1, (likes + retweets + replies) / Math.max(followers, 1) / 0.05);
}

/** Quiet conversations first: a reply is seen there. */
export function replyCountFraction(replies: number): number {
  return replies >= 20 ? 0 : 1 - replies / 20;
}

function toMillis(value: string | number | undefined): number | null {
  if (value === undefined) return null;
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}

function lerp(from: number, to: number, t: number): number {
  return from + (to - from) * t;
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
