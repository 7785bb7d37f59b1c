/**
 * The sandbox LLM's writing: plausible, varied, topic-aware text of the shape a task asks for.
 *
 * Answers are built from phrase banks with a PRNG the server seeds from (seed, model, prompt), so
 * the same request always gets the same text and different topics, archetypes and formats read
 * differently. The shapes hold by construction: a reply is at most 3 sentences, a tweet at most 280
 * weighted characters (checked with twitter-text, as X counts), a thread 5–8 such tweets separated
 * by lines holding only `---`, the first a hook and the last a summary or call to action; nothing
 * carries a hashtag; the product is named only when the system prompt allows it.
 */
import twitter from 'twitter-text';
import type { Persona, ReplyArchetype, Task, ThreadStructure, TweetFormat } from './prompt.js';

type Rng = () => number;

const pick = <T>(rng: Rng, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;

/** `count` different items of `list`, in random order. */
function sample<T>(rng: Rng, list: readonly T[], count: number): T[] {
  const pool = [...list];
  const out: T[] = [];
  while (out.length < count && pool.length > 0) out.push(pool.splice(Math.floor(rng() * pool.length), 1)[0]!);
  return out;
}

const cap = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** What tends to work, as gerund phrases: "start by …", "the win comes from …". */
const INSIGHTS = [
  'writing down what you tried and why',
  'talking to five real users before building anything',
  'cutting the scope until it fits in a week',
  'measuring one number that matters and ignoring the rest',
  'doing the boring setup once and automating it',
  'asking for feedback before it feels ready',
  'reading the docs end to end once',
  'keeping a changelog people actually read',
  'pricing for the value, not the effort',
  'saying no to most feature requests',
  'shipping something small every week',
  'copying the workflow of someone two steps ahead of you',
  'blocking two focused hours a day for it',
  'explaining it to a beginner until it sounds simple',
];

const MISTAKES = [
  'adding tools before fixing the process',
  'waiting for the perfect moment to start',
  'copying what big companies do',
  'building in silence for months',
  'optimising before anyone uses it',
  'chasing every new trend',
  'measuring everything and acting on nothing',
  'treating it as a one-off project',
];

const MYTHS = ['having the best tools', 'working longer hours', 'one big launch', 'going viral', 'perfect execution', 'talent'];

const REPLIES: Record<ReplyArchetype, readonly string[]> = {
  agree: [
    'Strongly agree on {topic}. The part most people skip is {insight}.',
    'Yes, and it compounds: once you start {insight}, {topic} gets much easier.',
    'This matches what I have seen with {topic}. I would add one thing: {insight}.',
    'Exactly this. With {topic} the real win usually comes from {insight}.',
  ],
  question: [
    'Curious what made {topic} click for you. Was it {insight} or something else?',
    'How are you measuring progress on {topic} right now?',
    'If you started over with {topic} today, what would you do first?',
    'Great point on {topic}. Have you tried {insight}, and did it change anything?',
  ],
  experience: [
    'Went through the same thing with {topic} last year. What finally worked was {insight}.',
    'We hit this wall with {topic} too. {Insight} saved us weeks.',
    'I used to overthink {topic}. Shipping a rough version first taught me more than a month of planning.',
    'Been there with {topic}. The turning point for me was {insight}.',
  ],
  data: [
    'In our last 30 experiments with {topic}, about 1 in 5 moved the needle. The ones that did all came from {insight}.',
    'One number worth knowing: when we started {insight}, time spent on {topic} dropped by roughly a third.',
    'We tracked {topic} for 12 weeks. The biggest jump came in the week we started {insight}.',
  ],
  disagree: [
    'I see it a bit differently: with {topic}, {insight} matters more than the tooling.',
    'Respectfully, I would push back a little. {Topic} rarely fails for lack of effort; it fails when nobody owns {insight}.',
    'Fair take, but I am not sure it holds for {topic}. In my experience {insight} beats a bigger plan.',
  ],
};

const PRODUCT_LINES = ['{product} grew out of exactly this problem.', 'We built {product} partly because of this.', 'It is the problem {product} works on, so I think about it a lot.'];

const TWEETS: Record<TweetFormat, readonly string[]> = {
  list: ['3 things I wish I knew about {topic}:\n\n1. {I1}\n2. {I2}\n3. {I3}', 'What actually moves {topic} forward:\n\n- {I1}\n- {I2}\n- {I3}'],
  contrarian: [
    'Unpopular opinion: {topic} is not a tooling problem. It is a focus problem. {I1} beats any new framework.',
    'Hot take: most {topic} advice is about doing more. The best results I have seen came from {i1} and doing less.',
  ],
  most_people: ['Most people think {topic} is about {myth}. It is actually about {i1}.', 'Most people treat {topic} as a question of {myth}. The ones who win are {i1}.'],
  story: [
    'Last year I almost gave up on {topic}. Then I started {i1}. Six months later it is the part of my week I look forward to.',
    'A friend asked why {topic} finally works for us. Honest answer: we stopped {mistake} and started {i1}.',
  ],
  before_after: ['Before: {mistake}.\nAfter: {I1}.\n\nSame {topic}, completely different results.', '{Topic}, before: {mistake}.\n{Topic}, after: {i1}.\n\nOne decision, not ten tools.'],
  question: ['What is the one thing about {topic} you would teach your past self? Mine: {i1}.', 'Honest question for anyone doing {topic}: what did you stop doing that made the biggest difference?'],
  tip: ['Quick {topic} tip: start by {i1}. It takes ten minutes and saves hours later.', '{Topic} tip that took me too long to learn: {i1}.'],
};

const HOOKS: Record<ThreadStructure, readonly string[]> = {
  transformation: ['A year ago I was stuck on {topic}. Here is what changed, step by step:', 'How I went from dreading {topic} to enjoying it. A short thread:'],
  framework: ['The simple framework I use for {topic}. Steal it:', 'Most {topic} advice is noise. Here is the framework that survived three years of use:'],
  mistakes: ['I made every mistake with {topic} so you do not have to. The big ones:', '{n} mistakes that quietly kill {topic}, and what to do instead:'],
  analysis: ['Why do so many people struggle with {topic}? I looked closely at what works. Here is what I found:', 'I studied what the best people do differently with {topic}. A breakdown:'],
};

const BODIES: Record<ThreadStructure, readonly string[]> = {
  transformation: ['Step {k}: {I}. It felt slow at first, but it stuck.', 'Then: {i}. This is where things started to change.', 'Next I focused on {i}. Small, but it compounds.'],
  framework: ['Part {k}: {I}. Everything else builds on it.', '{K}) {I}. Skip it and the rest falls apart.', 'Layer {k}: {i}. Keep it boring and repeatable.'],
  mistakes: ['Mistake: {mistake}.\nFix: {i}.', 'I kept {mistake}. What worked instead was {i}.', 'Another one: {mistake}. The cure is {i}.'],
  analysis: ['Finding {k}: the people who do well with {topic} keep {i}.', 'Pattern {k}: progress follows {i}, not effort.', 'Observation {k}: {I} shows up in almost every success story.'],
};

const CLOSERS: Record<ThreadStructure, readonly string[]> = {
  transformation: ['If {topic} feels stuck, pick one step and try it this week. Follow for the next part of the story.', 'Summary: small steps, repeated. That is the whole secret of {topic}. Save this for later.'],
  framework: ['That is the framework. Start with part 1 this week and tell me how it goes.', 'TL;DR: keep the parts simple and in order, and {topic} gets easier. Bookmark it for your next project.'],
  mistakes: ['Avoid these and {topic} gets a lot easier. Which one did I miss?', 'Summary: fewer shortcuts, more feedback. Repost if it helps someone working on {topic}.'],
  analysis: ['TL;DR: the winners in {topic} are consistent, not clever. What would you add?', 'The takeaway: {topic} rewards focus. Follow for more breakdowns like this.'],
};

function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => {
    const value = values[key] ?? values[key.toLowerCase()];
    if (value === undefined) return whole;
    return key.charAt(0) === key.charAt(0).toUpperCase() && key.charAt(0) !== key.charAt(0).toLowerCase() ? cap(value) : value;
  });
}

