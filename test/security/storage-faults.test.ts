import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/format.ts";
import { kvKeyOf } from "../../src/storage/kv-cache.ts";
import { startGateway, type Gateway } from "../support/gateway-server.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";
import { expectForwarded, expectRefused, logOf, send } from "./fixture.ts";

/**
 * Issue "Hostile input", case 9: storage made to fail, the statuses of
 * docs/design.md §5, and never a forwarded request on a failure. `faulty` serves
 * test/worker/storage-faults.ts (the real gateway whose real KV / D1 bindings
 * throw while a request says so); `noTables` is the plain gateway on a D1
 * that was never migrated, so every query fails inside D1 itself.
 */

let origin: RecordingOrigin;
let faulty: Gateway;
let noTables: Gateway;
let misconfigured: Gateway;

beforeAll(async () => {
  origin = await startRecordingOrigin();
  [faulty, noTables, misconfigured] = await Promise.all([
    startGateway({ originUrl: origin.url, storageFaults: true }),
    startGateway({ originUrl: origin.url, withoutMigrations: true }),
    startGateway({ originUrl: origin.url, vars: { ORIGIN_TIMEOUT_MS: "soon" } }),
  ]);
});
afterAll(async () => {
  await Promise.all([faulty?.close(), noTables?.close(), misconfigured?.close()]);
  await origin?.close();
});

const fault = (which: string) => [["X-Test-Storage-Fault", which]] as const;

async function waitForKv(gw: Gateway, hash: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await gw.kv.get(kvKeyOf(hash), { type: "json" })) !== null) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the gateway never wrote the key to KV");
}

describe("KV and D1 failures (case 9)", () => {
  it("KV down: the key is read from D1 and the request goes through", async () => {
    const { key } = await faulty.createKey(["candidates:read"]);
    const sent = await send(faulty, origin, { target: "/api/v1/candidates", key, headers: fault("kv") });
    expectForwarded(sent, "GET", "/api/v1/candidates");
    expect((await logOf(faulty, sent.requestId)).cache_tier).toBe("d1");
  });

  it("D1 down, key cached in KV: answered from KV", async () => {
    const { key, row } = await faulty.createKey(["candidates:read"]);
    expectForwarded(await send(faulty, origin, { target: "/api/v1/candidates", key }), "GET", "/api/v1/candidates");
    await waitForKv(faulty, row.hash);
    const sent = await send(faulty, origin, { target: "/api/v1/candidates", key, headers: fault("d1") });
    expectForwarded(sent, "GET", "/api/v1/candidates");
    expect((await logOf(faulty, sent.requestId)).cache_tier).toBe("kv");
  });

  it("D1 down on a miss: 503 with Retry-After, never 401, nothing forwarded", async () => {
    const { key } = await faulty.createKey(["candidates:read"]);
    const sent = await send(faulty, origin, { target: "/api/v1/candidates", key, headers: fault("d1") });
    expectRefused(sent, 503, "service_unavailable");
    expect(Number(sent.res.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("D1 down and an unknown key: 503 too, storage trouble must not look like a bad key", async () => {
    const sent = await send(faulty, origin, { target: "/api/v1/candidates", key: generateKey(), headers: fault("d1") });
    expectRefused(sent, 503, "service_unavailable");
  });

  it("KV and D1 both down: 503, nothing forwarded", async () => {
    const { key } = await faulty.createKey(["candidates:read"]);
    expectRefused(await send(faulty, origin, { target: "/api/v1/candidates", key, headers: fault("kv,d1") }), 503, "service_unavailable");
  });

  it("a D1 that fails for real (no tables): 503, nothing forwarded", async () => {
    expectRefused(await send(noTables, origin, { target: "/api/v1/candidates", key: generateKey() }), 503, "service_unavailable");
  });
});

describe("a thrown error anywhere", () => {
  it("a corrupt key record: 500 internal_error envelope, no detail leaked, nothing forwarded", async () => {
    const { key, row } = await faulty.createKey(["candidates:read"]);
    await faulty.db.prepare("UPDATE api_keys SET scopes = ? WHERE id = ?").bind("{not json", row.id).run();
    const sent = await send(faulty, origin, { target: "/api/v1/candidates", key });
    const body = expectRefused(sent, 500, "internal_error");
    expect(body.errors[0]!.message).toBe("Internal error");
    expect(sent.res.body).not.toMatch(/SyntaxError|JSON|scopes|at /);
  });

  it("an invalid configuration: 500 on every request, nothing forwarded", async () => {
    const { key } = await misconfigured.createKey(["candidates:read"]);
    expectRefused(await send(misconfigured, origin, { target: "/api/v1/candidates", key }), 500, "internal_error");
    // /healthz names the settings at fault (never their values), in the envelope's data.
    const health = await send(misconfigured, origin, { target: "/healthz" });
    expect(health.res.status).toBe(500);
    expect(health.res.headers["cache-control"]).toBe("no-store");
    expect(JSON.parse(health.res.body)).toEqual({
      success: false,
      data: { status: "misconfigured", settings: ["ORIGIN_TIMEOUT_MS"] },
      errors: [{ code: "internal_error", message: "The gateway is misconfigured" }],
    });
    expect(health.received).toEqual([]);
  });
});
