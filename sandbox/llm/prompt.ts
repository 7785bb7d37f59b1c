/**
 * What the sandbox LLM understands of a prompt: which task it is (a reply, a tweet, a thread, a
 * health check), about what, and under which constraints (may the product be named, which
 * archetype, format or structure was asked for, which persona lines exist).
 *
 * It reads prompts the way TuitBot writes them (§7.2 of the runtime reference) but by loose
 * patterns and keywords, as a model would, so that a reworded prompt still gets an answer of the
 * right shape. It never imports the prompt builders: the sandbox must not know our code's wording.
 */

export type ReplyArchetype = 'agree' | 'question' | 'experience' | 'data' | 'disagree';
export type TweetFormat = 'list' | 'contrarian' | 'most_people' | 'story' | 'before_after' | 'question' | 'tip';
export type ThreadStructure = 'transformation' | 'framework' | 'mistakes' | 'analysis';

export type Task =
  | { kind: 'health' }
  | { kind: 'reply'; author: string; quoted: string; topic: string; archetype: ReplyArchetype | null; persona: Persona; product: string | null; mayMention: boolean }
  | { kind: 'tweet'; topic: string; format: TweetFormat | null; persona: Persona; product: string | null }
  | { kind: 'thread'; topic: string; structure: ThreadStructure | null; persona: Persona; product: string | null }
  | { kind: 'other'; topic: string };

export interface Persona {
  opinions: string[];
  experiences: string[];
}

const STOP_WORDS = new Set(
  `a about above after again all almost also am an and any anyone are around as at be been before being best better but by can could day did do does doing done else even ever every for from get gets getting good got had has have having how i i'm if in into is it it's its just know last lately like looking lot love make many me more most much my need new no not now of on one only or other our out over people pointers really right same see should so some someone something still such take than that the their them then there these they thing things think this those through time to today too try up us use using very want was we week weekend well were what when where which while who why will with would year you your`.split(/\s+/),
);

export function readPrompt(system: string, user: string, knownTopics: readonly string[]): Task {
  if (/\bsay\s+"?ok"?\b/i.test(user) && user.length < 80) return { kind: 'health' };
  const persona = readPersona(system);
  const product = productOf(system);
  const reply = /tweet by @(\w{1,15}):\s*([\s\S]*)/i.exec(user);
  if (reply) {
    const quoted = reply[2]!.replace(/\n\n(?:MUST|IMPORTANT)\b[\s\S]*$/, '').trim();
    return {
      kind: 'reply',
      author: reply[1]!,
      quoted,
      topic: topicOf(quoted, [...knownTopics, ...persona.pillars]),
      archetype: archetypeOf(system),
      persona,
      product,
      // The reference prompt forbids it with "Do NOT mention {product} or any product".
      mayMention: product !== null && !/\bdo not mention\b/i.test(system),
    };
  }
  const thread = /(?:write|create) (?:an? )?(?:\w+ )?thread about:?\s*(.+)/i.exec(user);
  if (thread) return { kind: 'thread', topic: cleanTopic(thread[1]!), structure: structureOf(system), persona, product };
  const tweet = /(?:write|create) (?:an? )?(?:\w+ )?tweet about:?\s*(.+)/i.exec(user);
  if (tweet) return { kind: 'tweet', topic: cleanTopic(tweet[1]!), format: formatOf(system), persona, product };
  return { kind: 'other', topic: topicOf(user, knownTopics) };
}

function productOf(system: string): string | null {
  const name =
    /who uses ([^(\n]+?) \(/i.exec(system)?.[1] ??
    /you are ([^\n']+?)'s social media voice/i.exec(system)?.[1] ??
    /do not mention ([^\n]+?) or any product/i.exec(system)?.[1];
  return name?.trim() || null;
}

function readPersona(system: string): Persona & { pillars: string[] } {
  const list = (label: RegExp) => (label.exec(system)?.[1] ?? '').split(/;|,(?=\s)/).map((s) => s.trim().replace(/\.$/, '')).filter(Boolean);
  return {
    opinions: list(/opinions you hold:\s*([^\n]+)/i),
    experiences: list(/experiences you can reference:\s*([^\n]+)/i),
    pillars: list(/content pillars:\s*([^\n]+)/i),
  };
}

/** The line that names the archetype/format/structure, if the prompt has one. */
function labelled(system: string, label: RegExp): string | null {
  return system.split('\n').find((line) => label.test(line)) ?? null;
}

function archetypeOf(system: string): ReplyArchetype | null {
  const line = labelled(system, /\b(archetype|approach|angle)\b\s*:/i);
  if (!line) return null;
  // "disagree" contains "agree": test the narrower patterns first.
  if (/disagree|push back/i.test(line)) return 'disagree';
  if (/question/i.test(line)) return 'question';
  if (/experience|story/i.test(line)) return 'experience';
  if (/data|number|statistic|fact/i.test(line)) return 'data';
  if (/agree|expand/i.test(line)) return 'agree';
  return null;
}

function formatOf(system: string): TweetFormat | null {
  const line = labelled(system, /\bformat\b\s*:/i);
  if (!line) return null;
  if (/most people/i.test(line)) return 'most_people';
  if (/contrarian|unpopular|against/i.test(line)) return 'contrarian';
  if (/before/i.test(line)) return 'before_after';
  if (/story/i.test(line)) return 'story';
  if (/\blist\b/i.test(line)) return 'list';
  if (/question/i.test(line)) return 'question';
  if (/\btip\b/i.test(line)) return 'tip';
  return null;
}

function structureOf(system: string): ThreadStructure | null {
  const line = labelled(system, /\bstructure\b\s*:/i);
  if (!line) return null;
  if (/transformation|before and after|journey/i.test(line)) return 'transformation';
  if (/framework|steps|model/i.test(line)) return 'framework';
  if (/mistake/i.test(line)) return 'mistakes';
  if (/analysis|analy[sz]e|breakdown/i.test(line)) return 'analysis';
  return null;
}

function cleanTopic(text: string): string {
  return text.split('\n')[0]!.replace(/#/g, '').replace(/[.!?"]+$/, '').trim() || 'this';
}

/** A topic named in the text (known topics first), else its longest run of content words. */
export function topicOf(text: string, known: readonly string[]): string {
  const lower = text.toLowerCase();
  const named = known.filter((topic) => topic && lower.includes(topic.toLowerCase())).sort((a, b) => b.length - a.length)[0];
  if (named) return named.toLowerCase();
  const words = text
    .replace(/https?:\/\/\S+/g, ' ')
    .replace(/[@#]\w+/g, ' ')
    .split(/[^\p{L}\p{N}'+-]+/u)
    .map((w) => w.replace(/^['-]+|['-]+$/g, ''));
  const runs: string[][] = [[]];
  for (const word of words) {
    const content = word.length > 2 && !STOP_WORDS.has(word.toLowerCase()) && !/(?:ing|ed)$/i.test(word);
    if (content) runs[runs.length - 1]!.push(word);
    else if (runs[runs.length - 1]!.length > 0) runs.push([]);
  }
  const best = runs
    .map((run) => run.slice(0, 3))
    .filter((run) => run.length > 0)
    .sort((a, b) => b.join(' ').length - a.join(' ').length)[0];
  // Scripts without spaces (CJK) come out as one long run: a few characters name the topic.
  return best ? [...best.join(' ').toLowerCase()].slice(0, 40).join('') : 'this';
}
