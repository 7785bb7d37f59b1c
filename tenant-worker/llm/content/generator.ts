/**
 * Replies, tweets and threads from the tenant's LLM (reference §7): builds the prompt with a
 * variety fragment, asks the model, and holds the result to X's length rules.
 *
 * - Reply and tweet: over 280 weighted characters → ask once more with "MUST be under 280…"; still
 *   over → cut (length.ts). The answer says whether it was retried or cut.
 * - Thread: up to 3 attempts, the 2nd and 3rd insisting on the `---` format; none valid →
 *   `LlmGenerationError` (the reference's GenerationFailed).
 * Each result names the archetype, format or structure used, for the caller to store; usage adds up
 * every attempt (each is also its own row in the ledger, through the client's meter).
 */
import { LlmGenerationError } from '../errors.js';
import type { CompletionRequest, CompletionResult } from '../client.js';
import { fitsTweet, truncateTweet } from './length.js';
import { CONCISE_RETRY, THREAD_RETRY, replyPrompt, threadPrompt, tweetPrompt, withRetryInstruction, type ContentProfile, type Prompt, type ReplyTarget } from './prompts.js';
import { isValidThread, parseThread } from './thread-parse.js';
import { REPLY_ARCHETYPES, THREAD_STRUCTURES, TWEET_FORMATS, pickArchetype, pickAvoiding, variantOf, type ReplyArchetype, type ThreadStructure, type TweetFormat } from './variety.js';

/** What the generator needs of a client (LlmClient fits; tests may pass a stub). */
export interface Completer {
  complete(request: CompletionRequest): Promise<CompletionResult>;
}

export interface Generated {
  usage: { inputTokens: number; outputTokens: number };
  /** LLM calls made (retries included). */
  attempts: number;
  provider: string;
  model: string;
}

export interface GeneratedReply extends Generated {
  text: string;
  archetype: ReplyArchetype;
  /** Whether the prompt allowed the product to be named. */
  mentionProduct: boolean;
  truncated: boolean;
}

export interface GeneratedTweet extends Generated {
  text: string;
  format: TweetFormat;
  truncated: boolean;
}

export interface GeneratedThread extends Generated {
  tweets: string[];
  structure: ThreadStructure;
}

export interface ContentGeneratorOptions {
  llm: Completer;
  profile: ContentProfile;
  /** For the archetype, format and structure draws (seed it in tests). */
  random?: () => number;
}

export class ContentGenerator {
  readonly #llm: Completer;
  readonly #profile: ContentProfile;
  readonly #random: () => number;

  constructor(options: ContentGeneratorOptions) {
    this.#llm = options.llm;
    this.#profile = options.profile;
    this.#random = options.random ?? Math.random;
  }

  /**
   * `mentionProduct` is the caller's draw against the product-mention ratio; `archetype` overrides
   * the weighted draw (e.g. to regenerate in the same style).
   */
  async reply(target: ReplyTarget, options: { mentionProduct: boolean; archetype?: ReplyArchetype }): Promise<GeneratedReply> {
    const archetype = (options.archetype && variantOf(REPLY_ARCHETYPES, options.archetype)) || pickArchetype(this.#random);
    const prompt = replyPrompt(this.#profile, target, { mentionProduct: options.mentionProduct, fragment: archetype.fragment });
    const single = await this.#single(prompt, 'reply');
    return { ...single, archetype: archetype.id, mentionProduct: options.mentionProduct };
  }

  /** `recentFormats`: the formats of the latest tweets, most recent first; a fresh one is chosen. */
  async tweet(topic: string, options: { recentFormats?: readonly string[]; format?: TweetFormat } = {}): Promise<GeneratedTweet> {
    const format = (options.format && variantOf(TWEET_FORMATS, options.format)) || pickAvoiding(TWEET_FORMATS, options.recentFormats ?? [], this.#random);
    const single = await this.#single(tweetPrompt(this.#profile, topic, format.fragment), 'tweet');
    return { ...single, format: format.id };
  }

  async thread(topic: string, options: { recentStructures?: readonly string[]; structure?: ThreadStructure } = {}): Promise<GeneratedThread> {
    const structure = (options.structure && variantOf(THREAD_STRUCTURES, options.structure)) || pickAvoiding(THREAD_STRUCTURES, options.recentStructures ?? [], this.#random);
    const prompt = threadPrompt(this.#profile, topic, structure.fragment);
    const usage = { inputTokens: 0, outputTokens: 0 };
    let last: CompletionResult | null = null;
    for (let attempt = 1; attempt <= 3; attempt++) {
      last = await this.#ask(attempt === 1 ? prompt : withRetryInstruction(prompt, THREAD_RETRY), 'thread', usage);
      const tweets = parseThread(last.text);
      if (isValidThread(tweets)) return { tweets, structure: structure.id, usage, attempts: attempt, provider: last.provider, model: last.model };
    }
    throw new LlmGenerationError(`The model did not write a valid thread of 5-8 tweets about "${topic}" in 3 attempts`);
  }

  /** One tweet-sized text: one retry when too long, then the cut. */
  async #single(prompt: Prompt, purpose: string): Promise<Omit<GeneratedTweet, 'format'>> {
    const usage = { inputTokens: 0, outputTokens: 0 };
    let result = await this.#ask(prompt, purpose, usage);
    let attempts = 1;
    if (!fitsTweet(result.text.trim())) {
      result = await this.#ask(withRetryInstruction(prompt, CONCISE_RETRY), purpose, usage);
      attempts = 2;
    }
    const text = result.text.trim();
    if (text === '') throw new LlmGenerationError(`The model answered an empty ${purpose}`);
    const fits = fitsTweet(text);
    return { text: fits ? text : truncateTweet(text), truncated: !fits, usage, attempts, provider: result.provider, model: result.model };
  }

  async #ask(prompt: Prompt, purpose: string, usage: { inputTokens: number; outputTokens: number }): Promise<CompletionResult> {
    const result = await this.#llm.complete({ system: prompt.system, user: prompt.user, maxTokens: prompt.maxTokens, temperature: prompt.temperature, purpose });
    usage.inputTokens += result.usage.inputTokens;
    usage.outputTokens += result.usage.outputTokens;
    return result;
  }
}
