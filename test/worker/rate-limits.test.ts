import { abortAllDurableObjects, evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";
import type { KeyObject } from "../../src/management/object.ts";
import { BlockList } from "../../src/limits/blocks.ts";
import { meter } from "../../src/limits/meter.ts";
import { EMPTY_METER, take, type MeterRequest, type MeterVerdict } from "../../src/limits/meter-state.ts";
import { MONTHLY_QUOTA_MAX, RATE_LIMIT_MAX, RATE_PERIOD_MAX_S, type Limits } from "../../src/limits/policy.ts";
import { kvKeyOf } from "../../src/storage/kv-cache.ts";
import {
  call,
  captureLogs,
  createKey,
  envelope,
  gatewayWith,
  keysApi,
  requestLine,
  unique,
  withOutage,
  type OriginRecord,
} from "./helpers.ts";

/** docs/keys-and-scopes.md "Rate limits and quotas": the real KeyMeter Durable Object, KV, D1 and origin. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOUR = 3600;

async function originCount(prefix: string): Promise<number> {
  const all = (await (await fetch(`${env.TEST_ORIGIN_URL}/__origin/requests`)).json()) as OriginRecord[];
  return all.filter((r) => String(r.headers["x-request-id"] ?? "").startsWith(prefix)).length;
}

function stub(name = unique("meter")) {
  return env.KEY_METER.get(env.KEY_METER.idFromName(name));
}

const nextMonthStart = (now: number) => {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

describe("per-key rate limit, enforced by the KeyMeter Durable Object", () => {
  it("50 concurrent requests from five isolates' worth of clients: exactly the limit (10) reaches the origin", async () => {
    const { key } = await createKey(["candidates:read"], { rateLimit: { limit: 10, period_s: HOUR } });
    const prefix = unique("conc");
    // Each gatewayWith has its own env object, hence its own runtime (memory caches, pre-check).
    const isolates = Array.from({ length: 5 }, () => gatewayWith({}));
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        isolates[i % 5]!.fetch("/api/v1/candidates", { key, headers: { "x-request-id": `${prefix}-${i}` } }),
      ),
    );
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(10);
    expect(limited).toHaveLength(40);
    for (const r of limited) {
      const body = await envelope(r);
      expect(body.errors[0]!.code).toBe("rate_limited");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(HOUR - 5);
      expect(r.headers.get("ratelimit-policy")).toBe(`"rate";q=10;w=${HOUR}`);
      expect(r.headers.get("ratelimit")).toMatch(/^"rate";r=0;t=\d+$/);
      expect(r.headers.get("content-type")).toContain("application/json");
    }
    const remaining = ok.map((r) => Number(/r=(\d+)/.exec(r.headers.get("ratelimit")!)![1])).sort((a, b) => a - b);
    expect(remaining).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await Promise.all(isolates.map((i) => i.settle()));
    expect(await originCount(prefix)).toBe(10);
    // The shared isolate (exports.default) sees the same meter.
    expect((await call("/api/v1/candidates", { key })).status).toBe(429);
  });

  it("headers on every response to a limited key (proxied, 403, the gateway's own), none for an unlimited key", async () => {
    const org = unique("org");
    const { key } = await createKey(["candidates:read", "api_keys:read"], { org, rateLimit: { limit: 5, period_s: 60 } });
    const proxied = await call("/api/v1/candidates", { key });
    expect(proxied.status).toBe(200);
    expect(proxied.headers.get("ratelimit-policy")).toBe('"rate";q=5;w=60');
    expect(proxied.headers.get("ratelimit")).toBe('"rate";r=4;t=60');
    // The origin's own headers are otherwise unchanged.
    expect(proxied.headers.get("x-origin-header")).toBe("kept");
    expect(proxied.headers.get("retry-after")).toBeNull();

    const forbidden = await call("/api/v1/jobs", { key });
    expect(forbidden.status).toBe(403);
    expect(forbidden.headers.get("ratelimit")).toMatch(/^"rate";r=3;t=(59|60)$/);

    const own = await call("/api/v1/api-keys/self", { key });
    expect(own.status).toBe(200);
    expect(own.headers.get("ratelimit")).toMatch(/^"rate";r=2;t=(59|60)$/);

    const { key: plain } = await createKey(["candidates:read"], { org });
    const unlimited = await call("/api/v1/candidates", { key: plain });
    expect(unlimited.status).toBe(200);
    expect(unlimited.headers.get("ratelimit-policy")).toBeNull();
    expect(unlimited.headers.get("ratelimit")).toBeNull();
    const sortedNames = (r: Response) => [...r.headers.keys()].filter((h) => !["date", "x-request-id"].includes(h)).sort();
    expect(sortedNames(proxied)).toEqual([...sortedNames(unlimited), "ratelimit", "ratelimit-policy"].sort());
  });

  it("the window resets after period_s; while refused, the isolate answers without asking the Durable Object", async () => {
    const { key } = await createKey(["jobs:read"], { rateLimit: { limit: 2, period_s: 1 } });
    const outage = { down: false };
    const gw = gatewayWith({ KEY_METER: withOutage(env.KEY_METER, outage) });
    expect((await gw.fetch("/api/v1/jobs", { key })).status).toBe(200);
    expect((await gw.fetch("/api/v1/jobs", { key })).status).toBe(200);
    const refused = await gw.fetch("/api/v1/jobs", { key });
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    // The local pre-check: with the Durable Object unreachable, still the 429 (not a 503).
    outage.down = true;
    const again = await gw.fetch("/api/v1/jobs", { key });
    expect(again.status).toBe(429);
    expect((await envelope(again)).errors[0]!.code).toBe("rate_limited");
    outage.down = false;
    await sleep(1_100);
    const after = await gw.fetch("/api/v1/jobs", { key });
    expect(after.status).toBe(200);
    expect(after.headers.get("ratelimit")).toBe('"rate";r=1;t=1');
    await gw.settle();
  });

  it("a meter that cannot be reached fails closed: 503, nothing forwarded", async () => {
    const { key } = await createKey(["jobs:read"], { rateLimit: { limit: 100, period_s: 60 } });
    const gw = gatewayWith({ KEY_METER: withOutage(env.KEY_METER, { down: true }) });
    const id = unique("down");
    const res = await gw.fetch("/api/v1/jobs", { key, headers: { "x-request-id": id } });
    expect(res.status).toBe(503);
    expect((await envelope(res)).errors[0]!.code).toBe("service_unavailable");
    expect(res.headers.get("retry-after")).toBe("1");
    await gw.settle();
    expect(await originCount(id)).toBe(0);
  });

  it("the log line's outcome names the refusal", async () => {
    const { key } = await createKey(["jobs:read"], { rateLimit: { limit: 1, period_s: 60 } });
    await call("/api/v1/jobs", { key });
    const { lines } = await captureLogs(() => call("/api/v1/jobs", { key }));
    expect(requestLine(lines)).toMatchObject({ outcome: "rate_limited", status: 429 });
  });
});

describe("the meter's rules (the pure function, with an injected clock)", () => {
  const rate = { limit: 2, period_s: 60 };
  /** Runs the requests in order through `take`, as the Durable Object does; returns each verdict. */
  const run = (reqs: MeterRequest[]): MeterVerdict[] => {
    let state = EMPTY_METER;
    return reqs.map((req) => {
      const out = take(state, req);
      state = out.state;
      return out.verdict;
    });
  };
  const at = (now: number, limits: Partial<Limits> = {}): MeterRequest => ({ now, rate: null, quota: null, ...limits });

  it("fixed window from the first request: limit admitted, then refused until start + period_s", () => {
    const t0 = Date.UTC(2026, 5, 10, 12, 0, 30);
    const [first, second, refused, next] = run([t0, t0 + 1_000, t0 + 59_999, t0 + 60_000].map((t) => at(t, { rate })));
    expect(first!.rate).toEqual({ limit: 2, period_s: 60, remaining: 1, resetAt: t0 + 60_000 });
    expect(second!.allowed).toBe(true);
    expect(refused).toMatchObject({ allowed: false, refusedBy: "rate_limited", rate: { remaining: 0, resetAt: t0 + 60_000 } });
    expect(next).toMatchObject({ allowed: true, rate: { remaining: 1, resetAt: t0 + 120_000 } });
  });

  it("a refused request does not count: after the window, the full limit again", () => {
    const t0 = Date.UTC(2026, 5, 10);
    const verdicts = run([0, 1, 2, 3, 4, 60_000].map((d) => at(t0 + d, { rate })));
    expect(verdicts.at(-1)!.rate!.remaining).toBe(1);
  });

  it("out-of-order instants count in the open window: 100000, 100001, 99990, 99980, 99970 on 2 per 60 s admit exactly 2", () => {
    const verdicts = run([100_000, 100_001, 99_990, 99_980, 99_970].map((t) => at(t, { rate })));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, false, false, false]);
    // The late ones are told the open window's reset, not a window of their own.
    for (const v of verdicts.slice(2)) expect(v.rate).toMatchObject({ remaining: 0, resetAt: 160_000 });
  });

  it("callers' clocks skewed by up to ±2 s, in any order: exactly the limit is admitted (property)", () => {
    const t0 = Date.UTC(2026, 6, 1, 9);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -2_000, max: 2_000 }), { minLength: 50, maxLength: 50 }), (skews) => {
        const verdicts = run(skews.map((s) => at(t0 + s, { rate: { limit: 10, period_s: 60 } })));
        return verdicts.filter((v) => v.allowed).length === 10;
      }),
    );
  });

  it("the monthly quota rolls over at 00:00:00 UTC on the 1st (January into February, December into January)", () => {
    for (const [end, next] of [
      [Date.UTC(2026, 0, 31, 23, 59, 58), Date.UTC(2026, 1, 1)],
      [Date.UTC(2026, 11, 31, 23, 59, 58), Date.UTC(2027, 0, 1)],
    ] as const) {
      const [first, second, spent, fresh] = run([end, end + 500, next - 1, next].map((t) => at(t, { quota: 2 })));
      expect(first!.quota).toMatchObject({ limit: 2, remaining: 1, resetAt: next });
      expect(second!.quota!.remaining).toBe(0);
      expect(spent).toMatchObject({ allowed: false, refusedBy: "quota_exceeded", quota: { remaining: 0, resetAt: next } });
      expect(fresh).toMatchObject({ allowed: true, refusedBy: null, quota: { remaining: 1 } });
    }
  });

  it("a late request from the previous month counts in the new one: it cannot reset the new month's quota", () => {
    const feb = Date.UTC(2026, 1, 1);
    const mar = Date.UTC(2026, 2, 1);
    const verdicts = run([feb + 1_000, feb - 1_000, feb + 2_000].map((t) => at(t, { quota: 1 })));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, false, false]);
    expect(verdicts[1]).toMatchObject({ refusedBy: "quota_exceeded", quota: { remaining: 0, resetAt: mar, monthStart: feb } });
  });

  it("an early request from the next month opens it; the old month never comes back", () => {
    const feb = Date.UTC(2026, 1, 1);
    const verdicts = run([feb - 2_000, feb + 1_000, feb - 1_000].map((t) => at(t, { quota: 1 })));
    expect(verdicts.map((v) => v.allowed)).toEqual([true, true, false]);
  });

  it("both at once: a spent quota is what is reported, and rate and quota count together", () => {
    const t0 = Date.UTC(2026, 3, 30, 23, 0, 0);
    const verdicts = run([0, 1, 2, 3].map((d) => at(t0 + d, { rate: { limit: 10, period_s: 60 }, quota: 3 })));
    expect(verdicts.slice(0, 3).every((v) => v.allowed)).toBe(true);
    expect(verdicts[3]).toMatchObject({ allowed: false, refusedBy: "quota_exceeded", rate: { remaining: 7 }, quota: { remaining: 0 } });
  });
});

