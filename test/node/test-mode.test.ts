import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeJwt } from "jose";
import { startGateway, type Gateway } from "../support/gateway-server.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";

/**
 * Test-mode keys through wrangler's dev runtime over real sockets: two real
 * origins, and each key's requests land on its own.
 */
let gw: Gateway;
let liveOrigin: RecordingOrigin;
let testOrigin: RecordingOrigin;

beforeAll(async () => {
  [liveOrigin, testOrigin] = await Promise.all([startRecordingOrigin(), startRecordingOrigin()]);
  gw = await startGateway({ originUrl: liveOrigin.url, vars: { TEST_ORIGIN_URL: testOrigin.url } });
});

afterAll(async () => {
  await gw?.close();
  await liveOrigin?.close();
  await testOrigin?.close();
});

async function send(key: string, path: string, requestId: string): Promise<Response> {
  return fetch(`${gw.url}${path}`, { headers: { authorization: `Bearer ${key}`, "x-request-id": requestId } });
}

describe("test-mode keys through wrangler dev", () => {
  it("a pk_test_ key reaches TEST_ORIGIN_URL only; a pk_live_ key ORIGIN_URL only", async () => {
    const { key: testKey, row: testRow } = await gw.createKey(["jobs:read"], { org: "acme", mode: "test" });
    const { key: liveKey, row: liveRow } = await gw.createKey(["jobs:read"], { org: "acme" });
    expect(testKey).toMatch(/^pk_test_/);

    const [liveBefore, testBefore] = [liveOrigin.received.length, testOrigin.received.length];
    expect((await send(testKey, "/api/v1/jobs?page=1", "tm-test-1")).status).toBe(200);
    expect(liveOrigin.received.length).toBe(liveBefore);
    const atTest = testOrigin.received.slice(testBefore);
    expect(atTest).toHaveLength(1);
    expect(atTest[0]!.url).toBe("/api/v1/jobs?page=1");
    expect(atTest[0]!.headers["x-api-key-mode"]).toBe("test");
    expect(atTest[0]!.headers["x-api-key-id"]).toBe(testRow.id);
    expect(decodeJwt(atTest[0]!.headers["x-gateway-identity"] as string)).toMatchObject({ mode: "test", key_id: testRow.id });

    expect((await send(liveKey, "/api/v1/jobs?page=1", "tm-live-1")).status).toBe(200);
    expect(testOrigin.received.length).toBe(testBefore + 1);
    const atLive = liveOrigin.received.slice(liveBefore);
    expect(atLive).toHaveLength(1);
    expect(atLive[0]!.headers["x-api-key-mode"]).toBe("live");
    expect(decodeJwt(atLive[0]!.headers["x-gateway-identity"] as string)).toMatchObject({ mode: "live", key_id: liveRow.id });
  });

  it("the management API creates a test key that works at once against the test origin", async () => {
    const { key: admin } = await gw.createKey(["*"], { org: "acme" });
    const res = await fetch(`${gw.url}/api/v1/api-keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "sandbox", scopes: ["candidates:read"], mode: "test" }),
    });
    expect(res.status).toBe(201);
    const created = ((await res.json()) as { data: { key: string; mode: string } }).data;
    expect(created.mode).toBe("test");
    const before = testOrigin.received.length;
    expect((await send(created.key, "/api/v1/candidates", "tm-api-1")).status).toBe(200);
    expect(testOrigin.received.length).toBe(before + 1);
  });
});
