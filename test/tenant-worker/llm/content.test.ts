// Content generation: the §7.2 prompts for every kind (product mention on and off, voice, styles,
// persona), the §7.4 variety frameworks (weighted archetypes, format rotation, structures), X's
// weighted length (emoji, CJK, URLs) with retry-once-then-cut, and thread parsing with its
// fallbacks, end to end against the sandbox LLM.
import t from 'tap';
import { prng } from '../../../sandbox/x/world.js';
import { ContentGenerator } from '../../../tenant-worker/llm/content/generator.js';
import { fitsTweet, truncateTweet, weightedLength } from '../../../tenant-worker/llm/content/length.js';
import { CONCISE_RETRY, THREAD_RETRY, replyPrompt, threadPrompt, tweetPrompt, type ContentProfile } from '../../../tenant-worker/llm/content/prompts.js';
import { isValidThread, parseThread } from '../../../tenant-worker/llm/content/thread-parse.js';
import { REPLY_ARCHETYPES, THREAD_STRUCTURES, TWEET_FORMATS, pickArchetype, pickAvoiding } from '../../../tenant-worker/llm/content/variety.js';
import { LlmGenerationError } from '../../../tenant-worker/llm/errors.js';
import { llmHarness } from '../../helpers/llm.js';

const PROFILE: ContentProfile = { productName: 'Shipfast', productDescription: 'A Next.js boilerplate for indie makers', productUrl: 'https://shipfa.st', targetAudience: 'indie founders' };
const PERSONA: ContentProfile = {
  ...PROFILE,
  brandVoice: 'dry, candid',
  replyStyle: 'short and warm',
  contentStyle: 'practical',
  personaOpinions: ['ship weekly', 'tests are documentation'],
  personaExperiences: ['sold a SaaS in 2023'],
  contentPillars: ['pricing', 'launches'],
};
const TARGET = { authorUsername: 'ada', text: 'How do you price a dev tool?' };

t.test('reply prompts: product details and the mention rule follow mentionProduct', async (t) => {
  const on = replyPrompt(PROFILE, TARGET, { mentionProduct: true, fragment: null });
  t.match(on.system, 'You are a helpful community member who uses Shipfast (A Next.js boilerplate for indie makers).');
  t.match(on.system, 'Your audience: indie founders.');
  t.match(on.system, 'Product URL: https://shipfa.st');
  t.match(on.system, 'Reply style: conversational and helpful, not salesy; sound like a real person');
  t.match(on.system, '- Mention Shipfast only if it is genuinely relevant.');
  for (const rule of ['- At most 3 sentences.', '- No hashtags.', '- No excessive emojis.']) t.match(on.system, rule);
  t.equal(on.user, 'Tweet by @ada: How do you price a dev tool?');
  t.same([on.maxTokens, on.temperature], [200, 0.7]);

  const off = replyPrompt(PROFILE, TARGET, { mentionProduct: false, fragment: null });
  t.notMatch(off.system, /Next\.js boilerplate|shipfa\.st|who uses/);
  t.match(off.system, '- Do NOT mention Shipfast or any product.');
  t.notMatch(off.system, /Voice & personality|Opinions you hold/, 'optional sections only when configured');
});

t.test('optional sections: voice, styles, fragment and persona, in every kind', async (t) => {
  const fragment = 'Reply archetype: Ask a question.';
  for (const prompt of [replyPrompt(PERSONA, TARGET, { mentionProduct: true, fragment }), tweetPrompt(PERSONA, 'pricing', fragment), threadPrompt(PERSONA, 'pricing', fragment)]) {
    t.match(prompt.system, 'Voice & personality: dry, candid');
    t.match(prompt.system, fragment);
    t.match(prompt.system, 'Opinions you hold: ship weekly; tests are documentation');
    t.match(prompt.system, 'Experiences you can reference: sold a SaaS in 2023');
    t.match(prompt.system, 'Content pillars: pricing, launches');
  }
  t.match(replyPrompt(PERSONA, TARGET, { mentionProduct: true, fragment: null }).system, 'Reply style: short and warm');
  t.match(tweetPrompt(PERSONA, 'x', null).system, 'Content style: practical');
});

t.test('tweet and thread prompts', async (t) => {
  const tweet = tweetPrompt(PROFILE, 'pricing', null);
  t.match(tweet.system, "You are Shipfast's social media voice. A Next.js boilerplate for indie makers. Your audience: indie founders.");
  t.match(tweet.system, 'Content style: informative and engaging');
  for (const rule of ['single educational tweet', 'At most 280 characters', 'No hashtags', 'Do not mention Shipfast unless it is central']) t.match(tweet.system, rule);
  t.same([tweet.user, tweet.maxTokens, tweet.temperature], ['Write a tweet about: pricing', 150, 0.8]);
  const thread = threadPrompt(PROFILE, 'pricing', null);
  t.match(thread.system, 'Content style: informative, not promotional');
  for (const rule of ['5-8 tweets', 'a line containing only ---', 'under 280 characters', 'first tweet hooks', 'call to action or a summary', 'No hashtags']) t.match(thread.system, rule);
  t.same([thread.user, thread.maxTokens, thread.temperature], ['Write a thread about: pricing', 1500, 0.7]);
});

