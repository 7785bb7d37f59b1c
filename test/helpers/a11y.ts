/**
 * What a page is like without a mouse or without good eyes, measured in Chromium: axe-core's WCAG 2.2 A/AA and
 * best-practice rules (names, labels, roles, contrast, landmarks), a walk of the page with the Tab key (every
 * control reached, each showing where the focus is) and whether it fits a phone's width.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Page } from 'playwright-core';

const RULESETS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** One line per rule broken, naming the first few elements and why, so a failing test says what to fix. */
export async function axeViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(RULESETS).analyze();
  return result.violations.map((violation) => {
    const where = violation.nodes.slice(0, 3).map((node) => `${node.target.join(' ')} (${node.failureSummary?.split('\n')[1]?.trim() ?? ''})`);
    return `${violation.id} [${violation.impact}] ${violation.help}: ${where.join('; ')}`;
  });
}

export type Theme = 'dark' | 'light';

/** The theme the app would apply on the next page load (the toggle's own storage key). */
export async function chooseTheme(page: Page, theme: Theme): Promise<void> {
  await page.evaluate((value) => localStorage.setItem('tuitbot-theme', value), theme);
}

/**
 * What sticks out past the right edge of the viewport and forces sideways scrolling: the outermost such elements
 * (an element inside a box that scrolls by itself is fine), or nothing.
 */
export async function sticksOut(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    if (document.documentElement.scrollWidth <= window.innerWidth) return [];
    const out: string[] = [];
    for (const element of document.body.querySelectorAll<HTMLElement>('*')) {
      const right = element.getBoundingClientRect().right;
      if (right <= window.innerWidth + 1 || out.some((found) => element.parentElement?.closest(`[data-sticks-out="${found}"]`))) continue;
      const name = `${element.tagName.toLowerCase()}${element.className && typeof element.className === 'string' ? `.${element.className.trim().split(/\s+/).join('.')}` : ''} (${Math.round(right - window.innerWidth)} px)`;
      element.dataset['sticksOut'] = name;
      out.push(name);
    }
    return out.length > 0 ? out.slice(0, 5) : [`the page is ${document.documentElement.scrollWidth - window.innerWidth} px too wide`];
  });
}

/** Makes the next Tab start at the top of the page (Tab continues from whatever had the focus before). */
export async function tabFromTop(page: Page): Promise<void> {
  await page.evaluate(() => {
    document.body.tabIndex = -1;
    document.body.focus();
    document.body.removeAttribute('tabindex');
  });
}

export interface KeyboardWalk {
  /** Controls Tab reached, in order (a short description each). */
  reached: string[];
  /** Visible controls Tab never reached. */
  unreached: string[];
  /** Controls that took focus without any visible mark of it (no outline, no ring). */
  unmarked: string[];
}

/**
 * Presses Tab from the top of the page until the focus leaves the page or comes back round, and compares what it
 * reached with every visible, enabled control. A radio group is one stop (arrow keys move inside it).
 */
export async function walkWithTab(page: Page, maxStops = 400): Promise<KeyboardWalk> {
  const controls = await page.evaluate(() => {
    const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"]), [contenteditable=""], [contenteditable=true]';
    const keys: string[] = [];
    document.querySelectorAll<HTMLElement>(selector).forEach((element, index) => {
      const disabled = (element as HTMLButtonElement).disabled === true || element.getAttribute('tabindex') === '-1' || element.closest('[inert]') !== null;
      // A visually hidden file input shows its focus on the label around it, and is reached all the same.
      const hiddenInput = element instanceof HTMLInputElement && element.closest('label') !== null;
      if (disabled || (!element.checkVisibility({ visibilityProperty: true }) && !hiddenInput)) return;
      const key = element instanceof HTMLInputElement && element.type === 'radio' && element.name ? `radio:${element.name}` : `#${index}`;
      element.dataset['walk'] = key;
      keys.push(key);
    });
    return [...new Set(keys)];
  });
  await tabFromTop(page);
  const reached: string[] = [];
  const seen = new Set<string>();
  const unmarked: string[] = [];
  for (let stop = 0; stop < maxStops; stop++) {
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      if (!element || element === document.body) return null;
      const text = (element.getAttribute('aria-label') ?? element.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
      const label = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} "${text || (element as HTMLInputElement).name || ''}"`;
      const marked = (target: Element) => {
        const style = getComputedStyle(target);
        return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== 'none';
      };
      const shows = marked(element) || (element instanceof HTMLInputElement && element.parentElement !== null && marked(element.parentElement));
      return { key: element.dataset['walk'] ?? `untracked ${label}`, label, shows };
    });
    if (focus === null || seen.has(focus.key)) break;
    seen.add(focus.key);
    reached.push(focus.label);
    if (!focus.shows) unmarked.push(focus.label);
  }
  const unreached = await page.evaluate(
    (missing) =>
      missing.map((key) => {
        const element = document.querySelector<HTMLElement>(`[data-walk="${key}"]`)!;
        return `${element.tagName.toLowerCase()} "${(element.getAttribute('aria-label') ?? element.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40)}"`;
      }),
    controls.filter((key) => !seen.has(key)),
  );
  return { reached, unreached, unmarked };
}
