import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unstable_readConfig } from "wrangler";
import { parseConfig } from "../../src/config.ts";
import { generateKey } from "../../src/keys/format.ts";
import { startGateway, type Gateway, type LogLine } from "../support/gateway-server.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";
import { expectEnvelope, expectForwarded, expectRefused, send, type Sent } from "./fixture.ts";

/**
 * Issue "Hostile input", case 8: a flood of random well-formed keys. Lookups
 * are counted from what the gateway really did, its per-request log line
 * (`cache_tier`: "d1" means D1 was queried; null means no lookup at all).
 */

/** docs/design.md §7 / wrangler.toml default: 60 failures per 60 s per client IP. */
const LIMIT = 60;
const WINDOW_S = 60;

let origin: RecordingOrigin;
let gw: Gateway;
let withBinding: Gateway;

beforeAll(async () => {
  origin = await startRecordingOrigin();
  [gw, withBinding] = await Promise.all([
    // Defaults for the limit; a memory TTL long enough that a key seen before the flood is still known during it.
    startGateway({ originUrl: origin.url, vars: { MEMORY_CACHE_TTL_MS: "60000" } }),
    // The in-memory limit far away, so only the Rate Limiting binding (limit 5) can trip.
    startGateway({ originUrl: origin.url, vars: { AUTH_FAIL_LIMIT: "1000" }, rateLimitBinding: { limit: 5, period: 60 } }),
  ]);
});
afterAll(async () => {
  await Promise.all([gw?.close(), withBinding?.close()]);
  await origin?.close();
});

async function flood(target: Gateway, count: number, from: (i: number) => string, key: (i: number) => string = () => generateKey()) {
  const sent: Sent[] = [];
  for (let i = 0; i < count; i++) {
    sent.push(
      await send(target, origin, {
        target: "/api/v1/candidates",
        key: key(i),
        ip: from(i),
        // Rotating X-Forwarded-For must not look like another client.
        headers: [["X-Forwarded-For", `10.${i % 250}.0.${i % 200}`]],
      }),
    );
  }
  return sent;
}

async function logsOf(target: Gateway, sent: Sent[]): Promise<LogLine[]> {
  const ids = new Set(sent.map((s) => s.requestId));
  return target.requestLogs((l) => ids.has(String(l.request_id)), sent.length);
}

describe("a flood of random well-formed keys from one IP (case 8)", () => {
  const FLOODER = "198.18.0.7";
  let knownKey: string;
  let sent: Sent[];
  let logs: LogLine[];

  beforeAll(async () => {
    knownKey = (await gw.createKey(["candidates:read"])).key;
    // Used once from the flooding IP before the flood: this isolate now knows it is valid.
    expectForwarded(await send(gw, origin, { target: "/api/v1/candidates", key: knownKey, ip: FLOODER }), "GET", "/api/v1/candidates");
    sent = await flood(gw, LIMIT + 40, () => FLOODER);
    logs = await logsOf(gw, sent);
  });

  it(`the first ${LIMIT} answer 401, the rest 429 rate_limited with Retry-After`, () => {
    for (const s of sent.slice(0, LIMIT)) expectRefused(s, 401, "unauthorized");
    for (const s of sent.slice(LIMIT)) {
      expectRefused(s, 429, "rate_limited");
      const retry = Number(s.res.headers["retry-after"]);
      expect(Number.isInteger(retry)).toBe(true);
      expect(retry).toBeGreaterThan(0);
      expect(retry).toBeLessThanOrEqual(WINDOW_S);
    }
  });

  it(`D1 is queried at most ${LIMIT} times, and never once the limit is reached`, () => {
    const d1 = logs.filter((l) => l.cache_tier === "d1");
    expect(d1.length).toBeLessThanOrEqual(LIMIT);
    expect(d1.length).toBe(LIMIT); // each random key is new: every counted failure was one lookup
    const limited = logs.filter((l) => l.outcome === "rate_limited");
    expect(limited).toHaveLength(40);
    expect(limited.every((l) => l.cache_tier === null)).toBe(true);
  });

  it("nothing reached the origin", () => {
    expect(sent.flatMap((s) => s.received)).toEqual([]);
  });

  it("a valid key from another IP is still answered", async () => {
    const other = (await gw.createKey(["candidates:read"])).key;
    expectForwarded(await send(gw, origin, { target: "/api/v1/candidates", key: other, ip: "198.18.0.8" }), "GET", "/api/v1/candidates");
  });

  it("from the limited IP, a key this isolate already knows is valid still works; an unseen one waits", async () => {
    expectForwarded(await send(gw, origin, { target: "/api/v1/candidates", key: knownKey, ip: FLOODER }), "GET", "/api/v1/candidates");
    const unseen = (await gw.createKey(["candidates:read"])).key;
    expectRefused(await send(gw, origin, { target: "/api/v1/candidates", key: unseen, ip: FLOODER }), 429, "rate_limited");
  });
});

