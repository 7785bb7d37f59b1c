/**
 * Two steps of the wizard happen on other sites (X's consent page, Stripe's checkout), which send the browser back
 * to fixed pages of the dashboard (/dashboard/x?connected=…, /dashboard/billing?checkout=…). When the browser left
 * from the wizard, the dashboard's layout sends it on into the wizard with the same query, so the newcomer goes on
 * where they were. A per-tab mark (sessionStorage): a connection started from the X page itself stays there.
 */
import { api } from '$lib/api';

const AWAY = 'tuitbot-onboarding-away';
const RETURNS: Record<string, string> = { x: '/dashboard/x', plan: '/dashboard/billing' };

/** Called just before the wizard sends the browser to X or to the checkout. */
export function leaveWizard(step: 'x' | 'plan'): void {
  sessionStorage.setItem(AWAY, step);
}

/** Called by the dashboard's layout on load: goes back into the wizard when the browser left from it. */
export function returnToWizard(go: (url: string, options: { replaceState: boolean }) => unknown): void {
  const step = sessionStorage.getItem(AWAY);
  if (!step) return;
  sessionStorage.removeItem(AWAY);
  if (location.pathname !== RETURNS[step]) return;
  const query = new URLSearchParams(location.search);
  query.set('from', step);
  void go(`/dashboard/onboarding?${query}`, { replaceState: true });
}

/** The overview sends a newcomer here once; after that the overview's "Get started" card links back. */
const seenKey = (userId: string) => `tuitbot-onboarding-seen:${userId}`;

export function markWizardSeen(userId: string): void {
  localStorage.setItem(seenKey(userId), '1');
}

/** Called by the overview: a newcomer who has not finished setting up and has not seen the wizard goes there. */
export async function openWizardIfNew(userId: string, go: (url: string, options: { replaceState: boolean }) => unknown): Promise<void> {
  if (localStorage.getItem(seenKey(userId)) !== null) return;
  const checklist = await api.get<{ complete: boolean }>('/api/onboarding').catch(() => null);
  if (checklist && !checklist.complete) await go('/dashboard/onboarding', { replaceState: true });
}
