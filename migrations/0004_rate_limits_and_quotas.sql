-- Per-key rate limit and monthly quota (README "Rate limits and quotas").
-- NULL everywhere means "none of its own": the organization default (config) applies, or no limit.
ALTER TABLE api_keys ADD COLUMN rate_limit_limit INTEGER CHECK (rate_limit_limit IS NULL OR rate_limit_limit > 0);
ALTER TABLE api_keys ADD COLUMN rate_limit_period_s INTEGER CHECK (rate_limit_period_s IS NULL OR rate_limit_period_s > 0);
ALTER TABLE api_keys ADD COLUMN monthly_quota INTEGER CHECK (monthly_quota IS NULL OR monthly_quota > 0);
-- Whose meter (Durable Object) counts this key: a rotated key shares its predecessor's, so rotating
-- neither resets a spent quota nor doubles the rate during a grace period. NULL: the key's own id.
ALTER TABLE api_keys ADD COLUMN meter_id TEXT;
