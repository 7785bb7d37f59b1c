/** Who is logged in, as /auth/me says; loaded once by the dashboard guard. */
import { api, type Me } from './api';

export const session = $state<{ me: Me | null }>({ me: null });

export async function loadSession(): Promise<Me> {
  session.me = await api.get<Me>('/auth/me');
  return session.me;
}

export async function logOut(): Promise<void> {
  await api.post('/auth/logout');
  session.me = null;
}
