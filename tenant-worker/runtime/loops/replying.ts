/**
 * Answering one post (found by discovery, a mention or a target account): the candidate guards, room
 * under the reply limit (queued replies count), the product-mention draw, generation with the text
 * guards (one regeneration, then drop), then the approval queue or X. Every "no" is an ActionSkipped
 * with its reason, and the stored post remembers how far it went.
 */
import { ContentGenerator } from '../../llm/content/generator.js';
import { LlmAuthError, LlmNotConfiguredError, LlmRateLimitedError } from '../../llm/errors.js';
import { enqueueApproval } from '../approvals.js';
import { recordSkip } from '../action-log.js';
import type { RuntimeConfig } from '../config.js';
import type { ActionSource } from '../events.js';
import { checkCandidate, checkText, drawProductMention, limitVerdict, mentionsProduct, queuedCount, type SkipReason } from '../guards.js';
import { lastPostAt, nextPostAt } from '../pacing.js';
import type { LoopDeps } from './deps.js';
import { publish } from './posting.js';

export interface StoredCandidate {
  tweetId: string;
  authorId: string;
  authorUsername: string;
  text: string;
  score: number | null;
}

/**
 * What happened: `next` = go on with the next candidate; `stop` = no more replies this run (limit, pacing,
 * X budget); `wait` = the LLM asks us to come back at `until`.
 */
export type Answered = { outcome: 'queued' | 'posted' | 'skipped' | 'next' } | { outcome: 'stop'; until: number | null } | { outcome: 'wait'; until: number };

export function contentGenerator(deps: LoopDeps, config: RuntimeConfig): ContentGenerator | null {
  const llm = deps.llm();
  if (!llm) return null;
  const { business, persona } = config;
  return new ContentGenerator({
    llm,
    random: deps.random,
    profile: {
      productName: business.productName,
      productDescription: business.productDescription,
      productUrl: business.productUrl,
      targetAudience: business.targetAudience,
      brandVoice: persona.brandVoice,
      replyStyle: persona.replyStyle,
      contentStyle: persona.contentStyle,
      personaOpinions: persona.opinions,
      personaExperiences: persona.experiences,
      contentPillars: persona.contentPillars,
    },
  });
}

export async function answer(
  deps: LoopDeps,
  config: RuntimeConfig,
  self: { id: string; username: string },
  candidate: StoredCandidate,
  source: Extract<ActionSource, 'discovery' | 'mention' | 'target'>,
): Promise<Answered> {
  const { db } = deps;
  const now = deps.now();
  const skip = (reason: SkipReason, detail: string) => {
    recordSkip(deps, { action: 'reply', source, reason, detail, targetTweetId: candidate.tweetId });
    db.prepare("UPDATE discovered_tweets SET status = 'skipped', skip_reason = ?, evaluated_at = ? WHERE tweet_id = ?").run(reason, now, candidate.tweetId);
  };
  const verdict = checkCandidate(
    db,
    { tweetId: candidate.tweetId, authorId: candidate.authorId, authorUsername: candidate.authorUsername, source },
    { self, maxRepliesPerAuthorPerDay: config.limits.maxRepliesPerAuthorPerDay, maxTargetRepliesPerDay: config.limits.maxTargetRepliesPerDay, timezone: config.schedule.timezone },
    now,
  );
  if (!verdict.ok) {
    skip(verdict.reason, verdict.detail);
    return { outcome: 'skipped' };
  }
  const room = limitVerdict('reply', deps.limits.usage('reply', config.limits.maxRepliesPerDay), queuedCount(db, 'reply'));
  // The post stays `new`: it may be answered tomorrow while it is still fresh.
  if (!room.ok) {
    recordSkip(deps, { action: 'reply', source, reason: room.reason, detail: room.detail, targetTweetId: candidate.tweetId });
    return { outcome: 'stop', until: null };
  }
  const direct = !config.effectiveApprovalMode;
  if (direct) {
    const at = nextPostAt(lastPostAt(db), now, config.pacing, deps.random);
    if (at > now) return { outcome: 'stop', until: at };
  }
  const generator = contentGenerator(deps, config);
  if (!generator) return { outcome: 'stop', until: null };
  const mentionAllowed = drawProductMention(config.limits.productMentionRatio, deps.random);
  let text = '';
  let archetype: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const reply = await generator.reply({ authorUsername: candidate.authorUsername, text: candidate.text }, { mentionProduct: mentionAllowed, ...(archetype && { archetype: archetype as never }) });
      text = reply.text;
      archetype = reply.archetype;
    } catch (error) {
      if (error instanceof LlmRateLimitedError) return { outcome: 'wait', until: deps.now() + error.retryAfterMs };
      if (error instanceof LlmAuthError || error instanceof LlmNotConfiguredError) throw error;
      skip('generation_failed', `The reply could not be written: ${error instanceof Error ? error.message : String(error)}`);
      return { outcome: 'skipped' };
    }
    const textVerdict = checkText(db, text, {
      kind: 'reply',
      bannedPhrases: config.limits.bannedPhrases,
      attempt,
      business: config.business,
      productMentionRatio: config.limits.productMentionRatio,
      mentionAllowed,
    });
    if (textVerdict.ok) break;
    if (!textVerdict.regenerate) {
      skip(textVerdict.reason, textVerdict.detail);
      return { outcome: 'skipped' };
    }
  }
  const mentions = mentionsProduct(text, config.business);
  if (!direct) {
    const queued = enqueueApproval(deps, {
      kind: 'reply',
      content: text,
      source,
      target: { tweetId: candidate.tweetId, authorId: candidate.authorId, authorUsername: candidate.authorUsername, text: candidate.text },
      score: candidate.score,
      format: archetype ?? null,
      mentionsProduct: mentions,
    });
    if (!queued.ok) {
      skip('already_replied', queued.message);
      return { outcome: 'skipped' };
    }
    return { outcome: 'queued' };
  }
  const posted = await publish(deps, {
    kind: 'reply',
    text,
    inReplyTo: candidate.tweetId,
    source,
    claim: { kind: 'reply', userSetting: config.limits.maxRepliesPerDay },
    details: { targetAuthorId: candidate.authorId, targetAuthorUsername: candidate.authorUsername, score: candidate.score, format: archetype ?? null, mentionsProduct: mentions },
  });
  if (posted.ok) return { outcome: 'posted' };
  if (posted.code === 'already_replied') {
    skip('already_replied', posted.message);
    return { outcome: 'skipped' };
  }
  if (posted.code === 'x_budget' || posted.code === 'limit_reached') {
    recordSkip(deps, { action: 'reply', source, reason: posted.code === 'x_budget' ? 'x_budget' : 'limit_reached', detail: posted.message, targetTweetId: candidate.tweetId });
  }
  return { outcome: 'stop', until: null };
}
