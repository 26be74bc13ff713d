import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { IdentityConfigSchema } from "../../src/config.ts";
import { ensureDevVars, parseDevVars } from "../../scripts/lib/local-state.ts";
import { startGateway, type Gateway } from "../support/gateway-server.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";

/**
 * Signed identity end to end: the real gateway under wrangler's dev runtime,
 * a real origin over HTTP, and the origin's side done the way docs/origin.md
 * tells an origin to do it (jose, the JWKS fetched from the gateway).
 */
let gw: Gateway;
let origin: RecordingOrigin;

beforeAll(async () => {
  origin = await startRecordingOrigin();
  gw = await startGateway({ originUrl: origin.url });
});

afterAll(async () => {
  await gw?.close();
  await origin?.close();
});

describe("X-Gateway-Identity through wrangler dev", () => {
  it("the origin receives a token it verifies with the gateway's JWKS, with the calling key's claims", async () => {
    const { key, row } = await gw.createKey(["candidates:read"], { org: "acme" });
    const before = origin.received.length;
    const res = await fetch(`${gw.url}/api/v1/candidates/c_7?page=2`, {
      headers: { authorization: `Bearer ${key}`, "x-request-id": "identity-e2e-1", "x-gateway-identity": "spoofed" },
    });
    expect(res.status).toBe(200);
    const received = origin.received.slice(before);
    expect(received).toHaveLength(1);
    const token = received[0]!.headers["x-gateway-identity"];
    expect(typeof token).toBe("string");
    expect(token).not.toBe("spoofed");

    // What an origin does (docs/origin.md): fetch the JWKS once, cache it, verify every request.
    const jwks = createRemoteJWKSet(new URL("/.well-known/jwks.json", gw.url));
    const { payload, protectedHeader } = await jwtVerify(token as string, jwks, {
      issuer: "ats-edge-gateway",
      audience: "ats-origin",
      algorithms: ["EdDSA"],
      maxTokenAge: "60s",
    });
    expect(protectedHeader.alg).toBe("EdDSA");
    // Who is calling, per key; which request is X-Request-Id (docs/origin.md).
    expect(payload).toEqual({
      iss: "ats-edge-gateway",
      aud: "ats-origin",
      key_id: row.id,
      org: "acme",
      scopes: ["candidates:read"],
      mode: "live",
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect(received[0]!.headers["x-request-id"]).toBe("identity-e2e-1");
    expect(payload.exp! - payload.iat!).toBe(60);
    // The same identity in plain headers, for origins that trust the network instead.
    expect(received[0]!.headers["x-api-key-id"]).toBe(payload.key_id);
  });

  it("the JWKS is public and cacheable over HTTP", async () => {
    const res = await fetch(`${gw.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    const body = (await res.json()) as { keys: Record<string, string>[] };
    expect(body.keys[0]).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    expect(body.keys[0]!.d).toBeUndefined();
  });
});

describe("npm start's .dev.vars", () => {
  let dir = "";
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dev-vars-"));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("an existing file without a signing key gets one appended; the hash secret and other lines stay", async () => {
    const path = join(dir, "old.dev.vars");
    const original = "# mine\nKEY_HASH_SECRET=keep-this-secret-keep-this-secret-0123\nORIGIN_TOKEN=abcdefghijklmnopqrst";
    await writeFile(path, original);
    const result = await ensureDevVars(path);
    expect(result.action).toBe("appended");
    expect(result.added).toEqual(["IDENTITY_SIGNING_KEY"]);
    const text = await readFile(path, "utf8");
    expect(text.startsWith(`${original}\n`)).toBe(true);
    const vars = parseDevVars(text);
    expect(vars.KEY_HASH_SECRET).toBe("keep-this-secret-keep-this-secret-0123");
    expect(IdentityConfigSchema.shape.IDENTITY_SIGNING_KEY.safeParse(vars.IDENTITY_SIGNING_KEY).success).toBe(true);

    // A second run changes nothing.
    expect((await ensureDevVars(path)).action).toBe("unchanged");
    expect(await readFile(path, "utf8")).toBe(text);
  });

  it("a new file gets both secrets, each random", async () => {
    const a = await ensureDevVars(join(dir, "a.dev.vars"));
    const b = await ensureDevVars(join(dir, "b.dev.vars"));
    expect(a.action).toBe("created");
    expect(a.added).toEqual(["KEY_HASH_SECRET", "IDENTITY_SIGNING_KEY"]);
    expect(a.vars.IDENTITY_SIGNING_KEY).not.toBe(b.vars.IDENTITY_SIGNING_KEY);
    expect(JSON.parse(a.vars.IDENTITY_SIGNING_KEY!)).toMatchObject({ kty: "OKP", crv: "Ed25519" });
  });
});
