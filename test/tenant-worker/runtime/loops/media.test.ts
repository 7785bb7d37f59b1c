// Posting with media: the poster uploads an item's attached media to the sandbox X from the files the
// supervisor stored, posts with X's media ids, reuses X's id while X keeps it (no second upload), and
// fails an item whose file is gone with the reason shown — once, not in a retry loop.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { approve, enqueueApproval, getApproval } from '../../../../tenant-worker/runtime/approvals.js';
import { mediaDirOf } from '../../../../tenant-worker/runtime/attached-media.js';
import { createScheduled, getScheduled } from '../../../../tenant-worker/runtime/scheduled.js';
import { fixtures } from '../../../helpers/media-files.js';
import { runtimeHarness, type RuntimeHarness } from '../../../helpers/runtime.js';

const MINUTE = 60_000;

/** What an upload through the API leaves: the file in the media directory and its row. */
function storeMedia(h: RuntimeHarness, dir: string, bytes: Buffer, kind: 'image' | 'gif', mime: string, ext: string): string {
  const id = randomBytes(16).toString('base64url');
  writeFileSync(join(dir, `${id}.${ext}`), bytes);
  h.db
    .prepare('INSERT INTO media (id, kind, mime, ext, size, width, height, sha256, created_at) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)')
    .run(id, kind, mime, ext, bytes.length, createHash('sha256').update(bytes).digest('hex'), h.clock.now);
  return id;
}

