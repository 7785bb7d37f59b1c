// The sandbox LLM writes text of the shape the prompt asks for: replies of at most 3 sentences
// without hashtags that name the product only when allowed, tweets within X's weighted 280, threads
// of 5–8 tweets split by `---`; it follows archetype/format/structure fragments and the topic, varies
// between inputs and repeats itself for the same input and seed.
import twitter from 'twitter-text';
import t from 'tap';
import { readPrompt, type Task } from '../../sandbox/llm/prompt.js';
import { write } from '../../sandbox/llm/writer.js';
import { DEFAULT_TOPICS, prng } from '../../sandbox/x/world.js';

const MENTION_OK = 'You are a helpful community member who uses Shipfast (a boilerplate for indie makers).\nYour audience: founders.\n\nRules:\n- Mention Shipfast only if it is genuinely relevant.';
const MENTION_NO = 'You are a helpful community member.\nYour audience: founders.\n\nRules:\n- Do NOT mention Shipfast or any product.';
const VOICE = "You are Shipfast's social media voice. A boilerplate for indie makers. Your audience: founders.";
const TWEETS = [
  'Anyone else struggling with typescript lately? Would love some pointers.',
  'Hot take: most saas pricing advice online is wrong. Ship first, polish later.',
  'We cut our churn in half by rethinking startup marketing. Thread soon.',
  'Is ai agents worth it for a solo founder this year?',
  'Kubernetes upgrades ate my whole week again',
];

const sentences = (text: string) => text.split(/(?<=[.!?])\s+/).filter(Boolean).length;
const run = (system: string, user: string, seed = 1) => write(readPrompt(system, user, DEFAULT_TOPICS), prng(seed));

t.test('replies: at most 3 sentences, no hashtags, on the tweet topic', async (t) => {
  for (const [i, tweet] of TWEETS.entries()) {
    for (let seed = 1; seed <= 20; seed++) {
      const text = run(MENTION_OK, `Tweet by @ada${i}: ${tweet}`, seed);
      t.ok(sentences(text) <= 3, text);
      t.notMatch(text, /#\w/);
      t.ok(twitter.parseTweet(text).valid);
    }
  }
  t.match(run(MENTION_NO, `Tweet by @ada: ${TWEETS[0]}`), /typescript/i);
  t.match(run(MENTION_NO, `Tweet by @ada: ${TWEETS[4]}`), /kubernetes/i, 'an unknown topic is taken from the tweet itself');
});

t.test('the product is named only when the system prompt allows it', async (t) => {
  let named = 0;
  for (let seed = 1; seed <= 60; seed++) {
    const tweet = `Tweet by @ada: ${TWEETS[seed % TWEETS.length]}`;
    t.notMatch(run(MENTION_NO, tweet, seed), /shipfast/i);
    if (/Shipfast/.test(run(MENTION_OK, tweet, seed))) named++;
  }
  t.ok(named > 10 && named < 50, `named in some replies, not all (${named}/60)`);
});

t.test('archetype, format and structure fragments are followed', async (t) => {
  const reply = (archetype: string) => run(`${MENTION_NO}\nReply archetype: ${archetype}`, `Tweet by @ada: ${TWEETS[0]}`);
  t.match(reply('Ask a question. Ask one specific question.'), /\?/);
  t.match(reply('Respectful disagree. Politely offer a different view.'), /differently|push back|not sure/i);
  const persona = `${MENTION_NO}\nReply archetype: Respectful disagree\nOpinions you hold: tests are documentation; small teams beat big ones`;
  t.match(run(persona, `Tweet by @ada: ${TWEETS[0]}`), /tests are documentation|small teams beat big ones/);

  const tweet = (format: string) => run(`${VOICE}\nTweet format: ${format}`, 'Write a tweet about: cold email');
  t.match(tweet('List. 3 to 5 points.'), /\n(1\.|-) /);
  t.match(tweet('Most people think X. Actually, Y.'), /^Most people/);
  t.match(tweet('Before/after.'), /[Bb]efore/);
  t.match(tweet('Question.'), /\?/);

  const thread = run(`${VOICE}\nThread structure: Mistakes. One mistake per tweet.`, 'Write a thread about: onboarding');
  t.match(thread, /mistake/i);
});

t.test('tweets fit in 280 weighted characters; threads are 5–8 of them, hook first, summary or CTA last', async (t) => {
  const lengths = new Set<number>();
  for (let seed = 1; seed <= 40; seed++) {
    const tweet = run(VOICE, 'Write a tweet about: the most unnecessarily long topic name anyone could think of for a tweet', seed);
    t.ok(twitter.parseTweet(tweet).valid, tweet);
    t.notMatch(tweet, /#\w/);
    const thread = run(VOICE, `Write a thread about: ${DEFAULT_TOPICS[seed % DEFAULT_TOPICS.length]}`, seed).split(/^---$/m).map((s) => s.trim());
    lengths.add(thread.length);
    t.ok(thread.length >= 5 && thread.length <= 8);
    for (const part of thread) t.ok(twitter.parseTweet(part).valid, part);
    t.match(thread.at(-1), /follow|save|bookmark|repost|tl;dr|summary|takeaway|try|tell me|what would you add|which one/i, 'the last tweet closes');
  }
  t.ok(lengths.size >= 3, 'thread lengths vary');
});

t.test('deterministic per seed and input, varied across them', async (t) => {
  const user = `Tweet by @ada: ${TWEETS[1]}`;
  t.equal(run(MENTION_OK, user, 5), run(MENTION_OK, user, 5));
  const answers = new Set(Array.from({ length: 30 }, (_, seed) => run(MENTION_OK, user, seed)));
  t.ok(answers.size >= 15, `${answers.size} different replies from 30 seeds`);
  const topics = new Set(DEFAULT_TOPICS.map((topic) => run(VOICE, `Write a tweet about: ${topic}`, 3)));
  t.equal(topics.size, DEFAULT_TOPICS.length);
});

t.test('the prompt is read for its task', async (t) => {
  const kind = (system: string, user: string): Task['kind'] => readPrompt(system, user, DEFAULT_TOPICS).kind;
  t.equal(kind('', 'Say OK'), 'health');
  t.equal(run('', 'Say OK'), 'OK');
  t.equal(kind(MENTION_OK, 'Tweet by @ada: hello'), 'reply');
  t.equal(kind(VOICE, 'Write a tweet about: x\n\nMUST be under 280 characters. Be more concise.'), 'tweet');
  t.equal(kind(VOICE, 'Write a thread about: x\n\nIMPORTANT: Write exactly 5-8 tweets'), 'thread');
  t.equal(kind('', 'What is the capital of France?'), 'other');
  t.match(readPrompt(MENTION_NO, 'Tweet by @ada: hi', []), { product: 'Shipfast', mayMention: false });
  t.match(readPrompt(MENTION_OK, 'Tweet by @ada: hi', []), { product: 'Shipfast', mayMention: true });
});
