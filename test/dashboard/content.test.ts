// The content calendar and drafts in Chromium against a real sandbox server: compose a tweet with X's weighted
// counter, see the server's refusal next to the part it names (a thread's second part, then a tweet), attach an
// image, schedule it at a time of the tenant's zone (Asia/Kolkata, not the browser's UTC) and find it on the
// calendar at that local time; change it and cancel it. Then a draft written, scheduled, and on the calendar.
import { deflateSync, crc32 } from 'node:zlib';
import { DateTime } from 'luxon';
import type { Page } from 'playwright-core';
import t from 'tap';
import { apiCall as call, launchBrowser, openPage, screenshot, signUp, startWebServer } from '../helpers/web-app.js';

t.setTimeout(300_000);
const ZONE = 'Asia/Kolkata';

/** A real 24×24 PNG (the preview must decode it, not only the server sniff it). */
function png(): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(24, 0);
  ihdr.writeUInt32BE(24, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const rows = Buffer.concat(Array.from({ length: 24 }, () => Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: 24 }, () => [31, 111, 235]).flat())])));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

/** Shows the week of `day` (in the tenant's zone) starting from this week. */
async function showWeekOf(page: Page, day: DateTime): Promise<void> {
  const now = DateTime.now().setZone(ZONE);
  await page.getByRole('button', { name: 'Today' }).click();
  const weeks = Math.round(day.startOf('week').diff(now.startOf('week'), 'weeks').weeks);
  for (let i = 0; i < weeks; i++) await page.getByRole('button', { name: 'Next week' }).click();
  await page.locator(`#day-${day.toISODate()}`).waitFor();
}

