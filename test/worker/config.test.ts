import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";

const valid = { ORIGIN_URL: "https://origin.example.com/", KEY_HASH_SECRET: "x".repeat(32) };

describe("configuration", () => {
  it("applies the documented defaults", () => {
    expect(parseConfig(valid)).toMatchObject({
      ORIGIN_URL: "https://origin.example.com",
      FORWARD_AUTHORIZATION: false,
      ORIGIN_TIMEOUT_MS: 30_000,
      MEMORY_CACHE_TTL_MS: 2_000,
      KV_CACHE_TTL_S: 300,
      AUTH_FAIL_LIMIT: 60,
      AUTH_FAIL_WINDOW_S: 60,
      MAX_REQUEST_LINE_BYTES: 8_192,
      LAST_USED_WRITE_INTERVAL_S: 60,
    });
  });

  const BAD: [string, Record<string, string | undefined>][] = [
    ["missing secret", { KEY_HASH_SECRET: undefined }],
    ["short secret", { KEY_HASH_SECRET: "x".repeat(31) }],
    ["non-http origin", { ORIGIN_URL: "ftp://origin" }],
    ["origin with a query", { ORIGIN_URL: "https://o.example/?a=1" }],
    ["origin with credentials", { ORIGIN_URL: "https://u:p@o.example" }],
    ["boolean typo", { FORWARD_AUTHORIZATION: "yes" }],
    ["timeout not a number", { ORIGIN_TIMEOUT_MS: "30s" }],
    ["KV TTL below Cloudflare's minimum", { KV_CACHE_TTL_S: "10" }],
    ["zero failure limit", { AUTH_FAIL_LIMIT: "0" }],
    ["short origin token", { ORIGIN_TOKEN: "abc" }],
  ];
  it.each(BAD)("%s fails loudly, naming the setting but not its value", (_, patch) => {
    const attempt = () => parseConfig({ ...valid, ...patch });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (err) {
      const name = Object.keys(patch)[0]!;
      expect((err as Error).message).toContain(name);
      const value = Object.values(patch)[0];
      if (value && value.length > 3) expect((err as Error).message).not.toContain(value);
    }
  });
});
