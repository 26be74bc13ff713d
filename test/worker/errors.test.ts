import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, captureLogs, createKey, envelope, gatewayWith, originReceived, unique, withOutage } from "./helpers.ts";

/** docs/design.md §5: every error the gateway produces, with its status, envelope and headers. */
async function expectError(res: Response, status: number, code: string, message?: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  const body = await envelope(res);
  expect(body).toEqual({ success: false, data: null, errors: [{ code, message: expect.any(String) }] });
  if (message !== undefined) expect(body.errors[0]!.message).toBe(message);
  return body;
}

const REALM = 'Bearer realm="api"';
const INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"';

describe("400 invalid_request", () => {
  it("refuses a bad request line before anything else", async () => {
    await expectError(await call("/api/v1/candidates%2F..%2Fapi-keys"), 400, "invalid_request");
  });

  it("refuses method-override headers and _method", async () => {
    const { key } = await createKey(["candidates:read"]);
    const res = await call("/api/v1/candidates", { key, headers: { "x-http-method-override": "DELETE" } });
    await expectError(res, 400, "invalid_request");
    await expectError(await call("/api/v1/candidates?_method=DELETE", { key }), 400, "invalid_request");
  });

  it("refuses a key in the query string, telling the client to use the header", async () => {
    const { key } = await createKey(["candidates:read"]);
    for (const param of ["api_key", "access_token", "key"]) {
      const body = await expectError(await call(`/api/v1/candidates?${param}=${key}`), 400, "invalid_request");
      expect(body.errors[0]!.message).toContain("Authorization header");
      expect(body.errors[0]!.message).not.toContain(key);
    }
  });
});