describe("the KeyMeter Durable Object", () => {
  const limits: Limits = { rate: { limit: 5, period_s: HOUR }, quota: 10 };

  it("decides by its own clock: 50 concurrent callers whose clocks are skewed by up to ±2 s get exactly the limit (10)", async () => {
    const name = unique("meter");
    const t0 = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        meter(new BlockList(10), env.KEY_METER, name, { rate: { limit: 10, period_s: 60 }, quota: null }, t0 + ((i * 83) % 4_001) - 2_000),
      ),
    );
    expect(results.filter((r) => r.refusal === null)).toHaveLength(10);
    expect(results.filter((r) => r.refusal?.code === "rate_limited")).toHaveLength(40);
  });

  it("an isolate whose clock is already in next month gets no new quota: the object's month decides", async () => {
    const name = unique("meter");
    const blocks = new BlockList(100);
    const q = { rate: null, quota: 1 };
    const now = Date.now();
    expect((await meter(blocks, env.KEY_METER, name, q, now)).refusal).toBeNull();
    const next = nextMonthStart(now);
    // Past the local pre-check's end, the isolate asks the object again; the object is still in this month.
    const early = await meter(blocks, env.KEY_METER, name, q, next + 1_000);
    expect(early.refusal?.code).toBe("quota_exceeded");
  });

  it("every change is stored as it happens: a graceful restart (eviction, as a deploy does) right after the answers forgets nothing", async () => {
    const m = stub();
    for (let i = 0; i < 3; i++) await m.take(limits);
    await evictDurableObject(m);
    expect(await m.take(limits)).toMatchObject({ allowed: true, rate: { remaining: 1 }, quota: { remaining: 6 } });
  });

  it("an abrupt reset (a crash) after the answers forgets nothing that was already committed", async () => {
    const name = unique("meter");
    for (let i = 0; i < 3; i++) await stub(name).take(limits);
    await abortAllDurableObjects();
    expect(await stub(name).take(limits)).toMatchObject({ allowed: true, rate: { remaining: 1 }, quota: { remaining: 6 } });
  });

  it("the pipeline's meter(): a spent quota is refused locally until the month ends; the object cannot be reached: 503", async () => {
    const name = unique("meter");
    const blocks = new BlockList(100);
    const outage = { down: false };
    const ns = withOutage(env.KEY_METER, outage);
    const q = { rate: null, quota: 1 };
    const now = Date.now();
    const next = nextMonthStart(now);
    expect((await meter(blocks, ns, name, q, now)).refusal).toBeNull();
    const spent = await meter(blocks, ns, name, q, now + 100);
    expect(spent.refusal?.code).toBe("quota_exceeded");
    expect(spent.refusal?.status).toBe(429);
    // Until the start of next month, on the object's clock.
    expect(Math.abs(Number(spent.refusal?.headers["retry-after"]) - (next - now) / 1000)).toBeLessThan(2);
    expect(spent.headers[1]![1]).toMatch(/^"monthly";r=0;t=\d+$/);
    outage.down = true; // answered by the pre-check alone
    expect((await meter(blocks, ns, name, q, next - 1)).refusal?.code).toBe("quota_exceeded");
    await expect(meter(blocks, ns, name, q, next)).rejects.toMatchObject({ code: "service_unavailable" });
  });
});

