import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { usageSql } from "../../src/usage/analytics-sql.ts";
import { MAX_USAGE_BUCKETS } from "../../src/usage/range.ts";
import { SQL_API_TOKEN, type SeededPoint } from "../support/analytics-sql-api.ts";
import { captureLogs, createKey, envelope, gatewayWith, unique, withOutage } from "./helpers.ts";

/** Issue 10: every request of a known key is counted; GET /api/v1/api-keys/{id}/usage reads the counts back. */
type Usage = {
  key_id: string;
  granularity: string;
  from: string;
  to: string;
  buckets: ({ start: string } & Record<"2xx" | "3xx" | "4xx" | "5xx", number>)[];
};

const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Gateway = ReturnType<typeof gatewayWith>;

async function usage(gw: Gateway, adminKey: string, id: string, query = "") {
  const res = await gw.fetch(`/api/v1/api-keys/${id}/usage${query}`, { key: adminKey });
  return { res, body: await envelope(res) };
}

function totals(u: Usage) {
  const t = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 };
  for (const b of u.buckets) for (const c of ["2xx", "3xx", "4xx", "5xx"] as const) t[c] += b[c];
  return t;
}

/** The mix of answers a key's requests get: proxied 2xx, origin 3xx/4xx/5xx, refused 403 by scope. */
async function sendMix(gw: Gateway, key: string) {
  const statuses: number[] = [];
  const go = async (path: string, init: Parameters<Gateway["fetch"]>[1] = {}) =>
    statuses.push((await gw.fetch(path, { key, ...init })).status);
  for (let i = 0; i < 3; i++) await go("/api/v1/candidates");
  await go("/api/v1/candidates/c_1", { headers: { "x-origin-behavior": "redirect:302:http://127.0.0.1:1/x" } });
  await go("/api/v1/candidates/c_2", { headers: { "x-origin-behavior": "status:404" } });
  await go("/api/v1/candidates/c_3", { headers: { "x-origin-behavior": "status:503" } });
  await go("/api/v1/jobs", { method: "POST", body: "{}" }); // 403: the key lacks jobs:write
  return statuses;
}

