-- Issue 11: revocation within seconds, KEY_HASH_SECRET rotation, leaked-key reports.

-- Revocation feed. Every revocation (API, command line, leaked-key report) and
-- every rotation (whose end may lie in the future: a scheduled revocation)
-- appends a row in the same batch as the api_keys update. Each isolate reads
-- only rows past the last seq it saw, at most once per REVOCATION_POLL_INTERVAL_MS
-- (src/auth/revocation-feed.ts).
CREATE TABLE key_revocations (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id       TEXT NOT NULL,
  hash         TEXT NOT NULL,               -- the key's hash when revoked, to evict it from isolate memory
  effective_at TEXT NOT NULL,               -- revoked_at: may lie in the future (end of a rotation grace)
  recorded_at  TEXT NOT NULL                -- when this row was written (a cold isolate loads the recent ones)
);
CREATE INDEX key_revocations_by_recorded_at ON key_revocations (recorded_at);

-- The KEY_HASH_SECRET version that produced `hash`: 1 for every key so far.
ALTER TABLE api_keys ADD COLUMN secret_version INTEGER NOT NULL DEFAULT 1;
CREATE INDEX api_keys_by_secret_version ON api_keys (secret_version);

-- Audit trail: a new event type `revoked_leaked` and the report's source URL.
-- SQLite cannot alter a CHECK constraint: rebuild the table, keeping every row and seq.
CREATE TABLE api_key_events_new (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id          TEXT NOT NULL REFERENCES api_keys (id),
  organization_id TEXT NOT NULL,
  type            TEXT NOT NULL CHECK (type IN ('created', 'renamed', 'rotated', 'revoked', 'revoked_leaked')),
  actor           TEXT NOT NULL,
  at              TEXT NOT NULL,
  url             TEXT                      -- revoked_leaked: where the key was found
);
INSERT INTO api_key_events_new (seq, key_id, organization_id, type, actor, at)
  SELECT seq, key_id, organization_id, type, actor, at FROM api_key_events;
DROP TABLE api_key_events;
ALTER TABLE api_key_events_new RENAME TO api_key_events;
CREATE INDEX api_key_events_by_key ON api_key_events (key_id, seq);