describe("monthly quota through the gateway", () => {
  it("429 quota_exceeded once spent, Retry-After until the start of next month (UTC)", async () => {
    const { key } = await createKey(["jobs:read"], { monthlyQuota: 3 });
    for (let i = 0; i < 3; i++) {
      const r = await call("/api/v1/jobs", { key });
      expect(r.status).toBe(200);
      expect(r.headers.get("ratelimit")).toMatch(new RegExp(`^"monthly";r=${2 - i};t=\\d+$`));
    }
    const prefix = unique("spent");
    const res = await call("/api/v1/jobs", { key, headers: { "x-request-id": prefix } });
    expect(res.status).toBe(429);
    const body = await envelope(res);
    expect(body).toMatchObject({ success: false, data: null, errors: [{ code: "quota_exceeded" }] });
    const expected = Math.ceil((nextMonthStart(Date.now()) - Date.now()) / 1000);
    expect(Math.abs(Number(res.headers.get("retry-after")) - expected)).toBeLessThanOrEqual(5);
    expect(res.headers.get("ratelimit-policy")).toMatch(/^"monthly";q=3;w=\d+$/);
    expect(res.headers.get("ratelimit")).toMatch(/^"monthly";r=0;t=\d+$/);
    expect(await originCount(prefix)).toBe(0);
  });
});