async function setUp(t: Test) {
  const h = await runtimeHarness(t);
  const dir = mkdtempSync(join(tmpdir(), 'tuitbot-media-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  h.deps.mediaDir = dir;
  h.start();
  const uploads = () => h.x.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/2/media/upload'));
  const atX = (text: string) => h.x.world.posts.find((post) => post.authorId === h.self.id && post.text === text);
  return { h, dir, uploads, atX };
}

t.test('an approved tweet with an image is posted to X with the image attached; a retry reuses X’s media id', async (t) => {
  const { h, dir, uploads, atX } = await setUp(t);
  const image = storeMedia(h, dir, fixtures.png(), 'image', 'image/png', 'png');
  const item = enqueueApproval(h.deps, { kind: 'tweet', content: 'Our new pricing page, in one picture', source: 'compose', media: [image] });
  t.ok(item.ok);
  t.ok(approve(h.deps, item.ok ? item.value.id : 0).ok);
  await h.runUntil(h.clock.now + 15 * MINUTE, () => atX('Our new pricing page, in one picture') !== undefined);

  const post = atX('Our new pricing page, in one picture');
  t.ok(post, 'the tweet is at X');
  const cached = h.db.prepare<[string], { x_media_id: string; x_media_expires_at: number }>('SELECT x_media_id, x_media_expires_at FROM media WHERE id = ?').get(image)!;
  t.same(post!.mediaKeys, [`3_${cached.x_media_id}`], 'with the uploaded image attached');
  t.equal(uploads().length, 1, 'one upload');
  t.ok(cached.x_media_expires_at > h.clock.now + 20 * 60 * MINUTE, 'X’s id is kept until X forgets it (about a day)');
  const id = item.ok ? item.value.id : 0;
  t.match(getApproval(h.db, id), { status: 'posted', postedTweetId: post!.id });
  t.same(JSON.parse(h.db.prepare<[number], { media_ids: string }>('SELECT media_ids FROM post_intents WHERE approval_id = ?').get(id)!.media_ids), [cached.x_media_id], 'the intent records X’s media id');

  // A second post with the same image: X still has it, so it is not uploaded again.
  const again = enqueueApproval(h.deps, { kind: 'tweet', content: 'The same picture, a second time', source: 'compose', media: [image], approved: true });
  t.ok(again.ok);
  await h.runUntil(h.clock.now + 15 * MINUTE, () => atX('The same picture, a second time') !== undefined);
  t.same(atX('The same picture, a second time')?.mediaKeys, [`3_${cached.x_media_id}`], 'posted with the same X media id');
  t.equal(uploads().length, 1, 'no second upload');
});

t.test('a scheduled tweet with a GIF waits for X to process it, then posts with it', async (t) => {
  const { h, dir, uploads, atX } = await setUp(t);
  const gif = storeMedia(h, dir, fixtures.gif(), 'gif', 'image/gif', 'gif');
  const scheduled = createScheduled(h.deps, { kind: 'tweet', content: 'A moving picture', media: [gif], source: 'manual' }, h.clock.now + MINUTE);
  t.ok(scheduled.ok);
  await h.runUntil(h.clock.now + 20 * MINUTE, () => atX('A moving picture') !== undefined);
  const post = atX('A moving picture');
  t.ok(post, 'posted');
  t.match(post!.mediaKeys, [/^16_\d+$/], 'with the GIF attached');
  t.ok(uploads().some((r) => r.path.endsWith('/finalize')), 'uploaded in chunks (initialize, append, finalize)');
  t.ok(h.x.requests.some((r) => r.method === 'GET' && r.path === '/2/media/upload'), 'and X’s processing was polled');
  t.match(getScheduled(h.db, scheduled.ok ? scheduled.value.id : 0), { status: 'posted' });
});

t.test('an item whose media file is gone fails once with the reason shown, and is not retried', async (t) => {
  const { h, dir, uploads, atX } = await setUp(t);
  const image = storeMedia(h, dir, fixtures.jpeg(), 'image', 'image/jpeg', 'jpg');
  unlinkSync(join(dir, `${image}.jpg`));
  const item = enqueueApproval(h.deps, { kind: 'tweet', content: 'This picture went missing', source: 'compose', media: [image], approved: true });
  t.ok(item.ok);
  const id = item.ok ? item.value.id : 0;
  await h.runUntil(h.clock.now + 15 * MINUTE, () => getApproval(h.db, id)?.status === 'failed');
  const failed = getApproval(h.db, id)!;
  t.equal(failed.status, 'failed', 'the item failed');
  t.match(failed.lastError, /missing or unreadable/, 'with the reason');
  t.equal(atX('This picture went missing'), undefined, 'nothing posted');
  t.equal(uploads().length, 0, 'nothing uploaded');
  const logged = h.db.prepare<[], { message: string }>("SELECT message FROM action_log WHERE status = 'failure' ORDER BY id DESC LIMIT 1").get();
  t.match(logged?.message, /missing or unreadable/, 'and in the activity log');
  const tweetsBefore = h.x.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets').length;
  await h.runUntil(h.clock.now + 60 * MINUTE);
  t.equal(getApproval(h.db, id)!.status, 'failed', 'still failed an hour later (no retry loop)');
  t.equal(h.x.requests.filter((r) => r.method === 'POST' && r.path === '/2/tweets').length, tweetsBefore);

  // Deleted media and a combination X refuses fail the same way.
  const gone = enqueueApproval(h.deps, { kind: 'tweet', content: 'Its media was deleted', source: 'compose', media: ['AAAAAAAAAAAAAAAAAAAAAA'], approved: true });
  const mixed = enqueueApproval(h.deps, {
    kind: 'tweet',
    content: 'A GIF and an image together',
    source: 'compose',
    media: [storeMedia(h, dir, fixtures.gif(), 'gif', 'image/gif', 'gif'), storeMedia(h, dir, fixtures.png(), 'image', 'image/png', 'png')],
    approved: true,
  });
  await h.runUntil(h.clock.now + 30 * MINUTE, () => [gone, mixed].every((r) => r.ok && getApproval(h.db, r.value.id)?.status === 'failed'));
  t.match(getApproval(h.db, gone.ok ? gone.value.id : 0), { status: 'failed', lastError: /no longer exists/ });
  t.match(getApproval(h.db, mixed.ok ? mixed.value.id : 0), { status: 'failed', lastError: /one GIF or video alone/ });
});

t.test('the media directory is found beside the tenant DB', async (t) => {
  t.equal(mediaDirOf('/data/tenants/7d0c4bd2-2f4e-4f0e-8a36-6a4f1fd6a0b1.db'), '/data/media/7d0c4bd2-2f4e-4f0e-8a36-6a4f1fd6a0b1');
});