describe("401 unauthorized", () => {
  it("no key: Missing API key, challenge without an error", async () => {
    const res = await call("/api/v1/candidates");
    await expectError(res, 401, "unauthorized", "Missing API key");
    expect(res.headers.get("www-authenticate")).toBe(REALM);
  });

  const invalid: [string, Record<string, string>][] = [
    ["a mistyped key (bad checksum)", { authorization: "Bearer pk_live_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }],
    ["a key with the wrong prefix", { authorization: "Bearer sk_live_abc" }],
    ["Basic credentials", { authorization: "Basic dXNlcjpwYXNz" }],
    ["an empty Bearer", { authorization: "Bearer " }],
    ["two tokens", { authorization: "Bearer a b" }],
    ["two Authorization headers (joined by the runtime)", { authorization: "Bearer a, Bearer b" }],
    ["a scheme without a token", { authorization: "Bearer" }],
  ];
  it.each(invalid)("%s: Invalid API key with error=invalid_token", async (_, headers) => {
    const res = await call("/api/v1/candidates", { headers });
    await expectError(res, 401, "unauthorized", "Invalid API key");
    expect(res.headers.get("www-authenticate")).toBe(INVALID_TOKEN);
  });

  it("an unknown well-formed key answers exactly like a malformed one", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    await env.DB.prepare("DELETE FROM api_key_events WHERE key_id = ?").bind(row.id).run();
    await env.DB.prepare("DELETE FROM api_keys WHERE id = ?").bind(row.id).run();
    const unknown = await call("/api/v1/candidates", { key });
    const malformed = await call("/api/v1/candidates", { key: key.slice(0, -1) + (key.endsWith("A") ? "B" : "A") });
    expect(unknown.status).toBe(401);
    expect(await unknown.json()).toEqual(await malformed.json());
    expect(unknown.headers.get("www-authenticate")).toBe(malformed.headers.get("www-authenticate"));
  });

  it("the scheme is case-insensitive", async () => {
    const { key } = await createKey(["candidates:read"]);
    const res = await call("/api/v1/candidates", { headers: { authorization: `bEaReR ${key}` } });
    expect(res.status).toBe(200);
  });

  it("a revoked key says so", async () => {
    const { key, row } = await createKey(["candidates:read"]);
    await env.DB.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ?").bind(new Date().toISOString(), row.id).run();
    const res = await call("/api/v1/candidates", { key });
    await expectError(res, 401, "unauthorized", "API key has been revoked");
    expect(res.headers.get("www-authenticate")).toBe(INVALID_TOKEN);
  });

  it("an expired key says so", async () => {
    const { key } = await createKey(["candidates:read"], { expiresAt: new Date(Date.now() - 1000).toISOString() });
    await expectError(await call("/api/v1/candidates", { key }), 401, "unauthorized", "API key has expired");
  });
});

describe("403 forbidden", () => {
  it("names the missing scope in the message and the challenge", async () => {
    const { key } = await createKey(["candidates:read"]);
    const res = await call("/api/v1/jobs", { key, method: "POST", body: "{}" });
    await expectError(res, 403, "forbidden", "Insufficient permissions: requires jobs:write");
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="api", error="insufficient_scope", scope="jobs:write"');
  });

  it("lists every missing scope, space-separated", async () => {
    const { key } = await createKey(["candidates:read"]);
    const res = await call("/api/v1/bulk/candidates", { key, method: "POST", body: "[]" });
    await expectError(res, 403, "forbidden", "Insufficient permissions: requires bulk:write candidates:write");
  });
});

describe("404 and 405", () => {
  it.each(["/", "/api/v1/unknown", "/API/V1/JOBS", "/api/v2/candidates", "/api/v1/api-keys/a/b/c"])(
    "%s is no route (deny by default)",
    async (path) => {
      const { key } = await createKey(["*"]);
      await expectError(await call(path, { key }), 404, "not_found");
    },
  );

  it("a read-only resource answers 405 to writes, with Allow", async () => {
    const { key } = await createKey(["*"]);
    const res = await call("/api/v1/reports", { key, method: "POST", body: "{}" });
    await expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  it("a write-only resource answers 405 to reads", async () => {
    const res = await call("/api/v1/bulk/candidates");
    await expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("POST");
  });

  it.each(["OPTIONS", "TRACE", "PROPFIND"])("%s answers 405", async (method) => {
    const res = await call("/api/v1/candidates", { method });
    await expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("allow")).toBe("GET, HEAD, POST, PUT, PATCH, DELETE");
  });
});

describe("414 uri_too_long", () => {
  it("refuses a request line over 8 KiB", async () => {
    await expectError(await call(`/api/v1/candidates?q=${"a".repeat(8200)}`), 414, "uri_too_long");
  });

  it("is a named configuration value", async () => {
    const gw = gatewayWith({ MAX_REQUEST_LINE_BYTES: "300" });
    await expectError(await gw.fetch(`/api/v1/candidates?q=${"a".repeat(300)}`), 414, "uri_too_long");
  });
});

describe("429 rate_limited", () => {
  it("after AUTH_FAIL_LIMIT failures from one IP, with Retry-After and no lookup", async () => {
    const outage = { down: false };
    const gw = gatewayWith({ AUTH_FAIL_LIMIT: "3", AUTH_FAIL_WINDOW_S: "60", DB: withOutage(env.DB, outage) });
    for (let i = 0; i < 3; i++) expect((await gw.fetch("/api/v1/candidates", { ip: "192.0.2.1" })).status).toBe(401);
    outage.down = true; // a lookup now would be 503: 429 proves none happens
    const { key } = await createKey(["candidates:read"]);
    const res = await gw.fetch("/api/v1/candidates", { ip: "192.0.2.1", key });
    await expectError(res, 429, "rate_limited");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(Number(res.headers.get("retry-after"))).toBeLessThanOrEqual(60);
  });
});

describe("5xx", () => {
  it("502 bad_gateway when the origin is unreachable, and the log line names the origin", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ ORIGIN_URL: "http://127.0.0.1:1" });
    const { lines } = await captureLogs(async () => expectError(await gw.fetch("/api/v1/candidates", { key }), 502, "bad_gateway"));
    expect(lines.find((l) => l.event === "origin_unreachable")).toMatchObject({ level: "error", origin: "http://127.0.0.1:1" });
  });

  it("504 gateway_timeout when the origin's headers come later than ORIGIN_TIMEOUT_MS", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ ORIGIN_TIMEOUT_MS: "200" });
    const res = await gw.fetch("/api/v1/candidates", { key, headers: { "x-origin-behavior": "slow:1500" } });
    await expectError(res, 504, "gateway_timeout");
  });

  it("503 service_unavailable when D1 is down on a cache miss, and nothing is forwarded", async () => {
    const { key } = await createKey(["candidates:read"]);
    const gw = gatewayWith({ DB: withOutage(env.DB, { down: true }) });
    const id = unique("req");
    const res = await gw.fetch("/api/v1/candidates", { key, headers: { "x-request-id": id } });
    await expectError(res, 503, "service_unavailable");
    expect(await originReceived(id)).toEqual([]);
  });

  it("500 internal_error on every request when the configuration is invalid, each logged by name; only /healthz names the settings; no value echoed", async () => {
    const gw = gatewayWith({ KEY_HASH_SECRET: "short", ORIGIN_TIMEOUT_MS: "soon" });
    const { lines, raw } = await captureLogs(async () => {
      const res = await gw.fetch("/api/v1/candidates");
      const body = await expectError(res, 500, "internal_error");
      expect(JSON.stringify(body)).not.toContain("KEY_HASH_SECRET");
      const health = await gw.fetch("/healthz");
      expect(health.status).toBe(500);
      expect(health.headers.get("x-request-id")).toBeTruthy();
      expect(await envelope(health)).toEqual({
        success: false,
        data: { status: "misconfigured", settings: ["KEY_HASH_SECRET", "ORIGIN_TIMEOUT_MS"] },
        errors: [{ code: "internal_error", message: "The gateway is misconfigured" }],
      });
    });
    const logged = lines.filter((l) => l.event === "config_invalid");
    expect(logged).toHaveLength(2);
    for (const line of logged) expect(line.settings).toEqual(["KEY_HASH_SECRET", "ORIGIN_TIMEOUT_MS"]);
    expect(raw).not.toContain("short");
    expect(raw).not.toContain("soon");
  });
});

describe("responses that are not the gateway's", () => {
  it("origin errors pass through unchanged, plus X-Request-Id", async () => {
    const { key } = await createKey(["candidates:read"]);
    const res = await call("/api/v1/candidates", { key, headers: { "x-origin-behavior": "status:418" } });
    expect(res.status).toBe(418);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="origin"');
    expect(res.headers.get("x-origin-header")).toBe("kept");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(await res.json()).toEqual({ origin_error: true });
  });

  it("the gateway's own success bodies use the envelope", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({ success: true, data: { status: "ok" }, errors: [] });
  });
});