describe("the key object and the management API", () => {
  const api = keysApi;
  const countKeys = async (org: string) =>
    (await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE organization_id = ?").bind(org).first<{ n: number }>())!.n;

  it("create sets rate_limit and monthly_quota; they show on the key object, null when not set", async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const { res, body } = await api(adminKey, "POST", "", {
      name: "limited",
      scopes: ["jobs:read"],
      rate_limit: { limit: 100, period_s: 60 },
      monthly_quota: 100_000,
    });
    expect(res.status).toBe(201);
    const created = body.data as KeyObject & { key: string };
    expect(created).toMatchObject({ rate_limit: { limit: 100, period_s: 60 }, monthly_quota: 100_000 });
    const keys = Object.keys(created);
    expect(keys.slice(keys.indexOf("rotated_from"))).toEqual([
      "rotated_from",
      "rate_limit",
      "monthly_quota",
      "allowed_cidrs",
      "mode",
      "key",
    ]);
    expect((await api(adminKey, "GET", `/${created.id}`)).body.data).toMatchObject({
      rate_limit: { limit: 100, period_s: 60 },
      monthly_quota: 100_000,
    });
    const used = await call("/api/v1/jobs", { key: created.key });
    expect(used.headers.get("ratelimit-policy")).toMatch(/^"rate";q=100;w=60, "monthly";q=100000;w=\d+$/);

    const plain = (await api(adminKey, "POST", "", { name: "plain", scopes: ["jobs:read"] })).body.data as KeyObject;
    expect(plain).toMatchObject({ rate_limit: null, monthly_quota: null });
  });

  const BAD: [string, Record<string, unknown>, RegExp][] = [
    ["limit 0", { rate_limit: { limit: 0, period_s: 60 } }, /rate_limit\.limit/],
    ["negative limit", { rate_limit: { limit: -5, period_s: 60 } }, /rate_limit\.limit/],
    ["limit over the maximum", { rate_limit: { limit: RATE_LIMIT_MAX + 1, period_s: 60 } }, /rate_limit\.limit must be at most 1000000/],
    ["fractional limit", { rate_limit: { limit: 1.5, period_s: 60 } }, /rate_limit\.limit/],
    ["period 0", { rate_limit: { limit: 10, period_s: 0 } }, /rate_limit\.period_s/],
    ["period over a day", { rate_limit: { limit: 10, period_s: RATE_PERIOD_MAX_S + 1 } }, /rate_limit\.period_s must be at most 86400/],
    ["period missing", { rate_limit: { limit: 10 } }, /rate_limit\.period_s/],
    ["unknown field in rate_limit", { rate_limit: { limit: 10, period_s: 60, burst: 5 } }, /rate_limit/],
    ["rate_limit as a string", { rate_limit: "100/60" }, /rate_limit/],
    ["quota 0", { monthly_quota: 0 }, /monthly_quota must be at least 1/],
    ["negative quota", { monthly_quota: -1 }, /monthly_quota/],
    ["quota over the maximum", { monthly_quota: MONTHLY_QUOTA_MAX + 1 }, /monthly_quota must be at most 1000000000/],
    ["quota as a string", { monthly_quota: "1000" }, /monthly_quota/],
  ];
  it.each(BAD)("%s: 400 naming the field, nothing stored", async (_, extra, message) => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const before = await countKeys(org);
    const { res, body } = await api(adminKey, "POST", "", { name: "bad", scopes: ["jobs:read"], ...extra });
    expect(res.status).toBe(400);
    expect(body.errors[0]!.code).toBe("invalid_request");
    expect(body.errors[0]!.message).toMatch(message);
    expect(await countKeys(org)).toBe(before);
  });

  it("limits are immutable: PATCH with them is 400 and nothing changes", async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const { row } = await createKey(["jobs:read"], { org, rateLimit: { limit: 5, period_s: 60 }, monthlyQuota: 10 });
    for (const patch of [{ rate_limit: { limit: 50, period_s: 60 } }, { monthly_quota: 99 }, { rate_limit: null }]) {
      const { res, body } = await api(adminKey, "PATCH", `/${row.id}`, { name: "renamed", ...patch });
      expect(res.status).toBe(400);
      expect(body.errors[0]!.message).toMatch(/immutable/);
      // Without a name too: the answer is about the field that cannot change, not the missing name.
      const alone = await api(adminKey, "PATCH", `/${row.id}`, patch);
      expect(alone.res.status).toBe(400);
      expect(alone.body.errors).toEqual([
        {
          code: "invalid_request",
          message: `${Object.keys(patch)[0]}: rate limits and quotas are immutable: create a new key with the limits you want, then revoke this one`,
        },
      ]);
    }
    const after = (await api(adminKey, "GET", `/${row.id}`)).body.data as KeyObject;
    expect(after).toMatchObject({ name: row.name, rate_limit: { limit: 5, period_s: 60 }, monthly_quota: 10 });
  });

  it("rotation copies the limits, and the successor shares the meter: rotating does not reset a spent quota", async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const old = await createKey(["jobs:read"], { org, monthlyQuota: 2, rateLimit: { limit: 50, period_s: 60 } });
    expect((await call("/api/v1/jobs", { key: old.key })).status).toBe(200);
    const { res, body } = await api(adminKey, "POST", `/${old.row.id}/rotate`, { grace_seconds: 60 });
    expect(res.status).toBe(201);
    const successor = body.data as KeyObject & { key: string };
    expect(successor).toMatchObject({ rate_limit: { limit: 50, period_s: 60 }, monthly_quota: 2, rotated_from: old.row.id });
    expect((await call("/api/v1/jobs", { key: successor.key })).status).toBe(200);
    // One quota between them: the old key (in its grace period) and the new one are both spent.
    expect((await envelope(await call("/api/v1/jobs", { key: successor.key }))).errors[0]!.code).toBe("quota_exceeded");
    expect((await envelope(await call("/api/v1/jobs", { key: old.key }))).errors[0]!.code).toBe("quota_exceeded");
    // A second rotation still shares the first key's meter.
    const again = (await api(adminKey, "POST", `/${successor.id}/rotate`, {})).body.data as KeyObject & { key: string };
    expect((await call("/api/v1/jobs", { key: again.key })).status).toBe(429);
  });

  it("an auth record cached in KV before limits existed (no such fields) means no limit", async () => {
    const { key, row } = await createKey(["jobs:read"]);
    const legacy = {
      id: row.id,
      organization_id: row.organization_id,
      hash: row.hash,
      scopes: ["jobs:read"],
      expires_at: null,
      revoked_at: null,
    };
    await env.KEYS_CACHE.put(kvKeyOf(row.hash), JSON.stringify(legacy), { expirationTtl: 300 });
    const gw = gatewayWith({});
    const res = await gw.fetch("/api/v1/jobs", { key });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit")).toBeNull();
    await gw.settle();
  });
});