describe("usage in D1 (local development and tests)", () => {
  it("counts every proxied or refused request of a known key by status class, and nothing for unknown keys", async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const { key, row } = await createKey(["candidates:read"], { org });
    const gw = gatewayWith({ USAGE_FLUSH_INTERVAL_MS: "0" });
    expect(await sendMix(gw, key)).toEqual([200, 200, 200, 302, 404, 503, 403]);
    // Unknown and malformed keys are not anyone's usage.
    expect((await gw.fetch("/api/v1/candidates", { key: `pk_live_${"A".repeat(48)}` })).status).toBe(401);
    await gw.settle();

    const { res, body } = await usage(gw, adminKey, row.id);
    expect(res.status).toBe(200);
    const u = body.data as Usage;
    expect(u.key_id).toBe(row.id);
    expect(u.granularity).toBe("hour");
    expect(u.buckets).toHaveLength(24);
    expect(totals(u)).toEqual({ "2xx": 3, "3xx": 1, "4xx": 2, "5xx": 1 });
    const current = u.buckets.at(-1)!;
    expect(Date.parse(current.start)).toBe(Math.floor(Date.now() / HOUR) * HOUR);
    expect(current).toMatchObject({ "2xx": 3, "3xx": 1, "4xx": 2, "5xx": 1 });
    expect(u.buckets.slice(0, -1).every((b) => b["2xx"] + b["3xx"] + b["4xx"] + b["5xx"] === 0)).toBe(true);
    const stored = await env.DB.prepare("SELECT SUM(count) AS n FROM api_key_usage WHERE key_id = ?").bind(row.id).first<{ n: number }>();
    expect(stored!.n).toBe(7);
  });

  it("counts refusals after the key was known: revoked, expired, disallowed address", async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const gw = gatewayWith({ USAGE_FLUSH_INTERVAL_MS: "0", TOMBSTONE_REWRITE_DELAY_MS: "0" });
    const fenced = await createKey(["candidates:read"], { org, allowedCidrs: ["192.0.2.0/24"] });
    expect((await gw.fetch("/api/v1/candidates", { key: fenced.key, ip: "192.0.2.1" })).status).toBe(200);
    expect((await gw.fetch("/api/v1/candidates", { key: fenced.key, ip: "198.51.100.1" })).status).toBe(403);
    const expiring = await createKey(["candidates:read"], { org, expiresAt: new Date(Date.now() + 1000).toISOString() });
    expect((await gw.fetch("/api/v1/candidates", { key: expiring.key })).status).toBe(200);
    await sleep(1100);
    expect((await gw.fetch("/api/v1/candidates", { key: expiring.key })).status).toBe(401);
    const doomed = await createKey(["candidates:read"], { org });
    expect((await gw.fetch(`/api/v1/api-keys/${doomed.row.id}`, { key: adminKey, method: "DELETE" })).status).toBe(200);
    expect((await gw.fetch("/api/v1/candidates", { key: doomed.key })).status).toBe(401);
    await gw.settle();

    const read = async (id: string) => totals((await usage(gw, adminKey, id)).body.data as Usage);
    expect(await read(fenced.row.id)).toEqual({ "2xx": 1, "3xx": 0, "4xx": 1, "5xx": 0 });
    expect(await read(expiring.row.id)).toEqual({ "2xx": 1, "3xx": 0, "4xx": 1, "5xx": 0 });
    expect(await read(doomed.row.id)).toEqual({ "2xx": 0, "3xx": 0, "4xx": 1, "5xx": 0 });
  });

  it("batches: concurrent requests within the flush interval are one write, and every one is counted", async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const { key, row } = await createKey(["candidates:read"], { org });
    const gw = gatewayWith({ USAGE_FLUSH_INTERVAL_MS: "300" });
    expect((await gw.fetch("/api/v1/candidates", { key })).status).toBe(200);
    const statuses = await Promise.all(Array.from({ length: 20 }, () => gw.fetch("/api/v1/candidates", { key }).then((r) => r.status)));
    expect(statuses.every((s) => s === 200)).toBe(true);
    const before = await env.DB.prepare("SELECT SUM(count) AS n FROM api_key_usage WHERE key_id = ?")
      .bind(row.id)
      .first<{ n: number | null }>();
    expect(before!.n ?? 0).toBeLessThan(21); // not yet all written: the write waits for the interval
    await gw.settle();
    expect(totals((await usage(gw, adminKey, row.id)).body.data as Usage)["2xx"]).toBe(21);
  });

  it("a failed write is one warning line; the requests were answered as usual", async () => {
    const org = unique("org");
    const { key, row } = await createKey(["candidates:read"], { org });
    const outage = { down: false };
    const gw = gatewayWith({ USAGE_FLUSH_INTERVAL_MS: "300", DB: withOutage(env.DB, outage) });
    const { lines } = await captureLogs(async () => {
      expect((await gw.fetch("/api/v1/candidates", { key })).status).toBe(200);
      outage.down = true;
      await gw.settle();
      outage.down = false;
    });
    expect(lines.find((l) => l.event === "usage_write_failed")).toMatchObject({ level: "warn", rows: 1 });
    const stored = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_key_usage WHERE key_id = ?").bind(row.id).first<{ n: number }>();
    expect(stored!.n).toBe(0);
  });

  it("by the day: buckets are whole UTC days, zero-filled, between from and to", async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const { key, row } = await createKey(["candidates:read"], { org });
    const gw = gatewayWith({ USAGE_FLUSH_INTERVAL_MS: "0" });
    for (let i = 0; i < 2; i++) await gw.fetch("/api/v1/candidates", { key });
    await gw.settle();
    // Counts from earlier days, as other isolates would have written them.
    const today = Math.floor(Date.now() / (24 * HOUR)) * 24;
    await env.DB.prepare(
      "INSERT INTO api_key_usage (key_id, organization_id, hour, class, count) VALUES (?, ?, ?, '2xx', 5), (?, ?, ?, '5xx', 2)",
    )
      .bind(row.id, org, today - 24 + 3, row.id, org, today - 48 + 23)
      .run();
    const from = new Date((today - 72) * HOUR + 5 * HOUR).toISOString(); // mid-day: rounds down
    const to = new Date((today + 24) * HOUR).toISOString();
    const { res, body } = await usage(gw, adminKey, row.id, `?granularity=day&from=${from}&to=${to}`);
    expect(res.status).toBe(200);
    const u = body.data as Usage;
    expect(u.from).toBe(new Date((today - 72) * HOUR).toISOString());
    expect(u.to).toBe(to);
    expect(u.buckets.map((b) => [b["2xx"], b["5xx"]])).toEqual([
      [0, 0],
      [0, 2],
      [5, 0],
      [2, 0],
    ]);
    expect(u.buckets.map((b) => b.start)).toEqual([72, 48, 24, 0].map((h) => new Date((today - h) * HOUR).toISOString()));
    const hourly = (
      await usage(gw, adminKey, row.id, `?from=${new Date((today - 24) * HOUR).toISOString()}&to=${new Date(today * HOUR).toISOString()}`)
    ).body.data as Usage;
    expect(hourly.buckets).toHaveLength(24);
    expect(hourly.buckets[3]!["2xx"]).toBe(5);
  });

  const BAD: [string, string, RegExp][] = [
    ["from after to", "?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", /^from: must not be after to$/],
    ["from in the future (to defaults to now)", `?from=2099-01-01T00:00:00Z`, /^from: must not be in the future$/],
    ["a malformed from", "?from=yesterday", /^from: /],
    ["a malformed to", "?to=2026-13-01T00:00:00Z", /^to: /],
    ["an unknown granularity", "?granularity=week", /^granularity: granularity must be "hour" or "day"/],
    [
      "too many hourly buckets",
      `?from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z`,
      new RegExp(`^from: the range holds 1416 hourly buckets; at most ${MAX_USAGE_BUCKETS}`),
    ],
    [
      "too many daily buckets",
      `?granularity=day&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`,
      /^from: the range holds 2192 daily buckets/,
    ],
  ];
  it.each(BAD)("refuses %s with 400 naming the field, and stores nothing", async (_, query, message) => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const { row } = await createKey(["candidates:read"], { org });
    const gw = gatewayWith({ USAGE_FLUSH_INTERVAL_MS: "0" });
    const { res, body } = await usage(gw, adminKey, row.id, query);
    expect(res.status).toBe(400);
    expect(body.errors[0]!.code).toBe("invalid_request");
    expect(body.errors[0]!.message).toMatch(message);
    await gw.settle();
    const stored = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_key_usage WHERE key_id = ?").bind(row.id).first<{ n: number }>();
    expect(stored!.n).toBe(0);
  });

  it(`answers exactly ${MAX_USAGE_BUCKETS} buckets at the bound, and none for an empty range`, async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const { row } = await createKey(["candidates:read"], { org });
    const gw = gatewayWith({});
    const from = Date.parse("2026-01-01T00:00:00Z");
    const at = (ms: number) => new Date(ms).toISOString();
    const full = await usage(gw, adminKey, row.id, `?from=${at(from)}&to=${at(from + MAX_USAGE_BUCKETS * HOUR)}`);
    expect((full.body.data as Usage).buckets).toHaveLength(MAX_USAGE_BUCKETS);
    const over = await usage(gw, adminKey, row.id, `?from=${at(from)}&to=${at(from + MAX_USAGE_BUCKETS * HOUR + 1)}`);
    expect(over.res.status).toBe(400);
    const empty = await usage(gw, adminKey, row.id, `?from=${at(from)}&to=${at(from)}`);
    expect((empty.body.data as Usage).buckets).toEqual([]);
  });

  it("is organization-scoped (404) and needs api_keys:read (403)", async () => {
    const { key: adminKey } = await createKey(["*"], { org: unique("org") });
    const other = await createKey(["candidates:read"], { org: unique("other") });
    const gw = gatewayWith({});
    const res = await usage(gw, adminKey, other.row.id);
    expect(res.res.status).toBe(404);
    expect(res.body.errors[0]!.code).toBe("not_found");
    expect((await usage(gw, adminKey, "key_nope")).res.status).toBe(404);
    const reader = await createKey(["read", "api_keys:write"], { org: other.row.organization_id });
    const denied = await usage(gw, reader.key, other.row.id);
    expect(denied.res.status).toBe(403);
    expect(denied.body.errors[0]!.message).toBe("Insufficient permissions: requires api_keys:read");
  });
});

