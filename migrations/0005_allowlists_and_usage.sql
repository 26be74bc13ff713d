-- Per-key IP allowlists: a JSON array of canonical CIDR blocks, or NULL for any address.
-- Fixed at creation like scopes (a new key changes them), copied on rotation.
ALTER TABLE api_keys ADD COLUMN allowed_cidrs TEXT;

-- Usage counts where no Analytics Engine is bound (local development, tests, or
-- USAGE_STORE=d1): one row per key, UTC hour and status class, incremented in
-- batches after responses. `hour` is whole hours since the Unix epoch.
CREATE TABLE api_key_usage (
  key_id          TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  hour            INTEGER NOT NULL,
  class           TEXT NOT NULL CHECK (class IN ('2xx', '3xx', '4xx', '5xx')),
  count           INTEGER NOT NULL,
  PRIMARY KEY (key_id, hour, class)
) WITHOUT ROWID;