describe("the auth record in KV carries the limits", () => {
  it("a D1 read-through writes them to KV; a KV entry with a malformed limit is ignored and D1 answers", async () => {
    const { key, row } = await createKey(["jobs:read"], { rateLimit: { limit: 7, period_s: 60 }, monthlyQuota: 70 });
    const first = gatewayWith({});
    expect((await first.fetch("/api/v1/jobs", { key })).status).toBe(200);
    await first.settle();
    const cached = (await env.KEYS_CACHE.get(kvKeyOf(row.hash), "json")) as Record<string, unknown>;
    expect(cached).toMatchObject({ rate_limit: { limit: 7, period_s: 60 }, monthly_quota: 70, meter_id: null });

    await env.KEYS_CACHE.put(kvKeyOf(row.hash), JSON.stringify({ ...cached, rate_limit: { limit: -1, period_s: 60 } }), {
      expirationTtl: 300,
    });
    const second = gatewayWith({});
    const res = await second.fetch("/api/v1/jobs", { key });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-policy")).toMatch(/^"rate";q=7;w=60, "monthly";q=70;w=\d+$/);
    await second.settle();
  });
});

describe("organization default (DEFAULT_RATE_LIMIT, ORG_RATE_LIMITS)", () => {
  it("precedence: the key's own, else its organization's entry (which may be none), else the default", async () => {
    const [plainOrg, exemptOrg, customOrg] = [unique("org"), unique("org"), unique("org")];
    const gw = gatewayWith({
      DEFAULT_RATE_LIMIT: "2/3600",
      ORG_RATE_LIMITS: JSON.stringify({ [exemptOrg]: "none", [customOrg]: "1/3600" }),
    });
    const statuses = async (key: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await gw.fetch("/api/v1/jobs", { key })).status);
      return out;
    };
    const plain = await createKey(["jobs:read"], { org: plainOrg });
    expect(await statuses(plain.key, 3)).toEqual([200, 200, 429]);
    const exempt = await createKey(["jobs:read"], { org: exemptOrg });
    expect(await statuses(exempt.key, 3)).toEqual([200, 200, 200]);
    const custom = await createKey(["jobs:read"], { org: customOrg });
    expect(await statuses(custom.key, 2)).toEqual([200, 429]);
    const own = await createKey(["jobs:read"], { org: customOrg, rateLimit: { limit: 3, period_s: HOUR } });
    expect(await statuses(own.key, 4)).toEqual([200, 200, 200, 429]);
    const headed = await gw.fetch("/api/v1/jobs", { key: (await createKey(["jobs:read"], { org: plainOrg })).key });
    expect(headed.headers.get("ratelimit-policy")).toBe(`"rate";q=2;w=${HOUR}`);
    await gw.settle();
  });

  it("the defaults: no organization default, no overrides", () => {
    const c = parseConfig({ ORIGIN_URL: "https://o.example", KEY_HASH_SECRET: "x".repeat(32) });
    expect(c.DEFAULT_RATE_LIMIT).toBeNull();
    expect(c.ORG_RATE_LIMITS.size).toBe(0);
    const set = parseConfig({
      ORIGIN_URL: "https://o.example",
      KEY_HASH_SECRET: "x".repeat(32),
      DEFAULT_RATE_LIMIT: "100/60",
      ORG_RATE_LIMITS: '{"acme": "1000/60", "beta": "none"}',
    });
    expect(set.DEFAULT_RATE_LIMIT).toEqual({ limit: 100, period_s: 60 });
    expect([...set.ORG_RATE_LIMITS]).toEqual([
      ["acme", { limit: 1000, period_s: 60 }],
      ["beta", null],
    ]);
  });

  const BAD_CONFIG: [string, Record<string, string>][] = [
    ["zero limit", { DEFAULT_RATE_LIMIT: "0/60" }],
    ["zero period", { DEFAULT_RATE_LIMIT: "10/0" }],
    ["period over a day", { DEFAULT_RATE_LIMIT: "10/86401" }],
    ["limit over the maximum", { DEFAULT_RATE_LIMIT: "1000001/60" }],
    ["not LIMIT/PERIOD", { DEFAULT_RATE_LIMIT: "100 per minute" }],
    ["overrides not JSON", { ORG_RATE_LIMITS: "acme=100/60" }],
    ["overrides not an object", { ORG_RATE_LIMITS: '["acme"]' }],
    ["an override out of bounds", { ORG_RATE_LIMITS: '{"acme": "0/60"}' }],
  ];
  it.each(BAD_CONFIG)("%s fails loudly, naming the setting", (_, patch) => {
    expect(() => parseConfig({ ORIGIN_URL: "https://o.example", KEY_HASH_SECRET: "x".repeat(32), ...patch })).toThrow(ConfigError);
    expect(() => parseConfig({ ORIGIN_URL: "https://o.example", KEY_HASH_SECRET: "x".repeat(32), ...patch })).toThrow(
      Object.keys(patch)[0]!,
    );
  });

  it("an invalid default is a 500 on every request, never a silent default", async () => {
    const gw = gatewayWith({ DEFAULT_RATE_LIMIT: "0/60" });
    const { key } = await createKey(["jobs:read"]);
    const res = await gw.fetch("/api/v1/jobs", { key });
    expect(res.status).toBe(500);
    expect((await envelope(res)).errors[0]!.code).toBe("internal_error");
  });
});