describe("usage in Analytics Engine (production)", () => {
  /** The real local Analytics Engine binding, with each data point also kept for the SQL API stand-in. */
  function recordingDataset() {
    const written: AnalyticsEngineDataPoint[] = [];
    const dataset: AnalyticsEngineDataset = {
      writeDataPoint(point?: AnalyticsEngineDataPoint) {
        if (point) written.push(point);
        env.TEST_USAGE.writeDataPoint(point);
      },
    };
    return { dataset, written };
  }
  const aeGateway = (dataset: AnalyticsEngineDataset, sqlUrl = env.TEST_SQL_API_URL) =>
    gatewayWith({ USAGE_STORE: "analytics_engine", USAGE: dataset, ANALYTICS_API_TOKEN: SQL_API_TOKEN, ANALYTICS_SQL_URL: sqlUrl });

  it("writes one data point per request and reads the counts back through the SQL API", async () => {
    const org = unique("org");
    const { key: adminKey, row: adminRow } = await createKey(["*"], { org });
    const { key, row } = await createKey(["candidates:read"], { org });
    const { dataset, written } = recordingDataset();
    const gw = aeGateway(dataset);
    await sendMix(gw, key);
    await gw.settle();

    const mine = written.filter((p) => p.indexes?.[0] === row.id);
    expect(mine).toHaveLength(7);
    expect(mine[0]).toEqual({ blobs: [row.id, org, "2xx", "/api/v1/candidates/**"], doubles: [1], indexes: [row.id] });
    expect(mine.map((p) => p.blobs![2])).toEqual(["2xx", "2xx", "2xx", "3xx", "4xx", "5xx", "4xx"]);
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM api_key_usage WHERE key_id = ?").bind(row.id).first("n")).toBe(0);

    // What Analytics Engine would hold, with one point sampled at 1 in 2 standing for two requests.
    const now = Date.now();
    const points: SeededPoint[] = mine.map((p) => ({
      timestamp: now,
      blobs: p.blobs as string[],
      doubles: p.doubles!,
      indexes: p.indexes as string[],
    }));
    points.push({
      timestamp: now - 3 * HOUR,
      blobs: [row.id, org, "2xx", "/api/v1/candidates/**"],
      doubles: [1],
      indexes: [row.id],
      sampleInterval: 2,
    });
    await fetch(`${env.TEST_SQL_API_URL}/__points`, { method: "POST", body: JSON.stringify(points) });

    const { res, body } = await usage(gw, adminKey, row.id);
    expect(res.status, JSON.stringify(body)).toBe(200);
    const u = body.data as Usage;
    expect(u.buckets).toHaveLength(24);
    expect(u.buckets.at(-1)).toMatchObject({ "2xx": 3, "3xx": 1, "4xx": 2, "5xx": 1 });
    expect(u.buckets.at(-4)).toMatchObject({ "2xx": 2, "3xx": 0, "4xx": 0, "5xx": 0 });

    const queries = (await (await fetch(`${env.TEST_SQL_API_URL}/__queries`)).json()) as { sql: string; authorization: string }[];
    const sent = queries.find((q) => q.sql.includes(`index1 = '${row.id}'`))!;
    expect(sent.authorization).toBe(`Bearer ${SQL_API_TOKEN}`);
    expect(sent.sql).toBe(usageSql("gateway_usage", row.id, Date.parse(u.from) / HOUR, Date.parse(u.from) / HOUR + 24));
    expect(sent.sql).toContain("FROM gateway_usage");
    expect(sent.sql).not.toContain(adminRow.id);
  });

  it("an unreachable or failing SQL API is a 503 envelope, never a zero-filled answer", async () => {
    const org = unique("org");
    const { key: adminKey } = await createKey(["*"], { org });
    const { row } = await createKey(["candidates:read"], { org });
    for (const url of [`${env.TEST_SQL_API_URL}/broken`, "http://127.0.0.1:1/sql"]) {
      const gw = aeGateway(recordingDataset().dataset, url);
      const { res, body } = await usage(gw, adminKey, row.id);
      expect(res.status).toBe(503);
      expect(body.errors[0]).toEqual({ code: "service_unavailable", message: "Usage data is temporarily unavailable; retry shortly" });
    }
    const wrongToken = gatewayWith({
      USAGE_STORE: "analytics_engine",
      USAGE: env.TEST_USAGE,
      ANALYTICS_API_TOKEN: "x".repeat(30),
      ANALYTICS_SQL_URL: env.TEST_SQL_API_URL,
    });
    const { res, body } = await usage(wrongToken, adminKey, row.id);
    expect(res.status).toBe(503);
    expect(JSON.stringify(body)).not.toContain("x".repeat(30));
  });

  it("without its binding or credentials the configuration is invalid: 500 on every request", async () => {
    const { key } = await createKey(["candidates:read"]);
    for (const [overrides, missing] of [
      [{ USAGE_STORE: "analytics_engine", ANALYTICS_API_TOKEN: SQL_API_TOKEN, ANALYTICS_SQL_URL: env.TEST_SQL_API_URL }, "USAGE"],
      [{ USAGE_STORE: "analytics_engine", USAGE: env.TEST_USAGE, ANALYTICS_SQL_URL: env.TEST_SQL_API_URL }, "ANALYTICS_API_TOKEN"],
      [{ USAGE_STORE: "analytics_engine", USAGE: env.TEST_USAGE, ANALYTICS_API_TOKEN: SQL_API_TOKEN }, "ANALYTICS_ACCOUNT_ID"],
    ] as const) {
      const gw = gatewayWith(overrides);
      const { result: res, lines } = await captureLogs(() => gw.fetch("/api/v1/candidates", { key }));
      expect(res.status).toBe(500);
      const logged = lines.find((l) => l.event === "config_invalid");
      expect(logged?.message).toMatch(/USAGE_STORE=analytics_engine needs/);
      expect(logged?.settings).toEqual(["USAGE_STORE", missing]);
    }
  });
});

describe("usage configuration", () => {
  const valid = { ORIGIN_URL: "https://origin.example.com", KEY_HASH_SECRET: "x".repeat(32) };
  it("defaults to D1 with a 1 s flush interval and the gateway_usage dataset", () => {
    expect(parseConfig(valid)).toMatchObject({ USAGE_STORE: "d1", USAGE_FLUSH_INTERVAL_MS: 1000, USAGE_DATASET: "gateway_usage" });
  });
  it.each([
    ["USAGE_STORE", "clickhouse"],
    ["USAGE_FLUSH_INTERVAL_MS", "60001"],
    ["USAGE_FLUSH_INTERVAL_MS", "1s"],
    ["USAGE_DATASET", "usage; DROP"],
    ["ANALYTICS_ACCOUNT_ID", "REPLACE_WITH_32_HEX_ACCOUNT_ID"],
    ["ANALYTICS_API_TOKEN", "short"],
    ["ANALYTICS_SQL_URL", "ftp://sql.example"],
  ])("%s=%s is refused, naming the setting", (name, value) => {
    expect(() => parseConfig({ ...valid, [name]: value })).toThrow(ConfigError);
    expect(() => parseConfig({ ...valid, [name]: value })).toThrow(name);
  });
});
