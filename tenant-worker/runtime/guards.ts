/**
 * The safety guards every reply (and, where they make sense, every tweet) passes, as verdicts.
 *
 * Candidate guards run before anything is generated (no LLM spend on a post we would not answer):
 * never ourselves, never twice, the per-author and per-target daily caps, room under the action limit.
 * Text guards run on the generated text: empty or too long, banned phrases, phrasing too close to a
 * recent one, and the product-mention ratio. A text verdict says whether to regenerate: the caller
 * regenerates once, then drops (and logs the skip with its reason).
 *
 * "Today" is the tenant's calendar day (the same day as the action limits). Queued approval items and
 * open post intents count as replies already: they are on their way, and approving a day's queue
 * must not break a cap the guards promised.
 */
import type Database from 'better-sqlite3';
import twitter from 'twitter-text';
import { windowStart, type ActionKind, type ActionUsage } from '../action-limits.js';
import type { BusinessProfile } from './config.js';
import { words } from './scoring.js';

export type SkipReason =
  | 'self_reply'
  | 'already_replied'
  | 'rejected_before'
  | 'author_daily_cap'
  | 'target_daily_cap'
  | 'limit_reached'
  | 'below_threshold'
  | 'empty_text'
  | 'too_long'
  | 'banned_phrase'
  | 'similar_phrasing'
  | 'product_mention_ratio'
  | 'outside_active_hours'
  | 'composer_mode'
  | 'x_budget'
  | 'generation_failed';

export type Verdict = { ok: true } | { ok: false; reason: SkipReason; detail: string; regenerate: boolean };

const allow: Verdict = { ok: true };
const deny = (reason: SkipReason, detail: string, regenerate = false): Verdict => ({ ok: false, reason, detail, regenerate });

/** How many recent texts the phrasing and mention guards look back over. */
export const RECENT_WINDOW = 20;
export const SIMILARITY_THRESHOLD = 0.8;
/** Below this many distinct words only an exact repeat counts as similar. */
const FUZZY_MIN_WORDS = 5;
const OPEN_QUEUE = "('pending', 'approved', 'posting')";

export interface ReplyCandidate {
  tweetId: string;
  authorId: string;
  authorUsername: string;
  source: 'discovery' | 'mention' | 'target';
}

export interface CandidateRules {
  /** Our own X account. */
  self: { id: string; username: string };
  maxRepliesPerAuthorPerDay: number;
  maxTargetRepliesPerDay: number;
  timezone: string;
}

export function checkCandidate(db: Database.Database, candidate: ReplyCandidate, rules: CandidateRules, now: number): Verdict {
  if (candidate.authorId === rules.self.id || candidate.authorUsername.toLowerCase() === rules.self.username.toLowerCase()) {
    return deny('self_reply', 'The post is our own.');
  }
  const handled = replyState(db, candidate.tweetId);
  if (handled === 'replied') return deny('already_replied', 'We already replied to this post (or a reply to it is queued or being posted).');
  if (handled === 'rejected') return deny('rejected_before', 'A reply to this post was rejected before.');
  const dayStart = windowStart('day', rules.timezone, now);
  const toAuthor = repliesToAuthorSince(db, candidate.authorId, dayStart);
  if (toAuthor >= rules.maxRepliesPerAuthorPerDay) {
    return deny('author_daily_cap', `Already ${toAuthor} repl${toAuthor === 1 ? 'y' : 'ies'} to @${candidate.authorUsername} today (at most ${rules.maxRepliesPerAuthorPerDay}).`);
  }
  if (candidate.source === 'target') {
    const toTargets = targetRepliesSince(db, dayStart);
    if (toTargets >= rules.maxTargetRepliesPerDay) {
      return deny('target_daily_cap', `Already ${toTargets} target-account replies today (at most ${rules.maxTargetRepliesPerDay}).`);
    }
  }
  return allow;
}