t.test('archetypes are drawn by weight 30/25/20/15/10 (seeded, 20,000 draws)', async (t) => {
  const random = prng(42);
  const counts = new Map<string, number>();
  const draws = 20_000;
  for (let i = 0; i < draws; i++) {
    const id = pickArchetype(random).id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  // A chi-square test at 4 degrees of freedom: 13.28 is the 1 % critical value.
  let chi = 0;
  for (const { id, weight } of REPLY_ARCHETYPES) {
    const expected = (draws * weight) / 100;
    chi += ((counts.get(id) ?? 0) - expected) ** 2 / expected;
    t.ok(Math.abs((counts.get(id) ?? 0) / draws - weight / 100) < 0.015, `${id} ≈ ${weight} %`);
  }
  t.ok(chi < 13.28, `chi² = ${chi.toFixed(2)}`);
  t.same(REPLY_ARCHETYPES.map((a) => a.weight), [30, 25, 20, 15, 10]);
});

t.test('formats rotate: never a recent one while a fresh one exists, else the longest unused', async (t) => {
  const random = prng(7);
  const recent: string[] = [];
  for (let i = 0; i < 70; i++) {
    const format = pickAvoiding(TWEET_FORMATS, recent.slice(0, 3), random).id;
    t.notOk(recent.slice(0, 3).includes(format));
    recent.unshift(format);
  }
  t.equal(new Set(recent).size, TWEET_FORMATS.length, 'every format gets used');
  const all = TWEET_FORMATS.map((f) => f.id);
  t.equal(pickAvoiding(TWEET_FORMATS, all, random).id, all.at(-1), 'all recent: the one used longest ago');
  t.equal(pickAvoiding(THREAD_STRUCTURES, ['framework', 'mistakes', 'analysis'], random).id, 'transformation');
});

t.test("X's weighted length: emoji and CJK weigh 2, URLs 23", async (t) => {
  t.equal(weightedLength('hello'), 5);
  t.equal(weightedLength('😀'), 2);
  t.equal(weightedLength('日本語'), 6);
  t.equal(weightedLength(`see https://example.com/${'a'.repeat(200)}`), 4 + 23);
  t.ok(fitsTweet('é'.repeat(280)));
  t.notOk(fitsTweet('日'.repeat(141)));
  t.ok(fitsTweet('日'.repeat(140)));
  t.ok(fitsTweet(`${'a'.repeat(250)} https://example.com/${'x'.repeat(100)}`), 'a long URL counts 23, not its bytes (the reference quirk)');
  t.ok(fitsTweet('👩‍💻'.repeat(140)), 'a ZWJ emoji sequence weighs 2');
  t.notOk(fitsTweet(''));
});

t.test('the cut: last sentence end, else last word plus "...", else last character; never inside a URL or an emoji', async (t) => {
  const sentences = `${'Short sentence here. '.repeat(13)}And a final sentence that goes beyond the limit for sure.`;
  const cut = truncateTweet(sentences);
  t.ok(fitsTweet(cut));
  t.match(cut, /here\.$/);
  const words = `${'word '.repeat(80)}end`;
  t.match(truncateTweet(words), /word\.\.\.$/);
  t.ok(fitsTweet(truncateTweet(words)));
  const cjk = '日本語の文章です'.repeat(30);
  const cjkCut = truncateTweet(cjk);
  t.ok(fitsTweet(cjkCut) && weightedLength(cjkCut) >= 270, 'CJK without spaces is cut by characters');
  const cjkSentences = '今日はいい天気です。'.repeat(20);
  t.match(truncateTweet(cjkSentences), /。$/);
  const emoji = '🚀'.repeat(200);
  const emojiCut = truncateTweet(emoji);
  t.ok(fitsTweet(emojiCut));
  t.notMatch(emojiCut, /\uD83D(?!\uDE80)/, 'no half emoji');
  const url = `${'a '.repeat(125)}https://example.com/${'p'.repeat(40)} ${'b '.repeat(30)}`;
  const urlCut = truncateTweet(url);
  t.ok(fitsTweet(urlCut));
  t.ok(urlCut.includes(`https://example.com/${'p'.repeat(40)}`) || !urlCut.includes('https://'), 'the URL is kept whole or dropped');
  t.equal(truncateTweet('fits already'), 'fits already');
});

t.test('thread parsing: --- first, numbered patterns as fallbacks', async (t) => {
  const five = ['Hook', 'Two', 'Three', 'Four', 'Close'];
  t.same(parseThread(five.join('\n---\n')), five);
  t.same(parseThread(five.join('\n\n  ---  \n\n')), five, 'separator lines may have spaces');
  t.same(parseThread(five.map((s, i) => `${i + 1}/ ${s}`).join('\n---\n')), five, 'own numbers stripped');
  t.same(parseThread(five.map((s, i) => `${i + 1}/5 ${s}`).join('\n\n')), five);
  t.same(parseThread(five.map((s, i) => `${i + 1}. ${s}`).join('\n')), five);
  t.same(parseThread(five.map((s, i) => `${i + 1}) ${s}`).join('\n')), five);
  t.same(parseThread(five.map((s, i) => `(${i + 1}) ${s}`).join('\n')), five);
  t.same(parseThread('Here is your thread:\n1/ Hook\nmore hook\n2/ Two\n3/ Three'), ['Hook\nmore hook', 'Two', 'Three'], 'preamble dropped, continuation lines kept');
  t.same(parseThread('1. Steps:\n1. not a new tweet\n2. Two'), ['Steps:\n1. not a new tweet', 'Two'], 'only the next number starts a tweet');
  t.same(parseThread('just one paragraph'), []);
  t.ok(isValidThread(five));
  t.notOk(isValidThread(five.slice(0, 4)));
  t.notOk(isValidThread([...five, ...five]));
  t.notOk(isValidThread([...five.slice(0, 4), 'x'.repeat(281)]));
});

t.test('generation against the sandbox LLM: the variant is returned and followed', async (t) => {
  const h = await llmHarness(t);
  const generator = new ContentGenerator({ llm: h.client('anthropic'), profile: PERSONA, random: prng(3) });
  const reply = await generator.reply(TARGET, { mentionProduct: false, archetype: 'ask_question' });
  t.match(reply, { archetype: 'ask_question', mentionProduct: false, attempts: 1, truncated: false, provider: 'anthropic' });
  t.match(reply.text, /\?/);
  t.notMatch(reply.text, /shipfast/i);
  t.match(h.fake.requests.at(-1)?.system, 'Reply archetype: Ask a question');

  const tweet = await generator.tweet('pricing', { recentFormats: TWEET_FORMATS.map((f) => f.id).filter((id) => id !== 'tip') });
  t.equal(tweet.format, 'tip', 'the only fresh format');
  t.ok(fitsTweet(tweet.text));
  const thread = await generator.thread('launches');
  t.ok(isValidThread(thread.tweets));
  t.ok(THREAD_STRUCTURES.some((s) => s.id === thread.structure));
  t.same(h.rows().map((r) => r.purpose), ['reply', 'tweet', 'thread']);
});

t.test('a reply or tweet over 280 is asked again once, then cut', async (t) => {
  const h = await llmHarness(t);
  const generator = new ContentGenerator({ llm: h.client('openai'), profile: PROFILE, random: prng(1) });
  const long = `${'This is a long sentence about pricing. '.repeat(9)}The end.`;
  h.fake.inject({ content: long });
  const second = await generator.tweet('pricing');
  t.match(second, { attempts: 2, truncated: false });
  t.match(h.fake.requests.at(-1)?.user, `Write a tweet about: pricing\n\n${CONCISE_RETRY}`);
  t.ok(second.usage.outputTokens > Math.ceil(long.length / 4), 'usage adds up both attempts');

  h.fake.inject({ content: long, times: 2 });
  const cut = await generator.reply(TARGET, { mentionProduct: true });
  t.match(cut, { attempts: 2, truncated: true });
  t.ok(fitsTweet(cut.text));
  t.match(cut.text, /pricing\.$/);
  t.equal(h.rows().length, 4, 'every attempt is its own ledger row');
});

t.test('a thread gets up to 3 attempts, the later ones insisting on ---; then GenerationFailed', async (t) => {
  const h = await llmHarness(t);
  const generator = new ContentGenerator({ llm: h.client('openai'), profile: PROFILE, random: prng(1) });
  h.fake.inject({ content: 'A thread in one paragraph, without any separators.' });
  h.fake.inject({ content: ['1/ Hook', '2/ Two', '3/ Three', '4/ Four', '5/ Close'].join('\n') });
  const numbered = await generator.thread('pricing', { structure: 'framework' });
  t.same(numbered.tweets, ['Hook', 'Two', 'Three', 'Four', 'Close']);
  t.match(numbered, { attempts: 2, structure: 'framework' });
  t.match(h.fake.requests.at(-1)?.user, THREAD_RETRY);

  h.fake.inject({ content: 'one\n---\ntwo', times: 3 });
  const failed = await generator.thread('pricing').catch((e: unknown) => e);
  t.ok(failed instanceof LlmGenerationError);
  t.equal(h.fake.requests.length, 5);
});
