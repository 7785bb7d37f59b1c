/**
 * The prompts for replies, tweets and threads (reference §7.2): the system prompt carries who we are
 * and the rules, the user prompt carries the task. Optional sections (voice, style, the variety
 * fragment, the persona) appear only when there is something to say. Pure functions: the generator
 * decides which fragment; tests read exactly what the model will read.
 */

/** The tenant's business profile and persona, as the settings hold them. */
export interface ContentProfile {
  productName: string;
  productDescription: string;
  productUrl?: string | null;
  targetAudience: string;
  brandVoice?: string | null;
  replyStyle?: string | null;
  contentStyle?: string | null;
  personaOpinions?: readonly string[];
  personaExperiences?: readonly string[];
  contentPillars?: readonly string[];
}

export interface Prompt {
  system: string;
  user: string;
  maxTokens: number;
  temperature: number;
}

export const REPLY_MAX_TOKENS = 200;
export const TWEET_MAX_TOKENS = 150;
export const THREAD_MAX_TOKENS = 1500;

/** Added to the task when a reply or tweet came back over 280 weighted characters. */
export const CONCISE_RETRY = 'MUST be under 280 characters. Be more concise.';
/** Added to the task on a thread's second and third attempts. */
export const THREAD_RETRY = 'IMPORTANT: Write exactly 5-8 tweets, each under 280 characters, separated by lines containing only ---';

const present = (text: string | null | undefined): text is string => typeof text === 'string' && text.trim() !== '';

function optionalSections(profile: ContentProfile, style: { label: string; value: string | null | undefined; fallback: string }, fragment: string | null): string[] {
  const sections: string[] = [];
  if (present(profile.brandVoice)) sections.push(`Voice & personality: ${profile.brandVoice.trim()}`);
  sections.push(`${style.label}: ${present(style.value) ? style.value.trim() : style.fallback}`);
  if (fragment) sections.push(fragment);
  const persona = [
    profile.personaOpinions?.length ? `Opinions you hold: ${profile.personaOpinions.join('; ')}` : null,
    profile.personaExperiences?.length ? `Experiences you can reference: ${profile.personaExperiences.join('; ')}` : null,
    profile.contentPillars?.length ? `Content pillars: ${profile.contentPillars.join(', ')}` : null,
  ].filter((line): line is string => line !== null);
  if (persona.length > 0) sections.push(persona.join('\n'));
  return sections;
}

const rules = (lines: string[]) => `Rules:\n${lines.map((line) => `- ${line}`).join('\n')}`;

export interface ReplyTarget {
  authorUsername: string;
  text: string;
}

export function replyPrompt(profile: ContentProfile, target: ReplyTarget, options: { mentionProduct: boolean; fragment: string | null }): Prompt {
  const product = profile.productName.trim();
  const opening = options.mentionProduct
    ? [
        `You are a helpful community member who uses ${product} (${profile.productDescription.trim()}).`,
        `Your audience: ${profile.targetAudience.trim()}.`,
        ...(present(profile.productUrl) ? [`Product URL: ${profile.productUrl.trim()}`] : []),
      ]
    : ['You are a helpful community member.', `Your audience: ${profile.targetAudience.trim()}.`];
  const system = [
    opening.join('\n'),
    ...optionalSections(profile, { label: 'Reply style', value: profile.replyStyle, fallback: 'conversational and helpful, not salesy; sound like a real person' }, options.fragment),
    rules([
      'Write a reply to the tweet.',
      'At most 3 sentences.',
      options.mentionProduct ? `Mention ${product} only if it is genuinely relevant.` : `Do NOT mention ${product} or any product.`,
      'No hashtags.',
      'No excessive emojis.',
    ]),
  ].join('\n\n');
  return { system, user: `Tweet by @${target.authorUsername}: ${target.text}`, maxTokens: REPLY_MAX_TOKENS, temperature: 0.7 };
}

function voiceOpening(profile: ContentProfile): string {
  const description = profile.productDescription.trim().replace(/\.$/, '');
  return `You are ${profile.productName.trim()}'s social media voice. ${description}. Your audience: ${profile.targetAudience.trim()}.`;
}

export function tweetPrompt(profile: ContentProfile, topic: string, fragment: string | null): Prompt {
  const system = [
    voiceOpening(profile),
    ...optionalSections(profile, { label: 'Content style', value: profile.contentStyle, fallback: 'informative and engaging' }, fragment),
    rules(['Write a single educational tweet.', 'At most 280 characters.', 'No hashtags.', `Do not mention ${profile.productName.trim()} unless it is central to the topic.`]),
  ].join('\n\n');
  return { system, user: `Write a tweet about: ${topic}`, maxTokens: TWEET_MAX_TOKENS, temperature: 0.8 };
}

export function threadPrompt(profile: ContentProfile, topic: string, fragment: string | null): Prompt {
  const system = [
    voiceOpening(profile),
    ...optionalSections(profile, { label: 'Content style', value: profile.contentStyle, fallback: 'informative, not promotional' }, fragment),
    rules([
      'Write an educational thread of 5-8 tweets.',
      'Separate tweets with a line containing only ---',
      'Each tweet under 280 characters.',
      'The first tweet hooks the reader.',
      'The last tweet is a call to action or a summary.',
      'No hashtags.',
    ]),
  ].join('\n\n');
  return { system, user: `Write a thread about: ${topic}`, maxTokens: THREAD_MAX_TOKENS, temperature: 0.7 };
}

export function withRetryInstruction(prompt: Prompt, instruction: string): Prompt {
  return { ...prompt, user: `${prompt.user}\n\n${instruction}` };
}
