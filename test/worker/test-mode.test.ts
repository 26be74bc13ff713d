import { env } from "cloudflare:workers";
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import type { KeyObject } from "../../src/management/object.ts";
import { kvKeyOf } from "../../src/storage/kv-cache.ts";
import { call, createKey, envelope, gatewayWith, originReceived, unique } from "./helpers.ts";

/** docs/keys-and-scopes.md "Test-mode keys": pk_test_ keys, their own origin, and what they may manage. */
type KeyObj = KeyObject & { key?: string };
type Gw = { fetch(path: string, init?: RequestInit & { key?: string }): Promise<Response> };

const direct: Gw = { fetch: (path, init) => call(path, init) };
// The recording origin, under a path that marks "test origin" in what it records.
const SANDBOX = () => `${env.TEST_ORIGIN_URL}/sandbox`;

async function api(gw: Gw, key: string, method: string, path: string, body?: unknown) {
  const res = await gw.fetch(`/api/v1/api-keys${path}`, {
    key,
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  return { res, body: await envelope(res) };
}

async function listIds(key: string): Promise<string[]> {
  const { body } = await api(direct, key, "GET", "?limit=100");
  return (body.data as { items: KeyObj[] }).items.map((k) => k.id);
}

describe("creating test-mode keys", () => {
  it("mode: test gives a pk_test_ key whose object says so; mode follows the other fields; live is the default", async () => {
    const org = unique("org");
    const { key: admin } = await createKey(["*"], { org });
    const { res, body } = await api(direct, admin, "POST", "", { name: "sandbox", scopes: ["jobs:read"], mode: "test" });
    expect(res.status).toBe(201);
    const created = body.data as KeyObj & { key: string };
    expect(created.key).toMatch(/^pk_test_[A-Za-z0-9_-]{48}$/);
    expect(created.display).toBe(`pk_test_${created.key.slice(8, 12)}…${created.key.slice(-4)}`);
    expect(created.mode).toBe("test");
    expect(Object.keys(created)).toEqual([
      "id",
      "name",
      "organization_id",
      "display",
      "scopes",
      "state",
      "created_at",
      "created_by",
      "last_used_at",
      "expires_at",
      "revoked_at",
      "rotated_from",
      "rate_limit",
      "monthly_quota",
      "allowed_cidrs",
      "mode",
      "key",
    ]);
    const shown = await api(direct, admin, "GET", `/${created.id}`);
    expect((shown.body.data as KeyObj).mode).toBe("test");
    const listed = (await api(direct, admin, "GET", "")).body.data as { items: KeyObj[] };
    expect(listed.items.find((k) => k.id === created.id)?.mode).toBe("test");

    const live = (await api(direct, admin, "POST", "", { name: "prod", scopes: ["jobs:read"] })).body.data as KeyObj & { key: string };
    expect(live.mode).toBe("live");
    expect(live.key).toMatch(/^pk_live_/);
  });

  it("a bad mode is 400 and creates nothing", async () => {
    const org = unique("org");
    const { key: admin } = await createKey(["*"], { org });
    const before = await listIds(admin);
    for (const mode of ["sandbox", "TEST", "", null, 1]) {
      const { res, body } = await api(direct, admin, "POST", "", { name: "x", scopes: ["jobs:read"], mode });
      expect(res.status, JSON.stringify(mode)).toBe(400);
      expect(body.errors[0]!.code).toBe("invalid_request");
      expect(body.errors[0]!.message).toContain('mode must be "live" or "test"');
    }
    expect(await listIds(admin)).toEqual(before);
  });

  it("without TEST_ORIGIN_URL, creating a test key is 400 and creates nothing", async () => {
    const gw = gatewayWith({ TEST_ORIGIN_URL: undefined });
    const org = unique("org");
    const { key: admin } = await createKey(["*"], { org });
    const before = await listIds(admin);
    const { res, body } = await api(gw, admin, "POST", "", { name: "x", scopes: ["jobs:read"], mode: "test" });
    expect(res.status).toBe(400);
    expect(body.errors[0]!.message).toMatch(/^Test-mode keys are not enabled on this gateway/);
    expect(await listIds(admin)).toEqual(before);
  });

  it("a bad TEST_ORIGIN_URL is a configuration error: 500 on every request", async () => {
    const gw = gatewayWith({ TEST_ORIGIN_URL: "ftp://sandbox.example" });
    const res = await gw.fetch("/healthz");
    expect(res.status).toBe(500);
    expect((await envelope(res)).errors[0]!.code).toBe("internal_error");
  });
});

describe("where requests go", () => {
  it("a test key reaches TEST_ORIGIN_URL and a live key ORIGIN_URL, each told its mode (header and signed claim)", async () => {
    const gw = gatewayWith({ TEST_ORIGIN_URL: SANDBOX() });
    const org = unique("org");
    const { key: testKey, row: testRow } = await createKey(["jobs:read"], { org, mode: "test" });
    const { key: liveKey } = await createKey(["jobs:read"], { org });
    const jwks = createLocalJWKSet((await (await gw.fetch("/.well-known/jwks.json")).json()) as { keys: JWK[] });

    const testId = unique("req");
    expect((await gw.fetch("/api/v1/jobs/j_1?x=1", { key: testKey, headers: { "x-request-id": testId } })).status).toBe(200);
    const [toTest] = await originReceived(testId);
    expect(toTest!.url).toBe("/sandbox/api/v1/jobs/j_1?x=1");
    expect(toTest!.headers["x-api-key-mode"]).toBe("test");
    expect(toTest!.headers["x-api-key-id"]).toBe(testRow.id);
    const claims = (await jwtVerify(toTest!.headers["x-gateway-identity"] as string, jwks)).payload;
    expect(claims).toMatchObject({ mode: "test", key_id: testRow.id });

    const liveId = unique("req");
    expect((await gw.fetch("/api/v1/jobs/j_1?x=1", { key: liveKey, headers: { "x-request-id": liveId } })).status).toBe(200);
    const [toLive] = await originReceived(liveId);
    expect(toLive!.url).toBe("/api/v1/jobs/j_1?x=1");
    expect(toLive!.headers["x-api-key-mode"]).toBe("live");
    expect(decodeJwt(toLive!.headers["x-gateway-identity"] as string).mode).toBe("live");
  });

  it("scopes still apply to a test key (403, nothing forwarded)", async () => {
    const gw = gatewayWith({ TEST_ORIGIN_URL: SANDBOX() });
    const { key } = await createKey(["jobs:read"], { mode: "test" });
    const id = unique("req");
    const res = await gw.fetch("/api/v1/candidates", { key, headers: { "x-request-id": id } });
    expect(res.status).toBe(403);
    expect(await originReceived(id)).toEqual([]);
  });

  it("with the live origin behind a service binding, a test key still goes to TEST_ORIGIN_URL", async () => {
    const gw = gatewayWith({ ORIGIN: env.TEST_ORIGIN_SERVICE, TEST_ORIGIN_URL: SANDBOX() });
    const { key: liveKey } = await createKey(["jobs:read"]);
    const { key: testKey } = await createKey(["jobs:read"], { mode: "test" });
    expect(((await (await gw.fetch("/api/v1/jobs", { key: liveKey })).json()) as { via: string }).via).toBe("service-binding");
    const id = unique("req");
    expect((await gw.fetch("/api/v1/jobs", { key: testKey, headers: { "x-request-id": id } })).status).toBe(200);
    expect((await originReceived(id))[0]!.url).toBe("/sandbox/api/v1/jobs");
  });

  it("without TEST_ORIGIN_URL a test key is refused 403 and never reaches the live origin", async () => {
    const gw = gatewayWith({ TEST_ORIGIN_URL: undefined });
    const { key } = await createKey(["jobs:read"], { mode: "test" });
    const id = unique("req");
    const res = await gw.fetch("/api/v1/jobs", { key, headers: { "x-request-id": id } });
    expect(res.status).toBe(403);
    expect(await envelope(res)).toEqual({
      success: false,
      data: null,
      errors: [{ code: "forbidden", message: "Test-mode keys are not enabled on this gateway" }],
    });
    expect(await originReceived(id)).toEqual([]);
    // It still authenticates, so key management of test keys keeps working.
    expect((await gw.fetch("/api/v1/api-keys/self", { key })).status).toBe(200);
  });

  it("a KV entry cached before test mode existed (no mode field) is a live key", async () => {
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
    const id = unique("req");
    expect((await gw.fetch("/api/v1/jobs", { key, headers: { "x-request-id": id } })).status).toBe(200);
    expect((await originReceived(id))[0]!.headers["x-api-key-mode"]).toBe("live");
  });

  it("a pk_test_ key in the URL is refused like a live one", async () => {
    const res = await call(`/api/v1/jobs?q=pk_test_${"A".repeat(48)}`);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await envelope(res))).not.toContain("pk_test_AAAA");
    expect((await call(`/api/v1/jobs/pk_test_${"A".repeat(48)}`)).status).toBe(400);
  });
});

