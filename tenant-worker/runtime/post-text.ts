/**
 * The text of a post or thread as the stores keep it, and the checks shared by the approval queue
 * and scheduled content: X's weighted length (twitter-text), and which items may still be edited.
 */
import twitter from 'twitter-text';
import { fail } from './context.js';
import type { PostKind } from './events.js';

/** Why X would refuse this content, or null: not empty, at most 280 weighted characters per part. */
export function checkPostText(kind: PostKind, content: string | string[]): string | null {
  const parts = typeof content === 'string' ? [content] : content;
  if (kind === 'thread' ? typeof content === 'string' || parts.length < 2 || parts.length > 25 : typeof content !== 'string') {
    return kind === 'thread' ? 'A thread has 2 to 25 parts.' : 'A reply or tweet is one text.';
  }
  for (const [index, part] of parts.entries()) {
    const where = kind === 'thread' ? `Part ${index + 1}` : 'The text';
    if (part.trim() === '') return `${where} is empty.`;
    const parsed = twitter.parseTweet(part.trim());
    if (!parsed.valid) return `${where} is ${parsed.weightedLength} weighted characters (at most 280).`;
  }
  return null;
}

/** Trimmed text, or a thread's trimmed parts as a JSON array (the column's form). */
export function storedContent(content: string | string[]): string {
  return typeof content === 'string' ? content.trim() : JSON.stringify(content.map((part) => part.trim()));
}

/** Why an item may not take this edit, or null. Once part of a thread is live its text is fixed. */
export function editRefusal(
  item: { kind: PostKind; status: string; threadId: number | null },
  editable: readonly string[],
  content: string | string[] | undefined,
): ReturnType<typeof fail<'invalid_state' | 'invalid_content'>> | null {
  if (!editable.includes(item.status)) return fail('invalid_state', `An item that is ${item.status} cannot be edited.`);
  if (content === undefined) return null;
  if (item.threadId !== null) return fail('invalid_state', 'Part of this thread is already posted; its text can no longer change.');
  const problem = checkPostText(item.kind, content);
  return problem ? fail('invalid_content', problem) : null;
}