/** Whether a reply to this post exists, is on its way (queued, approved, being posted), or was rejected. */
export function replyState(db: Database.Database, tweetId: string): 'none' | 'replied' | 'rejected' {
  const row = db
    .prepare<[{ id: string }], { replied: number; rejected: number }>(
      `SELECT
         EXISTS (SELECT 1 FROM replies WHERE target_tweet_id = @id)
         OR EXISTS (SELECT 1 FROM approval_queue WHERE kind = 'reply' AND target_tweet_id = @id AND status IN ${OPEN_QUEUE})
         OR EXISTS (SELECT 1 FROM post_intents WHERE kind = 'reply' AND in_reply_to = @id AND status = 'pending') AS replied,
         EXISTS (SELECT 1 FROM approval_queue WHERE kind = 'reply' AND target_tweet_id = @id AND status = 'rejected') AS rejected`,
    )
    .get({ id: tweetId })!;
  return row.replied ? 'replied' : row.rejected ? 'rejected' : 'none';
}

function repliesToAuthorSince(db: Database.Database, authorId: string, since: number): number {
  return db
    .prepare<[{ author: string; since: number }], { n: number }>(
      `SELECT (SELECT count(*) FROM replies WHERE target_author_id = @author AND posted_at >= @since)
            + (SELECT count(*) FROM approval_queue WHERE kind = 'reply' AND target_author_id = @author AND status IN ${OPEN_QUEUE})
            + (SELECT count(*) FROM post_intents WHERE kind = 'reply' AND status = 'pending' AND approval_id IS NULL
                 AND json_extract(context, '$.targetAuthorId') = @author) AS n`,
    )
    .get({ author: authorId, since })!.n;
}

function targetRepliesSince(db: Database.Database, since: number): number {
  return db
    .prepare<[number], { n: number }>(
      `SELECT (SELECT count(*) FROM replies WHERE source = 'target' AND posted_at >= ?)
            + (SELECT count(*) FROM approval_queue WHERE kind = 'reply' AND source = 'target' AND status IN ${OPEN_QUEUE})
            + (SELECT count(*) FROM post_intents WHERE kind = 'reply' AND status = 'pending' AND approval_id IS NULL AND source = 'target') AS n`,
    )
    .get(since)!.n;
}

/** Items of a kind waiting in the approval queue (pending or approved, not yet posted). */
export function queuedCount(db: Database.Database, kind: ActionKind): number {
  return db.prepare<[string], { n: number }>(`SELECT count(*) AS n FROM approval_queue WHERE kind = ? AND status IN ${OPEN_QUEUE}`).get(kind)!.n;
}

/**
 * Room under the action limit for one more item. In approval mode the loops queue instead of posting,
 * and the limit is only claimed when the poster posts; counting the queue here keeps the loops from
 * filling it with more than the day can post.
 */
export function limitVerdict(kind: ActionKind, usage: ActionUsage, queued: number): Verdict {
  if (usage.limit === null) return allow;
  const taken = usage.used + queued;
  if (taken < usage.limit) return allow;
  const per = usage.window === 'day' ? 'today' : 'this week';
  return deny('limit_reached', `The ${kind} limit is reached: ${usage.used} posted and ${queued} queued ${per}, at most ${usage.limit}.`);
}

// ---- text guards --------------------------------------------------------------------------------

export interface TextRules {
  kind: 'reply' | 'tweet';
  bannedPhrases: readonly string[];
  /** 0 = this is the first generation; a failing verdict then asks for one regeneration. */
  attempt: number;
}

export interface ReplyTextRules extends TextRules {
  kind: 'reply';
  business: Pick<BusinessProfile, 'productName' | 'productUrl'>;
  productMentionRatio: number;
  /** The Bernoulli draw for this reply (drawProductMention): may it mention the product? */
  mentionAllowed: boolean;
}

export function checkText(db: Database.Database, text: string, rules: TextRules | ReplyTextRules): Verdict {
  const regenerate = rules.attempt < 1;
  const trimmed = text.trim();
  if (trimmed === '') return deny('empty_text', 'The generated text is empty.', regenerate);
  const parsed = twitter.parseTweet(trimmed);
  if (!parsed.valid) return deny('too_long', `The text is ${parsed.weightedLength} weighted characters (at most 280).`, regenerate);
  const phrase = bannedPhraseIn(trimmed, rules.bannedPhrases);
  if (phrase !== null) return deny('banned_phrase', `The text contains the banned phrase "${phrase}".`, regenerate);
  const recent = recentTexts(db, rules.kind);
  const similar = mostSimilar(trimmed, recent);
  if (similar !== null) return deny('similar_phrasing', `The text is too close to a recent ${rules.kind} (similarity ${similar.toFixed(2)}).`, regenerate);
  if (rules.kind === 'reply' && 'business' in rules && mentionsProduct(trimmed, rules.business)) {
    if (!rules.mentionAllowed) return deny('product_mention_ratio', 'This reply was not meant to mention the product.', regenerate);
    const allowed = mentionAllowance(rules.productMentionRatio);
    const used = recentMentionCount(db);
    if (used >= allowed) {
      return deny('product_mention_ratio', `${used} of the last ${RECENT_WINDOW} replies already mention the product (at most ${allowed}).`, regenerate);
    }
  }
  return allow;
}

