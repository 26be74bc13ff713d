import { describe, expect, it } from "vitest";
import { FailureLimiter } from "../../src/auth/failure-limiter.ts";
import { reportFailure, sharedCounterOf, RATE_LIMIT_BINDING } from "../../src/auth/shared-limit.ts";
import { TtlCache } from "../../src/memory/ttl-cache.ts";
import { parseConfig } from "../../src/config.ts";
import { runtimeFor } from "../../src/gateway/runtime.ts";
import { generateKey } from "../../src/keys/format.ts";
import { envelope, gatewayWith } from "./helpers.ts";

/**
 * Hard bounds (issue "Hostile input"): every structure an attacker can make
 * the gateway fill is capped by a named configuration value.
 */

const valid = { ORIGIN_URL: "https://origin.example.com", KEY_HASH_SECRET: "x".repeat(32) };

describe("configuration of the bounds", () => {
  it("has documented defaults", () => {
    expect(parseConfig(valid)).toMatchObject({
      MEMORY_CACHE_MAX_ENTRIES: 10_000,
      NEGATIVE_CACHE_MAX_ENTRIES: 10_000,
      AUTH_FAIL_MAX_TRACKED_IPS: 10_000,
      MAX_REQUEST_LINE_BYTES: 8_192,
      MAX_HEADER_BYTES: 32_768,
    });
  });

  it.each([
    ["MAX_HEADER_BYTES", "512"],
    ["MAX_HEADER_BYTES", "200000"],
    ["NEGATIVE_CACHE_MAX_ENTRIES", "0"],
  ])("%s=%s is refused", (name, value) => {
    expect(() => parseConfig({ ...valid, [name]: value })).toThrow(name);
  });

  it("keeps ORIGIN_URL in the URL parser's spelling, so forwarded URLs re-parse to themselves", () => {
    expect(parseConfig({ ...valid, ORIGIN_URL: "HTTPS://Origin.Example.COM:443/Prefix/" }).ORIGIN_URL).toBe(
      "https://origin.example.com/Prefix",
    );
    expect(parseConfig({ ...valid, ORIGIN_URL: "http://127.0.0.1:8788/" }).ORIGIN_URL).toBe("http://127.0.0.1:8788");
  });
});

describe("bounded structures", () => {
  it("a TtlCache never holds more than its maximum: the oldest insertion goes first", () => {
    const cache = new TtlCache<number>(3, 60_000);
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i, 0);
    expect(cache.size).toBe(3);
    expect([cache.get("k6", 1), cache.get("k7", 1), cache.get("k9", 1)]).toEqual([undefined, 7, 9]);
  });

  it("the failure limiter tracks at most AUTH_FAIL_MAX_TRACKED_IPS clients", () => {
    const limiter = new FailureLimiter(2, 60_000, 4);
    for (let i = 0; i < 100; i++) limiter.recordFailure(`10.0.0.${i}`, 0);
    expect(limiter.size).toBe(4);
  });

  it("block() limits a client for a whole window, whatever it counted", () => {
    const limiter = new FailureLimiter(60, 60_000, 10);
    limiter.block("10.0.0.1", 1_000);
    expect(limiter.retryAfter("10.0.0.1", 1_000)).toBe(60);
    expect(limiter.retryAfter("10.0.0.1", 61_000)).toBe(0);
  });

  it("a flood of distinct unknown keys fills the negative cache to NEGATIVE_CACHE_MAX_ENTRIES, no further", async () => {
    const gw = gatewayWith({ NEGATIVE_CACHE_MAX_ENTRIES: "5", MEMORY_CACHE_MAX_ENTRIES: "5" });
    for (let i = 0; i < 12; i++) expect((await gw.fetch("/api/v1/candidates", { key: generateKey() })).status).toBe(401);
    await gw.settle();
    const rt = runtimeFor(gw.env);
    expect(rt.unknownKeys.size).toBe(5);
    expect(rt.keys.size).toBe(0);
  });

  it("failures from more clients than AUTH_FAIL_MAX_TRACKED_IPS keep the limiter at its size", async () => {
    const gw = gatewayWith({ AUTH_FAIL_MAX_TRACKED_IPS: "3" });
    for (let i = 0; i < 10; i++) await gw.fetch("/api/v1/candidates", { ip: `192.0.2.${i}` });
    expect(runtimeFor(gw.env).failures.size).toBe(3);
  });

  it("MAX_HEADER_BYTES refuses oversized header sets before anything else", async () => {
    const gw = gatewayWith({ MAX_HEADER_BYTES: "1024" });
    const res = await gw.fetch("/api/v1/candidates", { headers: { "x-padding": "p".repeat(1_100) } });
    expect(res.status).toBe(400);
    expect((await envelope(res)).errors[0]!.message).toMatch(/headers are larger than 1024 bytes/);
  });
});

describe("the Rate Limiting binding", () => {
  it("is used only when the deployment declares one", () => {
    expect(sharedCounterOf({})).toBeUndefined();
    expect(sharedCounterOf({ [RATE_LIMIT_BINDING]: "not a binding" })).toBeUndefined();
    const counter = { limit: async () => ({ success: true }) };
    expect(sharedCounterOf({ [RATE_LIMIT_BINDING]: counter })).toBe(counter);
  });

  it("a verdict of 'over the limit' limits the client in this isolate", async () => {
    const local = new FailureLimiter(60, 60_000, 10);
    await reportFailure({ limit: async () => ({ success: true }) }, local, "10.0.0.1");
    expect(local.retryAfter("10.0.0.1", Date.now())).toBe(0);
    await reportFailure({ limit: async () => ({ success: false }) }, local, "10.0.0.1");
    expect(local.retryAfter("10.0.0.1", Date.now())).toBeGreaterThan(0);
  });

  it("a failing binding changes nothing: the local limiter still holds", async () => {
    const local = new FailureLimiter(60, 60_000, 10);
    await reportFailure({ limit: () => Promise.reject(new Error("binding down")) }, local, "10.0.0.2");
    expect(local.retryAfter("10.0.0.2", Date.now())).toBe(0);
  });
});