t.test('compose with the counter and field errors, schedule in the tenant zone, find it on the calendar, edit, cancel; a draft scheduled', async (t) => {
  const { base } = await startWebServer(t);
  const browser = await launchBrowser(t);
  const { page, problems } = await openPage(browser, base);

  await signUp(page, 'writer@example.com', 'correct horse battery staple');
  t.equal((await call(page, 'PATCH', '/api/settings', { timezone: ZONE, approval_mode: false })).status, 200);
  t.equal(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), 'UTC', 'the browser lives in another zone than the tenant');

  await page.goto('/dashboard/content');
  await page.getByRole('heading', { name: 'Content', exact: true }).waitFor();
  await page.getByRole('list', { name: 'Week' }).waitFor();
  t.equal(await page.locator('.badge', { hasText: ZONE }).count(), 1, 'the zone is shown');
  await screenshot(page, 'content-calendar-empty');

  // The modal: a thread whose second part is too long (X counts an emoji as 2) is refused by that part.
  await page.getByRole('button', { name: 'Compose', exact: true }).click();
  const dialog = page.getByRole('dialog', { name: 'Compose' });
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Thread' }).click();
  await dialog.getByLabel('Part 1 of 2').fill('A short first part');
  await dialog.getByLabel('Part 2 of 2').fill(`${'b'.repeat(250)} ${'😀'.repeat(20)}`);
  t.equal(await dialog.locator('#compose-part-1-count').textContent(), '291/280', 'the counter weighs emoji as X does');
  t.ok(await dialog.locator('#compose-part-1-count.over').count(), 'an over-long part is marked');
  await dialog.getByRole('button', { name: 'Schedule' }).click();
  await dialog.locator('#compose-part-1-error').getByText(/291 weighted characters/).waitFor();
  t.equal(await dialog.getByLabel('Part 2 of 2').getAttribute('aria-invalid'), 'true');
  t.equal(await dialog.getByLabel('Part 2 of 2').getAttribute('aria-describedby'), 'compose-part-1-error', 'the message is tied to its part');
  t.equal(await dialog.locator('#compose-part-0-error').count(), 0, 'the first part is fine');
  await screenshot(page, 'content-compose-thread-error', false);

  // Back to a tweet: a 281-character text passes the counter's eye but the server names `content`.
  await dialog.getByRole('button', { name: 'Tweet', exact: true }).click();
  const text = dialog.getByLabel('Text', { exact: true });
  await text.fill(`${'a'.repeat(257)} https://example.com/${'p'.repeat(100)}`);
  t.equal(await dialog.locator('#compose-part-0-count').textContent(), '281/280', 'a link counts 23');
  const day = DateTime.now().setZone(ZONE).plus({ days: 1 }).set({ hour: 10, minute: 30, second: 0, millisecond: 0 });
  await dialog.getByLabel('At a time').check();
  await dialog.getByLabel(`Date and time (${ZONE})`).fill(day.toFormat("yyyy-MM-dd'T'HH:mm"));
  await dialog.getByRole('button', { name: 'Schedule' }).click();
  await dialog.locator('#compose-part-0-error').getByText(/281 weighted characters/).waitFor();
  t.equal(await text.getAttribute('aria-invalid'), 'true');

  await text.fill('Pricing pages that convert: three experiments https://example.com/pricing 🚀');
  t.equal(await dialog.locator('#compose-part-0-count').textContent(), '72/280');
  await dialog.getByLabel('Add media').setInputFiles({ name: 'chart.png', mimeType: 'image/png', buffer: png() });
  const preview = dialog.locator('.media img');
  await preview.waitFor();
  await page.waitForFunction(() => (document.querySelector('dialog .media img') as HTMLImageElement | null)?.naturalWidth === 24);
  t.pass('the uploaded image is shown back from GET /api/media/{id}');
  await screenshot(page, 'content-compose-ready', false);
  await dialog.getByRole('button', { name: 'Schedule' }).click();
  await page.getByRole('status').getByText('Scheduled.').waitFor();
  t.equal(await dialog.count(), 0, 'the modal closed');

  const [scheduled] = (await call(page, 'GET', '/api/content/scheduled?statuses=scheduled')).body.items;
  t.match(scheduled, { kind: 'tweet', status: 'scheduled', scheduledFor: day.toMillis(), content: /three experiments/ }, '10:30 in Kolkata, not in the browser zone');
  t.equal(scheduled.media.length, 1, 'with its image');

  await showWeekOf(page, day);
  const entry = page.locator(`li[aria-labelledby="day-${day.toISODate()}"]`).getByRole('button', { name: /^10:30 Pricing pages.*\(tweet, scheduled\)$/ });
  await entry.waitFor();
  t.equal(await entry.locator('time').textContent(), '10:30', 'at the local time of the tenant (05:00 UTC)');
  await screenshot(page, 'content-calendar-week');

  // Change it: new text and 11:45 the same day.
  await entry.click();
  const detail = page.getByRole('region', { name: 'Selected post' });
  await detail.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Change the scheduled post' });
  t.equal(await edit.getByLabel('Text', { exact: true }).inputValue(), 'Pricing pages that convert: three experiments https://example.com/pricing 🚀', 'the editor starts from the post');
  t.equal(await edit.getByLabel(`Date and time (${ZONE})`).inputValue(), day.toFormat("yyyy-MM-dd'T'HH:mm"), 'and its local time');
  t.equal(await edit.locator('.media img').count(), 1, 'and its media');
  await edit.getByLabel('Text', { exact: true }).fill('Pricing pages: four experiments');
  await edit.getByLabel(`Date and time (${ZONE})`).fill(day.set({ hour: 11, minute: 45 }).toFormat("yyyy-MM-dd'T'HH:mm"));
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').getByText('The scheduled post was changed.').waitFor();
  const moved = page.getByRole('button', { name: /^11:45 Pricing pages: four experiments.*\(tweet, scheduled\)$/ });
  await moved.waitFor();
  t.equal((await call(page, 'GET', `/api/content/scheduled?statuses=scheduled`)).body.items[0].scheduledFor, day.set({ hour: 11, minute: 45 }).toMillis());

  await page.getByRole('button', { name: 'Month', exact: true }).click();
  await page.getByRole('table', { name: 'Month' }).waitFor();
  await screenshot(page, 'content-calendar-month');
  await page.getByRole('button', { name: 'Week', exact: true }).click();
  await showWeekOf(page, day);

  // Cancel it.
  await page.getByRole('button', { name: /^11:45 .*\(tweet, scheduled\)$/ }).click();
  await page.getByRole('region', { name: 'Selected post' }).getByRole('button', { name: 'Cancel post' }).click();
  await page.getByRole('status').getByText('The scheduled post was cancelled.').waitFor();
  t.equal(await page.getByRole('button', { name: /^11:45 .*\(tweet, scheduled\)$/ }).count(), 0, 'off the calendar');
  t.match((await call(page, 'GET', '/api/content/scheduled?statuses=cancelled')).body.items, [{ id: scheduled.id, status: 'cancelled' }]);

  // A draft, written and scheduled at 09:15 local two days ahead.
  await page.getByRole('link', { name: 'Drafts' }).click();
  await page.getByRole('heading', { name: 'Drafts' }).waitFor();
  await page.getByRole('button', { name: 'New draft' }).click();
  await page.getByLabel('Text', { exact: true }).fill('A draft about annual plans');
  await page.getByLabel('Topic').fill('pricing');
  await page.getByRole('button', { name: 'Save draft' }).click();
  await page.getByRole('status').getByText('Draft saved.').waitFor();
  const card = page.getByRole('article', { name: /^Draft \d+$/ });
  await card.getByText('A draft about annual plans').waitFor();
  await screenshot(page, 'drafts-list');
  await card.getByRole('button', { name: 'Edit' }).click();
  await card.getByLabel('Text', { exact: true }).fill('x'.repeat(290));
  await card.getByRole('button', { name: 'Save' }).click();
  await card.locator(`[id$="-part-0-error"]`).getByText(/290 weighted characters/).waitFor();
  t.pass('an over-long draft edit is refused by its field');
  await card.getByRole('button', { name: 'Cancel' }).click();
  const later = DateTime.now().setZone(ZONE).plus({ days: 2 }).set({ hour: 9, minute: 15, second: 0, millisecond: 0 });
  await card.getByRole('button', { name: 'Schedule' }).click();
  await card.getByLabel('At a time').check();
  await card.getByLabel(`Date and time (${ZONE})`).fill(later.toFormat("yyyy-MM-dd'T'HH:mm"));
  await card.getByRole('button', { name: 'Schedule it' }).click();
  await page.getByRole('status').getByText(/Scheduled for .* 09:15/).waitFor();
  await page.getByText('No drafts.', { exact: false }).waitFor();
  const [fromDraft] = (await call(page, 'GET', '/api/content/scheduled?statuses=scheduled')).body.items;
  t.match(fromDraft, { status: 'scheduled', content: 'A draft about annual plans', scheduledFor: later.toMillis(), topic: 'pricing' });

  // Two more drafts: one deleted (after a confirmation), one published now.
  for (const text of ['Throwaway draft', 'Publish me now']) {
    await page.getByRole('button', { name: 'New draft' }).click();
    await page.getByLabel('Text', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByRole('article', { name: /^Draft \d+$/ }).getByText(text).waitFor();
  }
  const throwaway = page.getByRole('article', { name: /^Draft \d+$/ }).filter({ hasText: 'Throwaway draft' });
  await throwaway.getByRole('button', { name: 'Delete' }).click();
  await throwaway.getByRole('button', { name: 'Yes, delete' }).click();
  await page.getByRole('status').getByText('Draft deleted.').waitFor();
  t.equal(await page.getByText('Throwaway draft').count(), 0, 'the deleted draft is gone');
  await page.getByRole('article', { name: /^Draft \d+$/ }).filter({ hasText: 'Publish me now' }).getByRole('button', { name: 'Publish now' }).click();
  await page.getByRole('status').getByText(/^Published/).waitFor();
  const published = (await call(page, 'GET', '/api/content/scheduled?statuses=scheduled,posting,posted,failed')).body.items.find((i: { content: string }) => i.content === 'Publish me now');
  t.ok(published && published.scheduledFor <= Date.now(), 'published: scheduled for now');
  t.same((await call(page, 'GET', '/api/content/drafts')).body.items, [], 'no drafts left');

  await page.getByRole('link', { name: 'Content', exact: true }).click();
  await page.getByRole('list', { name: 'Week' }).waitFor();
  await showWeekOf(page, later);
  await page.getByRole('button', { name: /^09:15 A draft about annual plans.*\(tweet, scheduled\)$/ }).waitFor();
  t.pass('the scheduled draft is on the calendar at its local time');

  // A zone with daylight saving time: the week of its nearest change shows that day's 23 or 25 hours.
  t.equal((await call(page, 'PATCH', '/api/settings', { timezone: 'America/New_York' })).status, 200);
  const now = DateTime.now().setZone('America/New_York').startOf('day');
  const dst = Array.from({ length: 200 }, (_, i) => [now.plus({ days: i }), now.minus({ days: i })])
    .flat()
    .find((d) => d.plus({ days: 1 }).diff(d, 'hours').hours !== 24)!;
  const hours = dst.plus({ days: 1 }).diff(dst, 'hours').hours;
  await page.reload();
  await page.getByRole('list', { name: 'Week' }).waitFor();
  const weeks = Math.round(dst.startOf('week').diff(now.startOf('week'), 'weeks').weeks);
  for (let i = 0; i < Math.abs(weeks); i++) await page.getByRole('button', { name: weeks > 0 ? 'Next week' : 'Previous week' }).click();
  await page.locator(`#day-${dst.toISODate()}`).getByText(`${hours} h`).waitFor();
  t.pass(`${dst.toISODate()} has ${hours} hours in New York`);
  await screenshot(page, 'content-calendar-dst-week');
  t.equal((await call(page, 'PATCH', '/api/settings', { timezone: ZONE })).status, 200);

  // AI assist (the sandbox's LLM): a tweet about a topic, improved, then a thread; Esc closes without saving.
  const before = (await call(page, 'GET', '/api/content/scheduled?statuses=scheduled')).body.items.length;
  await page.getByRole('button', { name: 'Compose', exact: true }).click();
  const ai = page.getByRole('dialog', { name: 'Compose' });
  await ai.getByLabel('Topic').fill('saas pricing');
  await ai.getByRole('button', { name: 'Write with AI' }).click();
  await page.waitForFunction(() => (document.querySelector('#compose-part-0') as HTMLTextAreaElement | null)?.value.trim() !== '');
  const written = await ai.getByLabel('Text', { exact: true }).inputValue();
  t.ok(Number((await ai.locator('#compose-part-0-count').textContent())!.split('/')[0]) <= 280, 'the written tweet fits');
  await ai.getByRole('button', { name: 'Improve with AI' }).click();
  await page.waitForFunction((before) => {
    const value = (document.querySelector('#compose-part-0') as HTMLTextAreaElement | null)?.value;
    return value !== before && value?.trim() !== '';
  }, written);
  t.pass('the text is rewritten in place');
  await ai.getByRole('button', { name: 'Thread' }).click();
  await ai.getByRole('button', { name: 'Write a thread with AI' }).click();
  await ai.getByLabel(/^Part 3 of \d+$/).waitFor();
  t.ok((await ai.getByLabel(/^Part \d+ of \d+$/).count()) >= 3, `a thread of parts (the tweet was: ${written.slice(0, 40)}…)`);
  await screenshot(page, 'content-compose-ai-thread', false);
  await page.keyboard.press('Escape');
  await ai.waitFor({ state: 'detached' });
  t.equal((await call(page, 'GET', '/api/content/scheduled?statuses=scheduled')).body.items.length, before, 'nothing was saved');

  // Light theme, and a narrow screen.
  await page.evaluate(() => localStorage.setItem('tuitbot-theme', 'light'));
  await page.reload();
  await page.getByRole('list', { name: 'Week' }).waitFor();
  await screenshot(page, 'content-calendar-light');
  await page.setViewportSize({ width: 420, height: 860 });
  await screenshot(page, 'content-calendar-narrow');
  t.same(problems.filter((p) => !/^422 /.test(p)), [], 'no script error; the only failed requests are the refusals shown');
});
