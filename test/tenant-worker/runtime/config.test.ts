import t from 'tap';
import { tenantZone } from '../../../tenant-worker/action-limits.js';
import { checkSettings, defaultRuntimeConfig, loadRuntimeConfig, missingSetup, parseRuntimeSettings } from '../../../tenant-worker/runtime/config.js';
import { runtimeContext } from './helpers.js';

t.test('an empty settings table gives the reference defaults, approval mode on', async (t) => {
  const config = defaultRuntimeConfig();
  t.equal(config.mode, 'autopilot');
  t.equal(config.approvalMode, true);
  t.equal(config.effectiveApprovalMode, true);
  t.same(config.limits, {
    maxRepliesPerDay: 5,
    maxTweetsPerDay: 6,
    maxThreadsPerWeek: 1,
    maxRepliesPerAuthorPerDay: 1,
    maxTargetRepliesPerDay: 3,
    productMentionRatio: 0.2,
    bannedPhrases: ['check out', 'you should try', 'I recommend', 'link in bio'],
  });
  t.same(config.pacing, { minDelayMs: 45_000, maxDelayMs: 180_000 });
  t.same(
    { tz: config.schedule.timezone, start: config.schedule.activeHoursStart, end: config.schedule.activeHoursEnd, days: config.schedule.activeDays.length },
    { tz: 'UTC', start: 8, end: 22, days: 7 },
  );
  t.equal(config.scoring.threshold, 60);
  t.equal(config.retentionDays, 90);
  t.ok(missingSetup(config)['business.product_name'], 'a product name is still needed');
});

t.test('composer mode forces approval even when the user turned it off', async (t) => {
  const { config } = parseRuntimeSettings({ mode: 'composer', approval_mode: false });
  t.equal(config.approvalMode, false);
  t.equal(config.effectiveApprovalMode, true);
});

t.test('invalid values are reported by field path and fall back to their defaults', async (t) => {
  const { config, errors } = parseRuntimeSettings({
    'limits.max_replies_per_day': -1,
    'business.product_keywords': ['rust', '   ', 'sqlite'],
    timezone: 'Mars/Olympus',
    'schedule.preferred_times': ['9am'],
    'business.product_name': 'TuitBot',
  });
  t.match(errors, {
    'limits.max_replies_per_day': /at least 0/,
    'business.product_keywords.1': /must not be empty/,
    timezone: /IANA/,
    'schedule.preferred_times.0': /HH:MM/,
  });
  t.equal(config.limits.maxRepliesPerDay, 5);
  t.same(config.business.productKeywords, []);
  t.equal(config.schedule.timezone, 'UTC');
  t.equal(config.business.productName, 'TuitBot', 'valid fields are kept');
});

t.test('cross-field rules: min delay ≤ max delay, slots per day ≤ tweets per day', async (t) => {
  t.same(checkSettings({ 'pacing.min_delay_seconds': 200, 'pacing.max_delay_seconds': 100 }), {
    ok: false,
    errors: { 'pacing.min_delay_seconds': 'must not be more than the maximum delay' },
  });
  const slots = checkSettings({ 'schedule.preferred_times': ['auto', '20:00'], 'limits.max_tweets_per_day': 3 });
  t.match(slots, { ok: false, errors: { 'schedule.preferred_times': /4 slots a day but at most 3/ } });
  t.same(checkSettings({ 'schedule.preferred_times': ['auto'], 'limits.max_tweets_per_day': 3 }), { ok: true });
  const { config, errors } = parseRuntimeSettings({ 'pacing.min_delay_seconds': 200, 'pacing.max_delay_seconds': 100 });
  t.ok(errors['pacing.min_delay_seconds']);
  t.same(config.pacing, { minDelayMs: 45_000, maxDelayMs: 180_000 }, 'both fall back together');
});

t.test('"auto" slots expand and weekday overrides are normalised', async (t) => {
  const { config, errors } = parseRuntimeSettings({ 'schedule.preferred_times': ['auto', '12:30'], 'schedule.preferred_times_override': { Sat: [] }, 'schedule.active_days': ['MON', 'fri'] });
  t.same(errors, {});
  t.same(config.schedule.preferredTimes, ['09:15', '12:30', '17:00']);
  t.same(config.schedule.preferredTimesOverride, { sat: [] });
  t.same(config.schedule.activeDays, ['mon', 'fri']);
});

t.test('the loader reads the settings table; the time zone is the key action-limits reads', async (t) => {
  const { db, setSetting } = runtimeContext(t);
  setSetting('timezone', 'Europe/Paris');
  setSetting('limits.max_tweets_per_day', 3);
  setSetting('llm.provider', 'openai');
  db.prepare("INSERT INTO settings (key, value, updated_at) VALUES ('approval_mode', 'not json', 0)").run();
  const { config, errors } = loadRuntimeConfig(db);
  t.equal(config.schedule.timezone, 'Europe/Paris');
  t.equal(tenantZone(db), 'Europe/Paris', 'one setting, two readers');
  t.equal(config.limits.maxTweetsPerDay, 3);
  t.same(errors, { approval_mode: 'is not valid JSON' }, 'unknown keys are not ours to judge');
  t.equal(config.approvalMode, true);
});
