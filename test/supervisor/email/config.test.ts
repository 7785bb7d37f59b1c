import { inspect } from 'node:util';
import t from 'tap';
import { loadConfig } from '../../../supervisor/config.js';
import { describeSmtpUrl } from '../../../supervisor/email/transport.js';
import { problemsOf } from '../../helpers/config.js';

t.test('SMTP is optional outside cloud mode; EMAIL_FROM has a default', async (t) => {
  const config = loadConfig({});
  t.same({ ...config.email }, { smtpUrl: null, from: 'TuitBot <no-reply@localhost>' });
  const set = loadConfig({ SMTP_URL: 'smtps://u:p@smtp.example.com:465', EMAIL_FROM: 'no-reply@example.com' });
  t.equal(set.email.smtpUrl, 'smtps://u:p@smtp.example.com:465');
  t.equal(set.email.from, 'no-reply@example.com');
});

t.test('SMTP_URL must be an smtp:// or smtps:// URL, and a bad one is never quoted back', async (t) => {
  for (const value of ['https://u:hunter22@smtp.example.com', 'smtp:/oops-hunter22', 'hunter22']) {
    const problems = problemsOf({ SMTP_URL: value });
    t.match(problems, [/^SMTP_URL: /], value);
    t.notMatch(problems.join('\n'), /hunter22/);
  }
  t.match(problemsOf({ EMAIL_FROM: 'TuitBot <nope>' }), [/^EMAIL_FROM: /]);
  t.match(problemsOf({ EMAIL_FROM: 'a@example.com\nBcc: b@example.com' }), [/^EMAIL_FROM: /]);
});

t.test('cloud mode refuses to start without SMTP_URL', async (t) => {
  t.ok(problemsOf({ TUITBOT_MODE: 'cloud' }).some((p) => /^SMTP_URL: required in cloud mode/.test(p)));
  t.notOk(problemsOf({ TUITBOT_MODE: 'cloud', SMTP_URL: 'smtp://smtp.example.com:587' }).some((p) => p.startsWith('SMTP_URL')));
});

t.test('logging the config never prints the SMTP credentials', async (t) => {
  const config = loadConfig({ SMTP_URL: 'smtp://mailer:hunter22@smtp.example.com:587' });
  for (const shown of [JSON.stringify(config), inspect(config, { depth: 5 })]) {
    t.notMatch(shown, /hunter22|mailer/);
    t.match(shown, 'smtp.example.com:587');
  }
  t.equal(describeSmtpUrl('smtps://mailer:hunter22@smtp.example.com:465'), 'smtps://smtp.example.com:465 (with login)');
  t.equal(describeSmtpUrl('smtp://127.0.0.1:2525'), 'smtp://127.0.0.1:2525');
});
