/** What the content API answers (supervisor/routes/content.ts describes each shape). */
export type Kind = 'tweet' | 'thread';

export interface Item {
  id: number;
  kind: Kind;
  status: 'draft' | 'scheduled' | 'posting' | 'posted' | 'failed' | 'cancelled';
  content: string | string[];
  media: string[];
  source: string;
  topic: string | null;
  scheduledFor: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  postedAt: number | null;
}

export interface CalendarEntry {
  origin: 'posted' | 'approval' | 'scheduled';
  id: number;
  kind: 'tweet' | 'thread' | 'reply';
  source: string;
  status: string;
  at: number;
  local: string;
  content: string | string[];
  topic: string | null;
  targetAuthor: string | null;
  tweetId: string | null;
  error: string | null;
  performanceScore: number | null;
}

export interface CalendarDay {
  date: string;
  start: number;
  end: number;
  slots: number[];
}

export interface Calendar {
  from: number;
  to: number;
  timeZone: string;
  days: CalendarDay[];
  entries: CalendarEntry[];
}

export interface Schedule {
  timeZone: string;
  approvalMode: boolean;
  slotMode: boolean;
  nextFreeSlots: number[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | number | null;
}

/** What the compose modal starts from: a new post, or a scheduled item being changed. */
export interface ComposeStart {
  kind: Kind;
  parts: string[];
  media: string[];
  scheduledFor: number | null;
  /** Set when editing a scheduled item. */
  editId?: number;
}

export const partsOf = (content: string | string[]): string[] => (Array.isArray(content) ? content : [content]);
export const contentOf = (kind: Kind, parts: string[]): string | string[] => (kind === 'thread' ? parts : (parts[0] ?? ''));
