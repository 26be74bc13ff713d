-- API keys: only the HMAC of a key is stored (DESIGN §2).
CREATE TABLE api_keys (
  id              TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  name            TEXT NOT NULL,
  hash            TEXT NOT NULL UNIQUE,
  display         TEXT NOT NULL,
  scopes          TEXT NOT NULL,            -- JSON array of scope strings
  created_at      TEXT NOT NULL,            -- ISO-8601 UTC, e.g. 2026-11-26T01:22:35.000Z
  created_by      TEXT NOT NULL,            -- acting key id, or "cli"
  expires_at      TEXT,
  revoked_at      TEXT,                     -- may lie in the future: the end of a rotation grace period
  last_used_at    TEXT,
  rotated_from    TEXT REFERENCES api_keys (id)
);

-- Listing: an organization's keys, newest first, with a stable tiebreak for cursors.
CREATE INDEX api_keys_by_org ON api_keys (organization_id, created_at DESC, id DESC);

-- Audit trail: created / renamed / rotated / revoked, with who and when.
CREATE TABLE api_key_events (
  seq             INTEGER PRIMARY KEY AUTOINCREMENT,
  key_id          TEXT NOT NULL REFERENCES api_keys (id),
  organization_id TEXT NOT NULL,
  type            TEXT NOT NULL CHECK (type IN ('created', 'renamed', 'rotated', 'revoked')),
  actor           TEXT NOT NULL,
  at              TEXT NOT NULL
);

CREATE INDEX api_key_events_by_key ON api_key_events (key_id, seq);
