// The insight pages in Chromium against a real sandbox server, on a tenant the runtime's own loops filled
// (seeded-tenant.ts: discovery, replies, targets, measurements and follower snapshots on the sandbox X and LLM):
// overview numbers, targets (adding an account X does not know is refused by field), a target's timeline with our
// replies, discovery (filter, score breakdown, a reply written with the AI, edited and queued), strategy and costs.
import t from 'tap';
import { openSeededDashboard } from '../helpers/seeded-dashboard.js';
import { seedThroughRuntime } from '../helpers/seeded-tenant.js';
import { screenshot, visitDashboard as visit } from '../helpers/web-app.js';

t.setTimeout(600_000);
const PASSWORD = 'correct horse battery staple';

t.test('overview, targets, target detail, discovery (AI reply queued), strategy and costs show what the runtime made', async (t) => {
  const h = await seedThroughRuntime(t, {
    // Every loop for two hours two days ago (measured a day later); follower snapshots on each of the three days.
    days: 3,
    active: [[0, 20, 22]],
    targets: ['AdaBuilds0'],
    followersOn: (day) => 120 + day * 7,
  });
  const own = h.ownPosts();
  const ada = h.x.world.userByName('AdaBuilds0')!;
  const toAda = own.filter((post) => post.inReplyTo !== null && h.x.world.post(post.inReplyTo)?.authorId === ada.id);
  t.ok(own.length > 0 && toAda.length > 0, `the runtime posted ${own.length} times, ${toAda.length} replies to @AdaBuilds0`);

  const { page, problems } = await openSeededDashboard(t, h, 'insights@example.com', PASSWORD);

  // ── overview: stat cards, the follower chart, topics, measured posts ──
  await visit(page, '/dashboard', 'Overview');
  const followers = page.locator('dl.stats > div').filter({ hasText: 'Followers' });
  await followers.getByText('134').waitFor();
  t.pass('the follower card shows the latest snapshot (120 + 2 × 7)');
  const chart = page.getByRole('img', { name: /^Followers, last 30 days/ });
  await chart.waitFor();
  t.match(await chart.getAttribute('aria-label'), /: 120 on \d{4}-\d\d-\d\d, 134 on \d{4}-\d\d-\d\d$/, 'the chart runs from the first day\'s snapshot to today\'s');
  await page.getByRole('button', { name: '7 d', exact: true }).click();
  await page.getByRole('img', { name: /^Followers, last 7 days/ }).waitFor();
  t.equal(await page.getByRole('button', { name: '7 d', exact: true }).getAttribute('aria-pressed'), 'true', 'the period button says it is chosen');
  const measured = page.locator('section', { has: page.getByRole('heading', { name: 'Recent performance' }) }).getByRole('listitem');
  await measured.first().waitFor();
  t.ok((await measured.count()) > 0, `our latest measured posts: ${await measured.first().textContent()}`);
  const topics = page.locator('section', { has: page.getByRole('heading', { name: 'Top topics' }) }).getByRole('row');
  await topics.nth(1).waitFor();
  t.pass('the top topics, measured');
  await screenshot(page, 'insights-overview');

  // ── targets: the seeded one, an account X does not know refused by field, a real one added ──
  await visit(page, '/dashboard/targets', 'Target accounts');
  const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: '@AdaBuilds0' }) });
  await row.waitFor();
  t.match(await row.textContent(), new RegExp(`active\\s*${toAda.length}`), 'the seeded target: resolved by the loop, with the replies we sent it');
  const field = page.getByLabel('X username');
  await field.fill('@nobody_here_x');
  await page.getByRole('button', { name: 'Add' }).click();
  const fieldError = page.locator('#target-username-error');
  await fieldError.waitFor();
  t.match(await fieldError.textContent(), /nobody_here_x|not|no such/i, `X's answer next to the field: "${await fieldError.textContent()}"`);
  t.equal(await field.getAttribute('aria-invalid'), 'true');
  t.equal(await field.getAttribute('aria-describedby'), 'target-username-error', 'the message is tied to its input');
  await screenshot(page, 'insights-targets-unknown');
  await field.fill('BenCodes1');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('status').getByText('@BenCodes1 added.').waitFor();
  await page.getByRole('link', { name: '@BenCodes1' }).waitFor();
  t.equal(await field.getAttribute('aria-invalid'), null, 'the field error is gone');
  await field.fill('@BenCodes1');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.locator('#target-username-error').waitFor();
  t.pass('adding it twice is refused by field (409)');
  await screenshot(page, 'insights-targets');
  t.match(await page.getByText(/^Accounts whose posts/).textContent(), /limits\. Your plan allows \d+\.$/, "the plan's ceiling is shown");
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByRole('button', { name: 'Remove @BenCodes1' }).click();
  await page.getByRole('status').getByText('@BenCodes1 removed.').waitFor();
  t.equal(await page.getByRole('link', { name: '@BenCodes1' }).count(), 0, 'removed after confirming');

  // ── a target's page: stats and their posts with our reply under each one we answered ──
  await page.getByRole('link', { name: '@AdaBuilds0' }).click();
  await page.getByRole('heading', { name: '@AdaBuilds0', level: 1 }).waitFor();
  const replies = page.locator('dl.stats > div').filter({ hasText: 'Replies sent' });
  await replies.locator('dd').getByText(String(toAda.length), { exact: true }).waitFor();
  await page.getByText('Our reply').first().waitFor();
  const shownReplies = await page.locator('.reply p:not(.muted)').allTextContents();
  t.same(shownReplies.sort(), toAda.map((post) => post.text).sort(), 'each reply we sent them is shown, as X has it');
  await screenshot(page, 'insights-target-detail');

  // ── discovery: scored feed, min-score filter, breakdown, AI reply → edit → queue ──
  await visit(page, '/dashboard/discovery', 'Discovery');
  await page.locator('.feed > li').first().waitFor();
  await page.getByLabel('Minimum score').fill('40');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.waitForLoadState('networkidle');
  const scores = (await page.locator('.feed .score').allTextContents()).map((text) => Number(text.replace('Score ', '')));
  t.ok(scores.length > 0 && scores.every((value) => value >= 40), `only posts scored 40 or more (${scores.length}: ${scores.slice(0, 5).join(', ')}…)`);
  t.equal(await page.locator('.feed > li').count(), scores.length, 'every post shown has a score');
  // The first post still open for a reply, pinned by its id (its Reply button goes once the composer opens).
  const labelledBy = await page.locator('.feed > li').filter({ has: page.getByRole('button', { name: /^Reply to @/ }) }).first().getAttribute('aria-labelledby');
  const card = page.locator(`.feed > li[aria-labelledby="${labelledBy}"]`);
  await card.getByText('Score breakdown').click();
  const signals = card.getByRole('list', { name: /Score signals/ }).getByRole('listitem');
  const signalTexts = (await signals.allTextContents()).map((text) => text.trim());
  t.same(signalTexts.map((text) => text.replace(/[\d.]+\s*· of [\d.]+$/, '').trim()), ['Keyword match', 'Author followers', 'Recency', 'Engagement', 'Few replies yet', 'Content type'], 'the six signals');
  t.match(signalTexts[0], /· of 25$/, 'each against its configured maximum (the keyword signal: 25 by default)');
  await card.getByRole('button', { name: /^Reply to @/ }).click();
  const reply = card.getByLabel(/^Your reply to @/);
  await reply.waitFor();
  t.equal(await reply.evaluate((element) => element === document.activeElement), true, 'the keyboard continues in the reply text');
  await card.getByRole('button', { name: 'Write with AI' }).click();
  await card.getByRole('status').getByText(/Suggested|shortened/).waitFor();
  const suggestion = await reply.inputValue();
  t.ok(suggestion.length > 10, `the sandbox LLM wrote: "${suggestion}"`);
  const edited = `${suggestion.slice(0, 200)} (edited)`;
  await reply.fill(edited);
  await card.scrollIntoViewIfNeeded();
  await screenshot(page, 'insights-discovery-compose', false);
  await card.getByRole('button', { name: 'Queue reply' }).click();
  await page.getByRole('status').getByText(/is queued/).waitFor();
  await card.getByText('A reply is in the').waitFor();
  const queue = (await (await page.request.get('/api/approvals?statuses=approved')).json()) as { items: { content?: string; text?: string }[] };
  t.ok(JSON.stringify(queue).includes('(edited)'), 'the edited text is in the approval queue, approved');
  await screenshot(page, 'insights-discovery', false);

  // ── strategy: this week, refresh (stored in the history), inputs ──
  await visit(page, '/dashboard/strategy', 'Strategy');
  await page.getByRole('heading', { name: /^This week/ }).waitFor();
  await page.getByRole('heading', { name: 'Recommendations' }).first().waitFor();
  await page.getByText('What the strategy works from').waitFor();
  t.match(await page.locator('.inputs').textContent(), /@AdaBuilds0/, 'the target accounts are among the inputs');
  await page.getByRole('button', { name: 'Refresh this week' }).click();
  await page.getByRole('status').getByText("This week's report is stored").waitFor();
  const week = page.locator('.history > li').first();
  await week.getByText('incomplete').waitFor();
  await week.getByRole('button').click();
  t.equal(await week.getByRole('button').first().getAttribute('aria-expanded'), 'true');
  await screenshot(page, 'insights-strategy');

  // ── costs: LLM and X spending, by model/purpose and kind/endpoint ──
  await visit(page, '/dashboard/costs', 'Costs');
  const costs = (await (await page.request.get('/api/costs')).json()) as { llm: { total: { calls: number }; byModel: { model: string }[] }; x: { total: { calls: number }; byEndpoint: { endpoint: string }[] } };
  t.ok(costs.llm.total.calls > 0 && costs.x.total.calls > 0, `the runtime made ${costs.llm.total.calls} LLM and ${costs.x.total.calls} X calls`);
  const llmCard = page.locator('dl.stats > div').filter({ hasText: 'LLM' });
  await llmCard.getByText(`${costs.llm.total.calls} calls`, { exact: false }).waitFor();
  await page.getByRole('list', { name: 'LLM cost by model' }).getByText(costs.llm.byModel[0]!.model, { exact: false }).waitFor();
  await page.getByRole('list', { name: 'X cost by endpoint' }).getByText(costs.x.byEndpoint[0]!.endpoint, { exact: true }).waitFor();
  t.ok((await page.getByRole('row').count()) > 1, 'a row per day');
  await screenshot(page, 'insights-costs');

  // Light theme and a phone-sized screen: the same pages stay readable.
  await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'light'));
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, 'insights-costs-light-narrow');
  await visit(page, '/dashboard/discovery', 'Discovery');
  await page.evaluate(() => document.documentElement.setAttribute('data-theme', 'light'));
  await page.locator('.feed > li').first().waitFor();
  await screenshot(page, 'insights-discovery-light-narrow', false);

  t.same(problems.filter((problem) => !/^4(09|22) POST \/api\/targets$/.test(problem)), [], 'no script error, CSP violation or failed request but the refused targets');
  t.equal(problems.length, 2, 'the two refused additions');
});
