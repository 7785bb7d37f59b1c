/**
 * Tweet length as X counts it, with twitter-text: most Latin text weighs 1 a character, CJK and
 * emoji 2, every URL 23 (the reference counted bytes, over-counting emoji and CJK). And the last
 * resort of §7.3 for a reply or tweet still too long after one retry: cut at the last sentence end
 * that fits, else at the last word that fits plus "...", else (text without spaces) at the last
 * character that fits — never inside a URL, an emoji or a combined character.
 */
import twitter from 'twitter-text';

export const MAX_WEIGHTED_LENGTH = 280;
const ELLIPSIS = '...';

export function weightedLength(text: string): number {
  return twitter.parseTweet(text).weightedLength;
}

/** Postable as one tweet: non-empty, at most 280 weighted characters, no invalid characters. */
export function fitsTweet(text: string): boolean {
  return text.trim() !== '' && twitter.parseTweet(text).valid;
}

export function truncateTweet(text: string): string {
  const clean = text.trim();
  if (fitsTweet(clean)) return clean;
  const urls = twitter.extractUrlsWithIndices(clean).map((u) => u.indices);
  const insideUrl = (at: number) => urls.some(([start, end]) => at > start && at < end);
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(clean)].map((s) => s.index);

  // Sentence ends: ASCII punctuation followed by a space (or the end), or CJK full stops anywhere.
  const sentenceEnds = [...clean.matchAll(/[.!?](?=\s|$)|[。！？]/g)].map((m) => m.index + m[0].length).filter((at) => !insideUrl(at));
  for (const end of sentenceEnds.reverse()) {
    const candidate = clean.slice(0, end).trim();
    if (fitsTweet(candidate)) return candidate;
  }
  const wordEnds = [...clean.matchAll(/\s+/g)].map((m) => m.index).filter((at) => !insideUrl(at));
  for (const end of wordEnds.reverse()) {
    const candidate = `${clean.slice(0, end).replace(/[\s,;:–—-]+$/, '')}${ELLIPSIS}`;
    if (fitsTweet(candidate)) return candidate;
  }
  for (const end of graphemes.reverse()) {
    if (end === 0 || insideUrl(end)) continue;
    const candidate = `${clean.slice(0, end).trimEnd()}${ELLIPSIS}`;
    if (fitsTweet(candidate)) return candidate;
  }
  return ELLIPSIS;
}