describe("what a flood costs", () => {
  it("malformed keys cost no lookup at all", async () => {
    const sent = await flood(
      gw,
      20,
      () => "198.18.1.1",
      (i) => `pk_live_${"x".repeat(47)}${i % 10}`,
    );
    const logs = await logsOf(gw, sent);
    expect(logs.every((l) => l.cache_tier === null)).toBe(true);
    for (const s of sent) expectEnvelope(s.res, 401, "unauthorized");
  });

  it("the same unknown key is looked up once, then answered from the negative cache", async () => {
    const key = generateKey();
    const sent = await flood(
      gw,
      5,
      () => "198.18.1.2",
      () => key,
    );
    const tiers = (await logsOf(gw, sent)).map((l) => l.cache_tier);
    expect(tiers.filter((t) => t === "d1")).toHaveLength(1);
    expect(tiers.filter((t) => t === "memory")).toHaveLength(4);
  });

  it("IPv6 clients count per /64: rotating the interface id gains nothing", async () => {
    const sent = await flood(gw, LIMIT + 3, (i) => `2001:db8:77:1:${(i + 1).toString(16)}::1`);
    for (const s of sent.slice(0, LIMIT)) expectEnvelope(s.res, 401, "unauthorized");
    for (const s of sent.slice(LIMIT)) expectEnvelope(s.res, 429, "rate_limited");
    // Another /64 is another client.
    const [next] = await flood(gw, 1, () => "2001:db8:77:2::1");
    expectEnvelope(next!.res, 401, "unauthorized");
  });
});

describe("the Rate Limiting binding (production), under Miniflare", () => {
  it("a client the binding reports over its limit is refused with 429 by this isolate, with no more lookups", async () => {
    const ip = "198.18.2.1";
    // The binding's verdict lands after the response (waitUntil) and its window
    // is aligned to the clock: allow for one window boundary and that lag.
    const sent: Sent[] = [];
    for (let i = 0; i < 30 && !sent.some((s) => s.res.status === 429); i++) {
      sent.push(...(await flood(withBinding, 1, () => ip)));
      await new Promise((r) => setTimeout(r, 20));
    }
    const first429 = sent.findIndex((s) => s.res.status === 429);
    expect(first429).toBeGreaterThanOrEqual(5);
    const after = await flood(withBinding, 5, () => ip);
    for (const s of after) expectRefused(s, 429, "rate_limited");
    expect((await logsOf(withBinding, after)).every((l) => l.cache_tier === null)).toBe(true);

    // Another client is unaffected.
    const key = (await withBinding.createKey(["candidates:read"])).key;
    expectForwarded(await send(withBinding, origin, { target: "/api/v1/candidates", key, ip: "198.18.2.2" }), "GET", "/api/v1/candidates");
  });
});

describe("the production configuration", () => {
  it("declares the binding with the documented limit and window", () => {
    const config = unstable_readConfig({ config: fileURLToPath(new URL("../../wrangler.toml", import.meta.url)), env: "production" });
    // The isolate's own limit as the production Worker parses it (its vars over src/config.ts's defaults).
    const { AUTH_FAIL_LIMIT, AUTH_FAIL_WINDOW_S } = config.vars as Record<string, string | undefined>;
    const parsed = parseConfig({
      AUTH_FAIL_LIMIT,
      AUTH_FAIL_WINDOW_S,
      ORIGIN_URL: "https://origin.example.com",
      KEY_HASH_SECRET: "x".repeat(32),
    });
    expect(config.ratelimits).toEqual([
      {
        name: "AUTH_FAIL_RATE_LIMITER",
        namespace_id: expect.any(String),
        simple: { limit: parsed.AUTH_FAIL_LIMIT, period: parsed.AUTH_FAIL_WINDOW_S },
      },
    ]);
    expect([parsed.AUTH_FAIL_LIMIT, parsed.AUTH_FAIL_WINDOW_S]).toEqual([LIMIT, WINDOW_S]);
  });
});
