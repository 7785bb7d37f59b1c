/**
 * X's weighted length, approximately, for the counter while typing (twitter-text's v3 rules): every URL counts
 * 23, an emoji counts 2, Latin and common punctuation count 1, everything else (CJK, …) counts 2. The server
 * decides with twitter-text itself and names the part it refuses; this only spares a round trip.
 */
export const MAX_WEIGHTED = 280;
const URL_WEIGHT = 23;
// With a scheme any host; without one only common TLDs (so "notes.txt" stays text, as X sees it).
const URL = /\bhttps?:\/\/[^\s]+|\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|co|dev|app|ai|me|ly|so|xyz|info|biz|edu|gov|us|uk|de|fr|es|it|nl|ca|au|in|jp|br|tv|gg|sh)\b(?::\d+)?(?:\/[^\s]*)?/gi;
const LIGHT: [number, number][] = [
  [0, 4351],
  [8192, 8205],
  [8208, 8223],
  [8242, 8247],
];
const EMOJI = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const segmenter = typeof Intl !== 'undefined' && 'Segmenter' in Intl ? new Intl.Segmenter('en', { granularity: 'grapheme' }) : null;

function weighChars(text: string): number {
  const graphemes = segmenter ? Array.from(segmenter.segment(text), (s) => s.segment) : Array.from(text);
  let total = 0;
  for (const grapheme of graphemes) {
    if (EMOJI.test(grapheme)) {
      total += 2;
      continue;
    }
    for (const char of grapheme) {
      const code = char.codePointAt(0)!;
      total += LIGHT.some(([lo, hi]) => code >= lo && code <= hi) ? 1 : 2;
    }
  }
  return total;
}

export function weightedLength(text: string): number {
  // X counts the text as posted: trimmed, NFC.
  const normal = text.trim().normalize('NFC');
  let urls = 0;
  const rest = normal.replace(URL, () => {
    urls += 1;
    return '';
  });
  return weighChars(rest) + urls * URL_WEIGHT;
}
