/**
 * The dashboard's live line (`/api/ws`, supervisor/live/socket.ts): a snapshot first (runtime status, X connection,
 * billing), then every tenant event as it happens and a heartbeat. Dropped connections are reopened with a
 * capped exponential backoff plus jitter (so a restarted server is not hit by every tab at once); each reopen
 * brings a fresh snapshot, so nothing shown stays stale after a gap.
 */
import { apiUrl } from './api';

export interface JobState {
  name: string;
  nextRunAt: number | null;
  pausedUntil: number | null;
  consecutiveErrors: number;
  lastRunAt: number | null;
  lastOkAt: number | null;
  lastError: string | null;
}

export interface Snapshot {
  at: number;
  runtime: {
    activatedAt: number;
    nextAlarmAt: number | null;
    jobs: JobState[];
    ceilings: { plan: string; automation: boolean; readOnly: boolean } | null;
  };
  x: { connected: boolean; account: { username: string; name: string } | null; disconnectedReason: string | null };
  billing: { status: string; plan: string | null };
}

/** A tenant event (protocol TenantEvent): e.g. runtime.action_performed, runtime.status, x.connected. */
export interface LiveEvent {
  kind: string;
  at: number;
  data?: Record<string, unknown>;
}

const MAX_EVENTS = 200;

export const live = $state<{ connected: boolean; snapshot: Snapshot | null; events: LiveEvent[]; lastMessageAt: number | null; error: string }>({
  connected: false,
  snapshot: null,
  events: [],
  lastMessageAt: null,
  error: '',
});

let socket: WebSocket | null = null;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let attempts = 0;
let wanted = false;
const listeners = new Set<(event: LiveEvent) => void>();

/** Calls `listener` for each live event until the returned function is called. */
export function onLiveEvent(listener: (event: LiveEvent) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function socketUrl(): string {
  const url = new URL(apiUrl('/api/ws'), location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

export function connectLive(): void {
  wanted = true;
  if (socket) return;
  const ws = new WebSocket(socketUrl());
  socket = ws;
  ws.onopen = () => {
    live.connected = true;
    live.error = '';
    attempts = 0;
  };
  ws.onmessage = (message) => {
    live.lastMessageAt = Date.now();
    let data: { type?: string; event?: LiveEvent; message?: string } & Partial<Snapshot>;
    try {
      data = JSON.parse(String(message.data));
    } catch {
      return;
    }
    if (data.type === 'snapshot') live.snapshot = data as unknown as Snapshot;
    else if (data.type === 'error') live.error = data.message ?? '';
    else if (data.type === 'event' && data.event) {
      const event: LiveEvent = { ...data.event, at: data.event.at ?? Date.now() };
      live.events = [event, ...live.events].slice(0, MAX_EVENTS);
      for (const listener of listeners) listener(event);
    }
  };
  ws.onclose = () => {
    socket = null;
    live.connected = false;
    if (!wanted) return;
    const delay = Math.min(30_000, 500 * 2 ** attempts) * (0.5 + Math.random() / 2);
    attempts += 1;
    retryTimer = setTimeout(connectLive, delay);
  };
}

export function disconnectLive(): void {
  wanted = false;
  clearTimeout(retryTimer);
  socket?.close();
  socket = null;
  live.connected = false;
}
