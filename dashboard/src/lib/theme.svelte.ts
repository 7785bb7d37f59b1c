/** Dark or light, remembered in localStorage (`tuitbot-theme`); app.html applies it before first paint. */
export type Theme = 'dark' | 'light';

const KEY = 'tuitbot-theme';

export const theme = $state<{ current: Theme }>({ current: 'dark' });

export function initTheme(): void {
  theme.current = document.documentElement.dataset['theme'] === 'light' ? 'light' : 'dark';
}

export function toggleTheme(): void {
  theme.current = theme.current === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset['theme'] = theme.current;
  try {
    localStorage.setItem(KEY, theme.current);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
}
