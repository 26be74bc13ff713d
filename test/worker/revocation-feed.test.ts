import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FEED_PAGE_ROWS, FEED_PAGES_PER_POLL, RecentRevocations, RevocationFeed } from "../../src/auth/revocation-feed.ts";
import { kvKeyOf } from "../../src/storage/kv-cache.ts";
import { revokeKeyRow, toAuthRecord, type KeyRow } from "../../src/storage/records.ts";
import { captureLogs, createKey, envelope, gatewayWith, requestLine, unique, withOutage, type TestKey } from "./helpers.ts";

/**
 * Revocation within seconds (docs/caching-and-revocation.md): every isolate reads D1's revocation feed
 * at most once per REVOCATION_POLL_INTERVAL_MS, off the hot path, and a
 * revocation overrides whatever a cache says — here, a KV entry that still
 * says "active", as a stale edge location would serve it.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Gw = ReturnType<typeof gatewayWith>;

async function attempt(gw: Gw, key: string) {
  const { result, lines } = await captureLogs(() => gw.fetch("/api/v1/candidates", { key }));
  await gw.settle();
  return { status: result.status, tier: requestLine(lines).cache_tier, body: await result.text() };
}

/** A key and an admin key of the same organization. */
async function keyPair(): Promise<{ key: TestKey; admin: TestKey }> {
  const org = unique("org");
  return { key: await createKey(["candidates:read"], { org }), admin: await createKey(["*"], { org }) };
}

/** What a stale KV location still serves: the record as it was before the revocation. */
async function staleKv(row: KeyRow): Promise<void> {
  await env.KEYS_CACHE.put(kvKeyOf(row.hash), JSON.stringify(toAuthRecord({ ...row, revoked_at: null })), { expirationTtl: 300 });
}

/** Polls `gw` with the key until it is refused; the time that took. */
async function refusedWithin(gw: Gw, key: string, limitMs: number) {
  const start = Date.now();
  for (;;) {
    const r = await attempt(gw, key);
    if (r.status !== 200) return { ...r, elapsed: Date.now() - start };
    if (Date.now() - start > limitMs) throw new Error(`still accepted after ${limitMs} ms`);
    await sleep(50);
  }
}

const WARM = { MEMORY_CACHE_TTL_MS: "60000" };