export function fitsTweet(text: string): boolean {
  return twitter.parseTweet(text).valid;
}

const noHashtags = (text: string) => text.replace(/#(\w)/g, '$1');

export function write(task: Task, rng: Rng): string {
  switch (task.kind) {
    case 'health':
      return 'OK';
    case 'reply':
      return noHashtags(writeReply(task, rng));
    case 'tweet':
      return noHashtags(writeTweet(task.topic, task.format ?? pick(rng, Object.keys(TWEETS) as TweetFormat[]), task.persona, rng));
    case 'thread':
      return noHashtags(writeThread(task.topic, task.structure ?? pick(rng, Object.keys(HOOKS) as ThreadStructure[]), rng).join('\n---\n'));
    case 'other':
      return `Here is a short take on ${task.topic}: start by ${pick(rng, INSIGHTS)}, then keep what works.`;
  }
}

function writeReply(task: Extract<Task, { kind: 'reply' }>, rng: Rng): string {
  const archetype = task.archetype ?? pick(rng, Object.keys(REPLIES) as ReplyArchetype[]);
  let body = fill(pick(rng, REPLIES[archetype]), { topic: task.topic, insight: pick(rng, INSIGHTS) });
  // A persona gives the reply its own voice where the archetype calls for it.
  if (archetype === 'disagree' && task.persona.opinions.length > 0) body = `I see it differently: ${lowerFirst(pick(rng, task.persona.opinions))}.`;
  if (archetype === 'experience' && task.persona.experiences.length > 0 && rng() < 0.5) body = `Been there: ${lowerFirst(pick(rng, task.persona.experiences))}. It changed how I approach ${task.topic}.`;
  const sentences = [body];
  if (task.mayMention && task.product && rng() < 0.5) sentences.push(fill(pick(rng, PRODUCT_LINES), { product: task.product }));
  const text = sentences.join(' ');
  return fitsTweet(text) ? text : body;
}

function writeTweet(topic: string, format: TweetFormat, persona: Persona, rng: Rng): string {
  for (let tries = 0; tries < 8; tries++) {
    const [i1, i2, i3] = sample(rng, INSIGHTS, 3) as [string, string, string];
    let text = fill(pick(rng, TWEETS[format]), { topic, i1, i2, i3, myth: pick(rng, MYTHS), mistake: pick(rng, MISTAKES) });
    if (format === 'contrarian' && persona.opinions.length > 0 && rng() < 0.5) text = `Unpopular opinion about ${topic}: ${lowerFirst(pick(rng, persona.opinions))}.`;
    if (fitsTweet(text)) return text;
  }
  return fill('{Topic} tip: start by {i}.', { topic, i: pick(rng, INSIGHTS) });
}

function writeThread(topic: string, structure: ThreadStructure, rng: Rng): string[] {
  const count = 5 + Math.floor(rng() * 4);
  const mistakes = sample(rng, MISTAKES, count);
  const body = sample(rng, INSIGHTS, count - 2).map((insight, index) => fill(pick(rng, BODIES[structure]), { i: insight, k: String(index + 1), topic, mistake: mistakes[index]! }));
  const tweets = [fill(pick(rng, HOOKS[structure]), { topic, n: String(count - 2) }), ...body, fill(pick(rng, CLOSERS[structure]), { topic })];
  return tweets.map((tweet) => (fitsTweet(tweet) ? tweet : `${[...tweet].slice(0, 270).join('').replace(/\s+\S*$/, '')}...`));
}

const lowerFirst = (text: string) => text.charAt(0).toLowerCase() + text.slice(1).replace(/\.$/, '');
