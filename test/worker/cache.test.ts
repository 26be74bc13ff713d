import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { kvKeyOf } from "../../src/storage/kv-cache.ts";
import { captureLogs, createKey, gatewayWith, requestLine, withOutage } from "./helpers.ts";

/** docs/design.md §7: isolate memory → KV → D1, and the clock checked whatever tier answers. */
async function tierOf(gw: ReturnType<typeof gatewayWith>, key: string) {
  const { result, lines } = await captureLogs(() => gw.fetch("/api/v1/candidates", { key }));
  return { status: result.status, tier: requestLine(lines).cache_tier, body: await result.text() };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("cache tiers", () => {
  it("cold start reads D1 and fills KV; a cold isolate then reads KV; a warm one memory", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    const d1 = { down: false };
    const first = gatewayWith({ DB: withOutage(env.DB, d1) });
    expect(await tierOf(first, key)).toMatchObject({ status: 200, tier: "d1" });
    await first.settle();
    const cached = (await env.KEYS_CACHE.get(kvKeyOf(row.hash), "json")) as Record<string, unknown>;
    expect(cached).toMatchObject({ id: row.id, organization_id: row.organization_id, scopes: ["candidates:read"] });
    expect(JSON.stringify(cached)).not.toContain(key);

    d1.down = true; // from here on, only caches can answer
    const second = gatewayWith({ DB: withOutage(env.DB, d1) });
    expect(await tierOf(second, key)).toMatchObject({ status: 200, tier: "kv" });
    expect(await tierOf(second, key)).toMatchObject({ status: 200, tier: "memory" });
  });

  it("KV entries are written with expirationTtl = KV_CACHE_TTL_S", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ KV_CACHE_TTL_S: "120" });
    const before = Date.now() / 1000;
    expect((await tierOf(gw, key)).tier).toBe("d1");
    await gw.settle();
    const { keys } = await env.KEYS_CACHE.list({ prefix: kvKeyOf(row.hash) });
    expect(keys).toHaveLength(1);
    expect(keys[0]!.expiration).toBeGreaterThanOrEqual(Math.floor(before) + 119);
    expect(keys[0]!.expiration).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 121);
  });

  it("memory entries live MEMORY_CACHE_TTL_MS, then the next tier answers", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ MEMORY_CACHE_TTL_MS: "1000" });
    expect((await tierOf(gw, key)).tier).toBe("d1");
    expect((await tierOf(gw, key)).tier).toBe("memory");
    await gw.settle();
    await sleep(1100);
    expect((await tierOf(gw, key)).tier).toBe("kv");
  });

  it("a KV failure falls back to D1", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ KEYS_CACHE: withOutage(env.KEYS_CACHE, { down: true }) });
    expect(await tierOf(gw, key)).toMatchObject({ status: 200, tier: "d1" });
  });

  it("a D1 failure on a miss is 503, never 401", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ DB: withOutage(env.DB, { down: true }) });
    expect((await tierOf(gw, key)).status).toBe(503);
  });

  it("unknown well-formed keys are negatively cached in memory, not in KV", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    await env.DB.prepare("DELETE FROM api_key_events WHERE key_id = ?").bind(row.id).run();
    await env.DB.prepare("DELETE FROM api_keys WHERE id = ?").bind(row.id).run();
    const d1 = { down: false };
    const gw = gatewayWith({ DB: withOutage(env.DB, d1) });
    expect(await tierOf(gw, key)).toMatchObject({ status: 401, tier: "d1" });
    d1.down = true;
    expect(await tierOf(gw, key)).toMatchObject({ status: 401, tier: "memory" });
    await gw.settle();
    expect(await env.KEYS_CACHE.get(kvKeyOf(row.hash))).toBeNull();
  });
});

describe("revocation and expiry, whatever tier holds the key", () => {
  it("revoked in D1 with a KV tombstone: refused by a cold isolate at once, by a warm one within the memory TTL", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    const warm = gatewayWith({ MEMORY_CACHE_TTL_MS: "300" });
    expect((await tierOf(warm, key)).status).toBe(200);
    await warm.settle();

    const revokedAt = new Date().toISOString();
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(revokedAt, row.id).run();
    const cached = (await env.KEYS_CACHE.get(kvKeyOf(row.hash), "json")) as Record<string, unknown>;
    await env.KEYS_CACHE.put(kvKeyOf(row.hash), JSON.stringify({ ...cached, revoked_at: revokedAt }));

    const cold = gatewayWith({});
    const refused = await tierOf(cold, key);
    expect(refused).toMatchObject({ status: 401, tier: "kv" });
    expect(refused.body).toContain("API key has been revoked");

    await sleep(350);
    expect(await tierOf(warm, key)).toMatchObject({ status: 401, tier: "kv" });
  });

  it("an expired key fails from memory, from KV and from D1", async () => {
    const { key } = await createKey(["candidates:read"], { expiresAt: new Date(Date.now() + 1200).toISOString() });
    const warm = gatewayWith({ MEMORY_CACHE_TTL_MS: "60000" });
    expect(await tierOf(warm, key)).toMatchObject({ status: 200, tier: "d1" });
    expect(await tierOf(warm, key)).toMatchObject({ status: 200, tier: "memory" });
    await warm.settle();
    await sleep(1300);

    const memory = await tierOf(warm, key);
    expect(memory).toMatchObject({ status: 401, tier: "memory" });
    expect(memory.body).toContain("API key has expired");
    expect(await tierOf(gatewayWith({}), key)).toMatchObject({ status: 401, tier: "kv" });
    expect(await tierOf(gatewayWith({ KEYS_CACHE: withOutage(env.KEYS_CACHE, { down: true }) }), key)).toMatchObject({
      status: 401,
      tier: "d1",
    });
  });
});

describe("last_used_at", () => {
  it("is written after the response, at most once per interval", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    const gw = gatewayWith({});
    const lastUsed = async () =>
      (await env.DB.prepare("SELECT last_used_at FROM api_keys WHERE id = ?").bind(row.id).first<{ last_used_at: string | null }>())!
        .last_used_at;
    await gw.fetch("/api/v1/candidates", { key });
    await gw.settle();
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await sleep(5);
    await gw.fetch("/api/v1/candidates", { key });
    await gw.settle();
    expect(await lastUsed()).toBe(first);
  });
});

describe("the log line (docs/design.md §10)", () => {
  it("has the request's facts and never the key or its hash", async () => {
    const { key, row } = await createKey(["candidates:read"], { org: "log-org" });
    const gw = gatewayWith({});
    const { lines, raw } = await captureLogs(() => gw.fetch("/api/v1/jobs", { key, headers: { "x-request-id": "log-test-1" } }));
    expect(requestLine(lines)).toMatchObject({
      request_id: "log-test-1",
      key_id: row.id,
      organization_id: "log-org",
      method: "GET",
      route: "/api/v1/jobs/**",
      scopes_required: ["jobs:read"],
      outcome: "forbidden",
      status: 403,
      cache_tier: "d1",
      duration_ms: expect.any(Number),
    });
    expect(raw).not.toContain(key);
    expect(raw).not.toContain(row.hash);
    expect(raw).not.toContain(key.slice(8, 30));
  });
});