describe("revocation within seconds", () => {
  it("a warm isolate with a 60 s memory TTL refuses a key revoked by another isolate within the poll interval, though KV still says active", async () => {
    const { key, admin } = await keyPair();
    const other = gatewayWith({ ...WARM, REVOCATION_POLL_INTERVAL_MS: "500", REVOCATION_MAX_STALENESS_MS: "2000" });
    expect((await attempt(other, key.key)).status).toBe(200);
    expect((await attempt(other, key.key)).tier).toBe("memory");

    const revoker = gatewayWith({ TOMBSTONE_REWRITE_DELAY_MS: "0" });
    const res = await revoker.fetch(`/api/v1/api-keys/${key.row.id}`, { method: "DELETE", key: admin.key });
    expect(res.status).toBe(200);
    await revoker.settle();
    await staleKv(key.row);

    const refused = await refusedWithin(other, key.key, 3_000);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain("API key has been revoked");
    // The bound is REVOCATION_MAX_STALENESS_MS (2 s) plus the request's own duration.
    expect(refused.elapsed).toBeLessThan(2_500);
    // The refusal came from a cache (the stale KV entry), overridden by the feed: D1 was not asked.
    expect(refused.tier).toBe("kv");
  });

  it("an isolate idle for longer than REVOCATION_MAX_STALENESS_MS awaits a read: its first request after a revocation is refused", async () => {
    const { key, admin } = await keyPair();
    const idle = gatewayWith({ ...WARM, REVOCATION_POLL_INTERVAL_MS: "200", REVOCATION_MAX_STALENESS_MS: "400" });
    expect((await attempt(idle, key.key)).status).toBe(200);
    await sleep(500);
    const revoker = gatewayWith({ TOMBSTONE_REWRITE_DELAY_MS: "0" });
    expect((await revoker.fetch(`/api/v1/api-keys/${key.row.id}`, { method: "DELETE", key: admin.key })).status).toBe(200);
    await revoker.settle();
    await staleKv(key.row);
    const first = await attempt(idle, key.key);
    expect(first.status).toBe(401);
    expect(first.body).toContain("API key has been revoked");
  });

  it("a cold isolate loads recent revocations before trusting KV", async () => {
    const { key, admin } = await keyPair();
    const revoker = gatewayWith({ TOMBSTONE_REWRITE_DELAY_MS: "0" });
    expect((await revoker.fetch(`/api/v1/api-keys/${key.row.id}`, { method: "DELETE", key: admin.key })).status).toBe(200);
    await revoker.settle();
    await staleKv(key.row);
    const cold = await attempt(gatewayWith({}), key.key);
    expect(cold).toMatchObject({ status: 401, tier: "kv" });
    expect(cold.body).toContain("API key has been revoked");
  });

  it("the end of a rotation grace period is a scheduled revocation: refused once it passes, though KV still says active", async () => {
    const { key, admin } = await keyPair();
    const other = gatewayWith({ ...WARM, REVOCATION_POLL_INTERVAL_MS: "200", REVOCATION_MAX_STALENESS_MS: "1000" });
    expect((await attempt(other, key.key)).status).toBe(200);
    const rotator = gatewayWith({ TOMBSTONE_REWRITE_DELAY_MS: "0" });
    const res = await rotator.fetch(`/api/v1/api-keys/${key.row.id}/rotate`, {
      method: "POST",
      key: admin.key,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grace_seconds: 2 }),
    });
    expect(res.status).toBe(201);
    await rotator.settle();
    await staleKv(key.row);
    await sleep(400);
    expect((await attempt(other, key.key)).status).toBe(200); // grace still running
    const refused = await refusedWithin(other, key.key, 3_000);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain("API key has been revoked");
  });

  it("a failed read fails safe: caches answer as before, no revocation is skipped, and the next read catches up", async () => {
    const { key } = await keyPair();
    const d1 = { down: false };
    const gw = gatewayWith({ ...WARM, DB: withOutage(env.DB, d1), REVOCATION_POLL_INTERVAL_MS: "200", REVOCATION_MAX_STALENESS_MS: "400" });
    expect((await attempt(gw, key.key)).status).toBe(200);
    d1.down = true;
    await revokeKeyRow(env.DB, key.row, "cli", new Date().toISOString());
    await sleep(500);
    const { lines } = await captureLogs(async () => {
      const during = await gw.fetch("/api/v1/candidates", { key: key.key });
      await gw.settle();
      // Memory still answers (the bound degrades to the memory TTL and KV's), and the failure is logged.
      expect(during.status).toBe(200);
    });
    expect(lines.some((l) => l.event === "revocation_poll_failed")).toBe(true);
    d1.down = false;
    await sleep(250);
    const refused = await refusedWithin(gw, key.key, 2_000);
    expect(refused.status).toBe(401);
  });

  it("API revocation, rotation and a direct revocation each append to the feed, in the same batch as the key", async () => {
    const { key, admin } = await keyPair();
    const gw = gatewayWith({ TOMBSTONE_REWRITE_DELAY_MS: "0" });
    const rotated = await gw.fetch(`/api/v1/api-keys/${key.row.id}/rotate`, {
      method: "POST",
      key: admin.key,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ grace_seconds: 60 }),
    });
    expect(rotated.status).toBe(201);
    const successor = (await envelope(rotated)).data as { id: string };
    expect((await gw.fetch(`/api/v1/api-keys/${successor.id}`, { method: "DELETE", key: admin.key })).status).toBe(200);
    await gw.settle();
    const rows = async (id: string) =>
      (
        await env.DB.prepare("SELECT key_id, effective_at FROM key_revocations WHERE key_id = ? ORDER BY seq")
          .bind(id)
          .all<{ effective_at: string }>()
      ).results;
    const old = await rows(key.row.id);
    expect(old).toHaveLength(1);
    expect(Date.parse(old[0]!.effective_at) - Date.now()).toBeGreaterThan(50_000);
    expect(await rows(successor.id)).toHaveLength(1);
    // Repeating a revocation changes nothing: no second row.
    expect((await gw.fetch(`/api/v1/api-keys/${successor.id}`, { method: "DELETE", key: admin.key })).status).toBe(200);
    expect(await rows(successor.id)).toHaveLength(1);
  });
});

