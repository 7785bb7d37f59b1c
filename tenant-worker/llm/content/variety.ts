/**
 * The variety frameworks of the reference (§7.4), wired: a reply archetype drawn by weight, a tweet
 * format that avoids the recently used ones, a thread structure likewise. Each comes with the prompt
 * fragment that asks the model for it, and its id is what the caller stores
 * (`approval_queue.archetype`, `content_scores.format`) so analytics can learn which ones work.
 */

export type ReplyArchetype = 'agree_and_expand' | 'ask_question' | 'share_experience' | 'add_data' | 'respectful_disagree';
export type TweetFormat = 'list' | 'contrarian_take' | 'most_people_think' | 'storytelling' | 'before_after' | 'question' | 'tip';
export type ThreadStructure = 'transformation' | 'framework' | 'mistakes' | 'analysis';

interface Variant<Id extends string> {
  id: Id;
  fragment: string;
}

export const REPLY_ARCHETYPES: ReadonlyArray<Variant<ReplyArchetype> & { weight: number }> = [
  { id: 'agree_and_expand', weight: 30, fragment: 'Reply archetype: Agree and expand. Agree with one specific point and add an insight the author did not mention.' },
  { id: 'ask_question', weight: 25, fragment: 'Reply archetype: Ask a question. Ask one thoughtful, specific question that invites the author to say more.' },
  { id: 'share_experience', weight: 20, fragment: 'Reply archetype: Share experience. Relate a short, concrete experience of your own that fits the tweet.' },
  { id: 'add_data', weight: 15, fragment: 'Reply archetype: Add data. Add a relevant number, fact or observation that strengthens the point; never invent statistics you cannot stand behind.' },
  { id: 'respectful_disagree', weight: 10, fragment: 'Reply archetype: Respectful disagree. Politely offer a different view with a reason, without being dismissive.' },
];

export const TWEET_FORMATS: ReadonlyArray<Variant<TweetFormat>> = [
  { id: 'list', fragment: 'Tweet format: List. A short intro line, then 3 to 5 brief points on their own lines.' },
  { id: 'contrarian_take', fragment: 'Tweet format: Contrarian take. Challenge a common belief about the topic and say why.' },
  { id: 'most_people_think', fragment: 'Tweet format: Most people think X. "Most people think X. Actually, Y." with a concrete reason.' },
  { id: 'storytelling', fragment: 'Tweet format: Storytelling. A tiny story with a beginning, a turn and a lesson.' },
  { id: 'before_after', fragment: 'Tweet format: Before/after. Contrast how it was before with how it is after one change.' },
  { id: 'question', fragment: 'Tweet format: Question. Ask the audience an engaging question, optionally with your own answer.' },
  { id: 'tip', fragment: 'Tweet format: Tip. One practical, specific tip the reader can use today.' },
];

export const THREAD_STRUCTURES: ReadonlyArray<Variant<ThreadStructure>> = [
  { id: 'transformation', fragment: 'Thread structure: Transformation. Where things started, the steps that changed them, where they are now.' },
  { id: 'framework', fragment: 'Thread structure: Framework. A named, step-by-step framework, one step per tweet.' },
  { id: 'mistakes', fragment: 'Thread structure: Mistakes. Common mistakes, one per tweet, each with what to do instead.' },
  { id: 'analysis', fragment: 'Thread structure: Analysis. Break the topic down into observations, each with its evidence or reason.' },
];

/** A weighted draw: agree & expand 30, ask question 25, share experience 20, add data 15, respectful disagree 10. */
export function pickArchetype(random: () => number): Variant<ReplyArchetype> {
  const total = REPLY_ARCHETYPES.reduce((sum, a) => sum + a.weight, 0);
  let point = random() * total;
  for (const archetype of REPLY_ARCHETYPES) {
    point -= archetype.weight;
    if (point < 0) return archetype;
  }
  return REPLY_ARCHETYPES.at(-1)!;
}

/**
 * A uniform draw among the variants not in `recent` (most recent first). When every variant was used
 * recently, the one used longest ago: the rotation never repeats while a fresh choice exists.
 */
export function pickAvoiding<Id extends string>(variants: ReadonlyArray<Variant<Id>>, recent: readonly string[], random: () => number): Variant<Id> {
  const fresh = variants.filter((v) => !recent.includes(v.id));
  if (fresh.length > 0) return fresh[Math.floor(random() * fresh.length)]!;
  const lastUse = (id: string) => recent.indexOf(id);
  return [...variants].sort((a, b) => lastUse(b.id) - lastUse(a.id))[0]!;
}

export function variantOf<Id extends string>(variants: ReadonlyArray<Variant<Id>>, id: string): Variant<Id> | undefined {
  return variants.find((v) => v.id === id);
}