describe("what a test-mode key may manage", () => {
  it("creates only test keys: no mode means test, mode live is 403 and creates nothing", async () => {
    const org = unique("org");
    const { key: testAdmin } = await createKey(["*"], { org, mode: "test" });
    const implicit = (await api(direct, testAdmin, "POST", "", { name: "child", scopes: ["jobs:read"] })).body.data as KeyObj & {
      key: string;
    };
    expect(implicit.mode).toBe("test");
    expect(implicit.key).toMatch(/^pk_test_/);
    const before = await listIds(testAdmin);
    const { res, body } = await api(direct, testAdmin, "POST", "", { name: "escalate", scopes: ["jobs:read"], mode: "live" });
    expect(res.status).toBe(403);
    expect(body.errors).toEqual([{ code: "forbidden", message: "A test-mode key can only create test-mode keys" }]);
    expect(await listIds(testAdmin)).toEqual(before);
  });

  it("cannot rename, rotate or revoke a live key (403, unchanged), but can read it and manage test keys", async () => {
    const org = unique("org");
    const { key: testAdmin } = await createKey(["*"], { org, mode: "test" });
    const { key: liveKey, row: liveRow } = await createKey(["jobs:read"], { org, name: "production" });
    const { row: testRow } = await createKey(["jobs:read"], { org, name: "sandbox", mode: "test" });

    for (const [method, path, body, action] of [
      ["PATCH", `/${liveRow.id}`, { name: "pwned" }, "rename"],
      ["POST", `/${liveRow.id}/rotate`, {}, "rotate"],
      ["DELETE", `/${liveRow.id}`, undefined, "revoke"],
    ] as const) {
      const r = await api(direct, testAdmin, method, path, body);
      expect(r.res.status, action).toBe(403);
      expect(r.body.errors[0]!.message).toBe(`A test-mode key can only ${action} test-mode keys`);
    }
    const shown = (await api(direct, testAdmin, "GET", `/${liveRow.id}`)).body.data as KeyObj;
    expect(shown).toMatchObject({ name: "production", state: "active", revoked_at: null, mode: "live" });
    expect((await api(direct, testAdmin, "GET", `/${liveRow.id}/events`)).body.data).toEqual({
      items: [{ type: "created", actor: "cli", at: liveRow.created_at, url: null }],
    });
    expect((await call("/api/v1/jobs", { key: liveKey })).status).toBe(200);

    expect((await api(direct, testAdmin, "PATCH", `/${testRow.id}`, { name: "sandbox 2" })).res.status).toBe(200);
    const rotated = await api(direct, testAdmin, "POST", `/${testRow.id}/rotate`, {});
    expect(rotated.res.status).toBe(201);
    expect(rotated.body.data).toMatchObject({ mode: "test", rotated_from: testRow.id });
    expect((rotated.body.data as { key: string }).key).toMatch(/^pk_test_/);
  });

  it("a live key manages both modes; rotating a test key keeps it a test key", async () => {
    const org = unique("org");
    const { key: admin } = await createKey(["*"], { org });
    const { row: testRow } = await createKey(["jobs:read"], { org, mode: "test" });
    const rotated = (await api(direct, admin, "POST", `/${testRow.id}/rotate`, {})).body.data as KeyObj & { key: string };
    expect(rotated.mode).toBe("test");
    expect(rotated.key).toMatch(/^pk_test_/);
    expect((await api(direct, admin, "DELETE", `/${rotated.id}`)).res.status).toBe(200);
  });
});
