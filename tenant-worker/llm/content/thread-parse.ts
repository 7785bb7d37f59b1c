/**
 * A thread out of a model's answer (reference §7.2): tweets separated by lines holding only `---`;
 * failing that, numbered tweets ("1/8", "1/", "1.", "1)", "(1)" at the start of a line), with the
 * numbers stripped. A thread is valid with 5–8 tweets, each postable on its own.
 */
import { fitsTweet } from './length.js';

export const MIN_THREAD_TWEETS = 5;
export const MAX_THREAD_TWEETS = 8;

const SEPARATOR = /^\s*---+\s*$/m;
const NUMBERED = /^\s*(?:\(?(\d{1,2})\s*(?:\/\s*\d{0,2}|[.):]))\s+(.*)$/;

export function parseThread(answer: string): string[] {
  const text = answer.replace(/\r\n/g, '\n').trim();
  if (SEPARATOR.test(text)) {
    return text
      .split(/^\s*---+\s*$/m)
      .map((part) => part.trim())
      .filter((part) => part !== '')
      .map((part, index) => stripOwnNumber(part, index + 1));
  }
  return parseNumbered(text);
}

/** Lines starting "n/…", "n.", "n)" or "(n)" with n counting up from 1 start tweets; other lines continue the current one. */
function parseNumbered(text: string): string[] {
  const tweets: string[][] = [];
  for (const line of text.split('\n')) {
    const match = NUMBERED.exec(line);
    if (match && Number(match[1]) === tweets.length + 1) tweets.push([match[2]!]);
    else if (tweets.length > 0) tweets[tweets.length - 1]!.push(line);
  }
  return tweets.map((lines) => lines.join('\n').trim()).filter((tweet) => tweet !== '');
}

/** "1/ Hook…" inside a `---` thread: the number is the model's decoration, not the tweet. */
function stripOwnNumber(part: string, position: number): string {
  const match = NUMBERED.exec(part.split('\n')[0]!);
  if (!match || Number(match[1]) !== position) return part;
  return [match[2]!, ...part.split('\n').slice(1)].join('\n').trim();
}

export function isValidThread(tweets: readonly string[]): boolean {
  return tweets.length >= MIN_THREAD_TWEETS && tweets.length <= MAX_THREAD_TWEETS && tweets.every(fitsTweet);
}