/** The first banned phrase the text contains (case-insensitive, whole words), or null. */
export function bannedPhraseIn(text: string, phrases: readonly string[]): string | null {
  const haystack = ` ${words(text).join(' ')} `;
  for (const phrase of phrases) {
    const needle = words(phrase).join(' ');
    if (needle !== '' && haystack.includes(` ${needle} `)) return phrase;
  }
  return null;
}

/** Word set for the similarity check: lowercased, split on whitespace, punctuation trimmed at the ends. */
export function similarityTokens(text: string): Set<string> {
  return new Set(
    text
      .toLowerCase()
      .split(/\s+/)
      .map((token) => token.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
      .filter((token) => token !== ''),
  );
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const token of a) if (b.has(token)) shared++;
  return shared / (a.size + b.size - shared);
}

/** The similarity of the closest recent text when it is too close (exact, or Jaccard ≥ 0.8), else null. */
export function mostSimilar(text: string, recent: readonly string[]): number | null {
  const normalized = text.trim().toLowerCase();
  const tokens = similarityTokens(text);
  let worst: number | null = null;
  for (const other of recent) {
    if (other.trim().toLowerCase() === normalized) return 1;
    if (tokens.size < FUZZY_MIN_WORDS) continue;
    const score = jaccard(tokens, similarityTokens(other));
    if (score >= SIMILARITY_THRESHOLD && (worst === null || score > worst)) worst = score;
  }
  return worst;
}

/** The last texts of a kind, posted or on their way, newest first. */
export function recentTexts(db: Database.Database, kind: 'reply' | 'tweet', limit = RECENT_WINDOW): string[] {
  const posted = kind === 'reply' ? 'SELECT content, posted_at AS at FROM replies' : 'SELECT content, posted_at AS at FROM original_tweets';
  return db
    .prepare<[string, number], { content: string }>(
      `SELECT content FROM (${posted} UNION ALL SELECT content, created_at AS at FROM approval_queue WHERE kind = ? AND status IN ${OPEN_QUEUE})
       ORDER BY at DESC LIMIT ?`,
    )
    .all(kind, limit)
    .map((row) => row.content);
}

/** Whether a text names the product or links to it. */
export function mentionsProduct(text: string, business: Pick<BusinessProfile, 'productName' | 'productUrl'>): boolean {
  const name = words(business.productName).join(' ');
  if (name !== '' && ` ${words(text).join(' ')} `.includes(` ${name} `)) return true;
  if (business.productUrl) {
    try {
      const host = new URL(business.productUrl).hostname.replace(/^www\./, '').toLowerCase();
      if (host !== '' && text.toLowerCase().includes(host)) return true;
    } catch {
      // An unparseable URL cannot be recognised in a text either.
    }
  }
  return false;
}

/** How many of the last 20 replies may mention the product: ratio × 20, at least one unless the ratio is 0. */
export function mentionAllowance(ratio: number): number {
  return ratio <= 0 ? 0 : Math.max(1, Math.round(ratio * RECENT_WINDOW));
}

/** The per-reply draw: about `ratio` of replies are written with the product in mind. */
export function drawProductMention(ratio: number, random: () => number = Math.random): boolean {
  return random() < ratio;
}

function recentMentionCount(db: Database.Database): number {
  return db
    .prepare<[number], { n: number }>(
      `SELECT coalesce(sum(mentions_product), 0) AS n FROM (
         SELECT mentions_product, at FROM (
           SELECT mentions_product, posted_at AS at FROM replies
           UNION ALL SELECT mentions_product, created_at AS at FROM approval_queue WHERE kind = 'reply' AND status IN ${OPEN_QUEUE})
         ORDER BY at DESC LIMIT ?)`,
    )
    .get(RECENT_WINDOW)!.n;
}