describe("the recently-revoked set", () => {
  const record = (id: string) => ({
    id,
    organization_id: "o",
    hash: "h",
    scopes: [],
    expires_at: null,
    revoked_at: null,
    allowed_cidrs: null,
    mode: "live" as const,
  });

  it("is bounded by REVOCATION_SET_MAX_ENTRIES: the oldest entry goes first", () => {
    const set = new RecentRevocations(2, 60_000);
    const now = Date.now();
    set.note("key_a", now, now, now);
    set.note("key_b", now, now, now);
    set.note("key_c", now, now, now);
    expect(set.size).toBe(2);
    expect(set.effectiveAt("key_a", now)).toBeUndefined();
    expect(set.apply(record("key_c"), now).revoked_at).toBe(new Date(now).toISOString());
  });

  it("keeps an entry for the retention window after it was recorded, and the earliest revocation wins", () => {
    const set = new RecentRevocations(10, 1_000);
    const now = Date.now();
    set.note("key_a", now + 5_000, now, now);
    set.note("key_a", now + 2_000, now, now);
    expect(set.effectiveAt("key_a", now)).toBe(now + 2_000);
    expect(set.effectiveAt("key_a", now + 1_001)).toBeUndefined();
    set.note("key_old", now, now - 2_000, now);
    expect(set.size).toBe(0);
  });

  it("is the configured size in a gateway", async () => {
    const gw = gatewayWith({ REVOCATION_SET_MAX_ENTRIES: "0" });
    const res = await gw.fetch("/healthz");
    expect(res.status).toBe(500);
  });
});

describe("the feed's page cap", () => {
  const opts = { pollIntervalMs: 60_000, maxStalenessMs: 3_000, maxEntries: 10_000, retentionMs: 3_600_000 };
  const cap = FEED_PAGE_ROWS * FEED_PAGES_PER_POLL;

  it("a poll that stopped at its cap is not a complete read: the feed stays due, and the staleness bound counts from the last complete read", async () => {
    const evicted: string[] = [];
    const feed = new RevocationFeed(opts, (row) => evicted.push(row.hash));
    const t0 = Date.now();
    await feed.poll(env.DB, t0); // a cold isolate: where the feed stands
    expect(feed.lastSuccess).toBe(t0);

    // More new rows than one poll reads.
    const prefix = unique("capped");
    const rows = cap + 150;
    const at = new Date(t0).toISOString();
    const insert = env.DB.prepare("INSERT INTO key_revocations (key_id, hash, effective_at, recorded_at) VALUES (?, ?, ?, ?)");
    for (let i = 0; i < rows; i += 500) {
      await env.DB.batch(
        Array.from({ length: Math.min(500, rows - i) }, (_, j) => insert.bind(`${prefix}-${i + j}`, `${prefix}-h${i + j}`, at, at)),
      );
    }

    await feed.poll(env.DB, t0 + 100);
    expect(evicted.filter((h) => h.startsWith(prefix))).toHaveLength(cap);
    expect(feed.lastSuccess).toBe(t0); // not caught up: no claim of freshness

    // The next request starts the rest at once, though the poll interval (60 s) has not passed.
    const started: Promise<unknown>[] = [];
    await feed.ready(env.DB, (p) => started.push(p), t0 + 200);
    expect(started).toHaveLength(1);
    await Promise.all(started);
    expect(evicted.filter((h) => h.startsWith(prefix))).toHaveLength(rows);
    expect(feed.lastSuccess).toBe(t0 + 200);
    expect(feed.recent.effectiveAt(`${prefix}-${rows - 1}`, t0 + 300)).toBe(t0);
  });

  it("an isolate that is still behind past the staleness bound awaits the rest before it answers", async () => {
    const feed = new RevocationFeed(opts, () => {});
    const t0 = Date.now();
    await feed.poll(env.DB, t0);
    const prefix = unique("behind");
    const at = new Date(t0).toISOString();
    const insert = env.DB.prepare("INSERT INTO key_revocations (key_id, hash, effective_at, recorded_at) VALUES (?, ?, ?, ?)");
    for (let i = 0; i < cap + 10; i += 500) {
      await env.DB.batch(Array.from({ length: Math.min(500, cap + 10 - i) }, (_, j) => insert.bind(`${prefix}-${i + j}`, "h", at, at)));
    }
    await feed.poll(env.DB, t0 + 100);
    const late = t0 + opts.maxStalenessMs + 1;
    // Stale by the last complete read (t0): the request waits for a read, in the foreground.
    await feed.ready(
      env.DB,
      () => {
        throw new Error("a stale isolate must not read in the background");
      },
      late,
    );
    expect(feed.lastSuccess).toBe(late);
    expect(feed.recent.effectiveAt(`${prefix}-${cap + 9}`, late)).toBe(t0);
  });
});
