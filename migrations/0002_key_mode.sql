-- Test-mode keys (`pk_test_`): their requests go to TEST_ORIGIN_URL. Every earlier key is live.
ALTER TABLE api_keys ADD COLUMN mode TEXT NOT NULL DEFAULT 'live' CHECK (mode IN ('live', 'test'));
