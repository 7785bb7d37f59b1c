-- Media the user uploaded (images, GIFs, MP4 videos) to attach to posts. The bytes are a file the
-- supervisor writes at `<DATA_DIR>/media/<tenant id>/<id>.<ext>`; this row is the record that makes
-- the file exist for the API (no row: not served, not counted). Approval items and scheduled content
-- name media by `id` in their `media` JSON arrays.
CREATE TABLE media (
  seq INTEGER PRIMARY KEY,                   -- the list's page cursor (newest first)
  id TEXT NOT NULL UNIQUE,                   -- random, URL-safe; the name of the file
  kind TEXT NOT NULL CHECK (kind IN ('image', 'gif', 'video')),
  mime TEXT NOT NULL,                        -- from the file's magic bytes, never the client's word
  ext TEXT NOT NULL CHECK (ext IN ('jpg', 'png', 'webp', 'gif', 'mp4')),
  size INTEGER NOT NULL CHECK (size > 0),     -- bytes; the storage quota sums this column
  width INTEGER,                             -- pixels, when the header tells cheaply (images, GIFs)
  height INTEGER,
  sha256 TEXT NOT NULL,                      -- hex, of the stored bytes
  created_at INTEGER NOT NULL,               -- epoch ms
  -- X's id for these bytes once uploaded to X, reused until X forgets it (its expiry), so a retried
  -- post does not upload twice.
  x_media_id TEXT,
  x_media_expires_at INTEGER                 -- epoch ms
) STRICT;
