import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { captureLogs, envelope, gatewayWith } from "./helpers.ts";

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
      REVOCATION_POLL_INTERVAL_MS: 1_000,
      REVOCATION_MAX_STALENESS_MS: 3_000,
      REVOCATION_SET_MAX_ENTRIES: 10_000,
      KEY_HASH_SECRET_VERSION: 1,
      SECRET_SCANNING_MAX_BODY_BYTES: 65_536,
      SECRET_SCANNING_MAX_TOKENS: 100,
    });
    const c = parseConfig(valid);
    expect(c.KEY_HASH_SECRET_PREVIOUS).toBeUndefined();
    expect(c.SECRET_SCANNING_PUBLIC_KEYS).toBeUndefined();
  });

  it("takes a previous secret with its version, and scanning public keys as JSON", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const spki = new Uint8Array((await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer);
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...spki))}\n-----END PUBLIC KEY-----\n`;
    const c = parseConfig({
      ...valid,
      KEY_HASH_SECRET_VERSION: "2",
      KEY_HASH_SECRET_PREVIOUS: "y".repeat(32),
      KEY_HASH_SECRET_PREVIOUS_VERSION: "1",
      SECRET_SCANNING_PUBLIC_KEYS: JSON.stringify({ "github-2025": pem }),
    });
    expect(c).toMatchObject({ KEY_HASH_SECRET_VERSION: 2, KEY_HASH_SECRET_PREVIOUS_VERSION: 1 });
    expect(Object.keys(c.SECRET_SCANNING_PUBLIC_KEYS!)).toEqual(["github-2025"]);
  });

  const BAD: [string, Record<string, string | undefined>][] = [
    ["missing secret", { KEY_HASH_SECRET: undefined }],
    ["short secret", { KEY_HASH_SECRET: "x".repeat(31) }],
    ["the example's placeholder secret", { KEY_HASH_SECRET: "replace-with-at-least-32-random-bytes-e.g.-openssl-rand-base64-48" }],
    ["non-http origin", { ORIGIN_URL: "ftp://origin" }],
    ["origin with a query", { ORIGIN_URL: "https://o.example/?a=1" }],
    ["origin with credentials", { ORIGIN_URL: "https://u:p@o.example" }],
    ["boolean typo", { FORWARD_AUTHORIZATION: "yes" }],
    ["timeout not a number", { ORIGIN_TIMEOUT_MS: "30s" }],
    ["KV TTL below Cloudflare's minimum", { KV_CACHE_TTL_S: "10" }],
    ["zero failure limit", { AUTH_FAIL_LIMIT: "0" }],
    ["short origin token", { ORIGIN_TOKEN: "abc" }],
    ["revocation poll interval below 100 ms", { REVOCATION_POLL_INTERVAL_MS: "50" }],
    ["staleness bound below the poll interval", { REVOCATION_MAX_STALENESS_MS: "500" }],
    ["empty revocation set", { REVOCATION_SET_MAX_ENTRIES: "0" }],
    ["secret version zero", { KEY_HASH_SECRET_VERSION: "0" }],
    ["short previous secret", { KEY_HASH_SECRET_PREVIOUS: "y".repeat(31), KEY_HASH_SECRET_PREVIOUS_VERSION: "1" }],
    ["previous secret without its version", { KEY_HASH_SECRET_PREVIOUS: "y".repeat(32) }],
    ["previous version without a previous secret", { KEY_HASH_SECRET_PREVIOUS_VERSION: "1" }],
    ["previous version equal to the current one", { KEY_HASH_SECRET_PREVIOUS_VERSION: "1", KEY_HASH_SECRET_PREVIOUS: "y".repeat(32) }],
    ["scanning keys not JSON", { SECRET_SCANNING_PUBLIC_KEYS: "not json" }],
    ["scanning keys empty", { SECRET_SCANNING_PUBLIC_KEYS: "{}" }],
    [
      "scanning key not a PEM",
      { SECRET_SCANNING_PUBLIC_KEYS: JSON.stringify({ k1: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----" }) },
    ],
    ["scanning body bound too small", { SECRET_SCANNING_MAX_BODY_BYTES: "100" }],
    ["scanning token bound zero", { SECRET_SCANNING_MAX_TOKENS: "0" }],
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

describe("bindings, checked when the runtime is built", () => {
  it.each(["DB", "KEYS_CACHE", "KEY_METER"])(
    "without %s: every request is the misconfiguration 500, and the log names the binding",
    async (name) => {
      const gw = gatewayWith({ [name]: undefined });
      const { lines } = await captureLogs(async () => {
        for (const path of ["/healthz", "/api/v1/jobs"]) {
          const res = await gw.fetch(path);
          expect(res.status, path).toBe(500);
          expect((await envelope(res)).errors).toEqual([{ code: "internal_error", message: "The gateway is misconfigured" }]);
        }
      });
      expect(lines.find((l) => l.event === "config_invalid")?.message).toContain(`missing binding ${name}`);
    },
  );
});
