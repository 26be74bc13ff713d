import { env } from "cloudflare:workers";
import { calculateJwkThumbprint, compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { parseIdentityConfig } from "../../src/config.ts";
import { runtimeFor, signerOf } from "../../src/gateway/runtime.ts";
import { createSigner, IDENTITY_TTL_S } from "../../src/identity/signer.ts";
import { IDENTITY_REUSE_MS, IdentityTokens } from "../../src/identity/tokens.ts";
import { call, captureLogs, createKey, envelope, gatewayWith, originReceived, unique } from "./helpers.ts";

/** docs/origin.md "Signed identity for the origin": what an origin does with X-Gateway-Identity. */

const ISSUER = "ats-edge-gateway";
const AUDIENCE = "ats-origin";
// Another Ed25519 key pair (jose / node:crypto output), for rotation and tampering.
const OTHER_KEY = {
  kty: "OKP",
  crv: "Ed25519",
  d: "gqg7L70HRNNAUWngiG1TcXfi47tKjXmQoo_7xvB0Wgg",
  x: "7xKIMFMZlkgNV6CdrSDRscpAaxbbeH7miXZO05F7YcU",
};

async function jwksOf(fetcher: (path: string) => Promise<Response>): Promise<{ keys: JWK[] }> {
  const res = await fetcher("/.well-known/jwks.json");
  expect(res.status).toBe(200);
  return (await res.json()) as { keys: JWK[] };
}

async function identityReceived(requestId: string): Promise<string> {
  const got = await originReceived(requestId);
  expect(got).toHaveLength(1);
  const token = got[0]!.headers["x-gateway-identity"];
  expect(typeof token).toBe("string");
  return token as string;
}

describe("X-Gateway-Identity", () => {
  it("the origin verifies it against the JWKS; its claims say who is calling (the key), not which request", async () => {
    const { key, row } = await createKey(["candidates:write", "jobs:read"], { org: "acme" });
    const id = unique("req");
    const before = Math.floor(Date.now() / 1000);
    const res = await call("/api/v1/candidates/c_1/notes?x=1", { key, method: "POST", body: "{}", headers: { "x-request-id": id } });
    expect(res.status).toBe(200);
    const token = await identityReceived(id);

    const jwks = createLocalJWKSet(await jwksOf((p) => call(p)));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: AUDIENCE, algorithms: ["EdDSA"] });
    const [published] = (await jwksOf((p) => call(p))).keys;
    expect(protectedHeader).toEqual({ alg: "EdDSA", typ: "JWT", kid: await calculateJwkThumbprint(published!) });
    expect(payload).toEqual({
      iss: ISSUER,
      aud: AUDIENCE,
      key_id: row.id,
      org: "acme",
      scopes: ["candidates:write", "jobs:read"],
      mode: "live",
      iat: expect.any(Number),
      exp: expect.any(Number),
    });
    expect(payload.exp! - payload.iat!).toBe(IDENTITY_TTL_S);
    expect(IDENTITY_TTL_S).toBe(60);
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it("a tampered token, a token from another key, or an expired one fails verification", async () => {
    const { key } = await createKey(["jobs:read"], { org: "acme" });
    const id = unique("req");
    await call("/api/v1/jobs", { key, headers: { "x-request-id": id } });
    const token = await identityReceived(id);
    const jwks = createLocalJWKSet(await jwksOf((p) => call(p)));
    const opts = { issuer: ISSUER, audience: AUDIENCE, algorithms: ["EdDSA"] };

    const [header, payload, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(
      new TextDecoder().decode(Uint8Array.from(atob(payload.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0))),
    );
    const forged = btoa(JSON.stringify({ ...claims, org: "other-org" }))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    await expect(jwtVerify(`${header}.${forged}.${signature}`, jwks, opts)).rejects.toThrow(/signature verification failed/);
    const flipped = signature.slice(0, 10) + (signature[10] === "A" ? "B" : "A") + signature.slice(11);
    await expect(jwtVerify(`${header}.${payload}.${flipped}`, jwks, opts)).rejects.toThrow(/signature verification failed/);

    // Signed by a key the JWKS does not hold (same kid claimed): refused.
    const other = await createSigner(parseIdentityConfig({ IDENTITY_SIGNING_KEY: JSON.stringify(OTHER_KEY) }));
    const foreign = await other.sign({ key_id: "key_x", org: "acme", scopes: ["*"], mode: "live" }, Date.now());
    const [, foreignPayload, foreignSig] = foreign.split(".");
    await expect(jwtVerify(`${header}.${foreignPayload}.${foreignSig}`, jwks, opts)).rejects.toThrow(/signature verification failed/);

    // Past exp (jose's clock moved 61 s ahead).
    await expect(jwtVerify(token, jwks, { ...opts, currentDate: new Date(Date.now() + 61_000) })).rejects.toThrow(/"exp" claim/);
    // A wrong audience (another service's token) is refused too.
    await expect(jwtVerify(token, jwks, { ...opts, audience: "billing" })).rejects.toThrow(/"aud" claim/);
  });

  it("a client-sent X-Gateway-Identity never reaches the origin: the gateway's replaces it", async () => {
    const { key } = await createKey(["jobs:read"]);
    const id = unique("req");
    await call("/api/v1/jobs", { key, headers: { "x-request-id": id, "x-gateway-identity": "eyJhbGciOiJub25lIn0.e30." } });
    const token = await identityReceived(id);
    expect(token).not.toContain("eyJhbGciOiJub25lIn0");
    expect(decodeProtectedHeader(token).alg).toBe("EdDSA");
  });

  it("refused requests send the origin nothing, identity included", async () => {
    const { key } = await createKey(["jobs:read"]);
    const id = unique("req");
    expect((await call("/api/v1/candidates", { key, headers: { "x-request-id": id } })).status).toBe(403);
    expect(await originReceived(id)).toEqual([]);
  });

  it("IDENTITY_ISSUER and IDENTITY_AUDIENCE set iss and aud", async () => {
    const gw = gatewayWith({ IDENTITY_ISSUER: "https://api.example.com", IDENTITY_AUDIENCE: "ats-core" });
    const { key } = await createKey(["jobs:read"]);
    const id = unique("req");
    expect((await gw.fetch("/api/v1/jobs", { key, headers: { "x-request-id": id } })).status).toBe(200);
    const jwks = createLocalJWKSet(await jwksOf((p) => gw.fetch(p)));
    const { payload } = await jwtVerify(await identityReceived(id), jwks, { issuer: "https://api.example.com", audience: "ats-core" });
    expect(payload.key_id).toMatch(/^key_/);
  });
});

describe("one token per key, reused for half its lifetime", () => {
  it("a key's requests share one token until IDENTITY_REUSE_MS; other keys never get it", async () => {
    const gw = gatewayWith({});
    const { key, row } = await createKey(["jobs:read"], { org: "acme" });
    const { key: other, row: otherRow } = await createKey(["jobs:read"], { org: "acme" });
    const ids = [unique("req"), unique("req"), unique("req")];
    for (const [i, id] of ids.entries()) await gw.fetch("/api/v1/jobs", { key: i < 2 ? key : other, headers: { "x-request-id": id } });
    const [first, second, third] = await Promise.all(ids.map(identityReceived));
    expect(second).toBe(first);
    expect(third).not.toBe(first);
    expect(decodeJwt(first!).key_id).toBe(row.id);
    expect(decodeJwt(third!).key_id).toBe(otherRow.id);
    await gw.settle();
  });

  it("the cache: reused while younger than IDENTITY_REUSE_MS (30 s), signed again after; never across keys, modes or signing keys", async () => {
    const signer = await createSigner(parseIdentityConfig({ IDENTITY_SIGNING_KEY: env.IDENTITY_SIGNING_KEY }));
    const otherSigner = await createSigner(parseIdentityConfig({ IDENTITY_SIGNING_KEY: JSON.stringify(OTHER_KEY) }));
    const tokens = new IdentityTokens(10, false);
    const key = { key_id: "key_a", org: "acme", scopes: ["jobs:read"], mode: "live" as const };
    const req = { request_id: "r1", method: "GET", path: "/api/v1/jobs" };
    const t0 = Date.UTC(2026, 11, 4, 12);
    const first = await tokens.tokenFor(signer, key, req, t0);
    expect(tokens.tokenFor(signer, key, { ...req, request_id: "r2" }, t0 + IDENTITY_REUSE_MS - 1)).toBe(first);
    const renewed = await tokens.tokenFor(signer, key, req, t0 + IDENTITY_REUSE_MS);
    expect(decodeJwt(renewed).iat).toBe(decodeJwt(first).iat! + IDENTITY_REUSE_MS / 1000);
    expect(IDENTITY_REUSE_MS).toBe((IDENTITY_TTL_S * 1000) / 2);
    const test = await tokens.tokenFor(signer, { ...key, mode: "test" }, req, t0 + 1);
    expect(decodeJwt(test).mode).toBe("test");
    const foreign = await tokens.tokenFor(otherSigner, key, req, t0 + IDENTITY_REUSE_MS + 1);
    expect(decodeProtectedHeader(foreign).kid).not.toBe(decodeProtectedHeader(renewed).kid);
    tokens.drop("key_a");
    expect(tokens.tokenFor(otherSigner, key, req, t0 + IDENTITY_REUSE_MS + 2)).toBeInstanceOf(Promise);
  });

  it("a revoked key's token is dropped with it when the revocation feed reports it", async () => {
    const gw = gatewayWith({ REVOCATION_POLL_INTERVAL_MS: "100", REVOCATION_MAX_STALENESS_MS: "200" });
    const org = unique("org");
    const { key, row } = await createKey(["jobs:read"], { org });
    const { key: admin } = await createKey(["*"], { org });
    const id = unique("req");
    await gw.fetch("/api/v1/jobs", { key, headers: { "x-request-id": id } });
    const rt = runtimeFor(gw.env);
    const signer = await signerOf(rt);
    const identity = { key_id: row.id, org, scopes: ["jobs:read"], mode: "live" as const };
    const binding = { request_id: "x", method: "GET", path: "/" };
    expect(rt.identityTokens.tokenFor(signer, identity, binding, Date.now())).toBe(await identityReceived(id));
    expect((await call(`/api/v1/api-keys/${row.id}`, { method: "DELETE", key: admin })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 250));
    expect((await gw.fetch("/api/v1/jobs", { key })).status).toBe(401);
    await gw.settle();
    expect(rt.identityTokens.tokenFor(signer, identity, binding, Date.now())).toBeInstanceOf(Promise);
  });

  it("IDENTITY_BIND_REQUEST=true: a token per request that also carries its method, path and request id", async () => {
    const gw = gatewayWith({ IDENTITY_BIND_REQUEST: "true" });
    const { key } = await createKey(["candidates:write"]);
    const ids = [unique("req"), unique("req")];
    for (const id of ids)
      await gw.fetch("/api/v1/candidates/c_1/notes", { key, method: "POST", body: "{}", headers: { "x-request-id": id } });
    const tokens = await Promise.all(ids.map(identityReceived));
    expect(tokens[1]).not.toBe(tokens[0]);
    const jwks = createLocalJWKSet(await jwksOf((p) => gw.fetch(p)));
    const { payload } = await jwtVerify(tokens[0]!, jwks, { issuer: ISSUER, audience: AUDIENCE });
    expect(payload).toMatchObject({ request_id: ids[0], method: "POST", path: "/api/v1/candidates/c_1/notes" });
    await gw.settle();
  });
});

describe("GET /.well-known/jwks.json", () => {
  it("is public, cacheable, and holds only the public key with its RFC 7638 thumbprint as kid", async () => {
    const res = await call("/.well-known/jwks.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/jwk-set+json");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.headers.get("x-request-id")).toBeTruthy();
    const text = await res.text();
    const { keys } = JSON.parse(text) as { keys: JWK[] };
    expect(keys).toHaveLength(1);
    const fromSecret = JSON.parse(env.IDENTITY_SIGNING_KEY) as JWK;
    expect(keys[0]).toEqual({
      kty: "OKP",
      crv: "Ed25519",
      x: fromSecret.x,
      kid: await calculateJwkThumbprint(fromSecret),
      alg: "EdDSA",
      use: "sig",
    });
    expect(text).not.toContain(fromSecret.d!);
    expect(text).not.toContain('"d"');
  });

  it("HEAD answers too; other methods are 405", async () => {
    expect((await call("/.well-known/jwks.json", { method: "HEAD" })).status).toBe(200);
    const res = await call("/.well-known/jwks.json", { method: "POST" });
    expect(res.status).toBe(405);
    expect((await envelope(res)).errors[0]!.code).toBe("method_not_allowed");
  });

  it("during a rotation it publishes the previous key as well (public part only); tokens of either verify", async () => {
    // The old key signs, as the gateway did before the rotation...
    const old = await createSigner(parseIdentityConfig({ IDENTITY_SIGNING_KEY: JSON.stringify(OTHER_KEY) }));
    const oldToken = await old.sign({ key_id: "key_old", org: "acme", scopes: [], mode: "live" }, Date.now());
    // ...then the gateway switches to a new key and keeps the old one published.
    const gw = gatewayWith({ IDENTITY_SIGNING_KEY_PREVIOUS: JSON.stringify(OTHER_KEY) });
    const set = await jwksOf((p) => gw.fetch(p));
    expect(set.keys.map((k) => k.x)).toEqual([(JSON.parse(env.IDENTITY_SIGNING_KEY) as JWK).x, OTHER_KEY.x]);
    expect(JSON.stringify(set)).not.toContain(OTHER_KEY.d);
    const jwks = createLocalJWKSet(set);
    expect((await jwtVerify(oldToken, jwks, { issuer: ISSUER, audience: AUDIENCE })).payload.key_id).toBe("key_old");

    const { key } = await createKey(["jobs:read"]);
    const id = unique("req");
    await gw.fetch("/api/v1/jobs", { key, headers: { "x-request-id": id } });
    expect((await jwtVerify(await identityReceived(id), jwks, { issuer: ISSUER, audience: AUDIENCE })).payload.key_id).toMatch(/^key_/);
    // A public JWK is enough for the previous key.
    const publicOnly = gatewayWith({ IDENTITY_SIGNING_KEY_PREVIOUS: JSON.stringify({ kty: "OKP", crv: "Ed25519", x: OTHER_KEY.x }) });
    expect((await jwksOf((p) => publicOnly.fetch(p))).keys).toHaveLength(2);
  });
});

describe("signing-key configuration", () => {
  const { x, d } = JSON.parse(env.IDENTITY_SIGNING_KEY) as { x: string; d: string };
  const BAD: [string, string | undefined][] = [
    ["missing", undefined],
    ["not JSON", "-----BEGIN PRIVATE KEY-----"],
    ["an RSA key", JSON.stringify({ kty: "RSA", n: "abc", e: "AQAB", d: "xyz" })],
    ["another curve", JSON.stringify({ kty: "OKP", crv: "X25519", x, d })],
    ["a public key only", JSON.stringify({ kty: "OKP", crv: "Ed25519", x })],
    ["a truncated d", JSON.stringify({ kty: "OKP", crv: "Ed25519", x, d: d.slice(0, 40) })],
    // Parses, but x is not d's public key: found when the key is imported, still a 500 everywhere.
    ["x of another key", JSON.stringify({ kty: "OKP", crv: "Ed25519", x: OTHER_KEY.x, d })],
  ];
  it.each(BAD)(
    "%s: every request is 500 internal_error with a log line naming the setting, /healthz names it too, the key never echoed",
    async (_, value) => {
      const gw = gatewayWith({ IDENTITY_SIGNING_KEY: value });
      const { key } = await createKey(["jobs:read"]);
      const id = unique("req");
      const { lines, raw } = await captureLogs(async () => {
        for (const path of ["/healthz", "/.well-known/jwks.json", "/api/v1/jobs", "/api/v1/api-keys/self"]) {
          const res = await gw.fetch(path, { key, headers: { "x-request-id": id } });
          expect(res.status, path).toBe(500);
          const body = await envelope(res);
          expect(body.errors).toEqual([{ code: "internal_error", message: "The gateway is misconfigured" }]);
          if (path === "/healthz") expect(body.data).toEqual({ status: "misconfigured", settings: ["IDENTITY_SIGNING_KEY"] });
        }
      });
      const config = lines.filter((l) => l.event === "config_invalid");
      expect(config).toHaveLength(4);
      for (const line of config) {
        expect(line.settings).toEqual(["IDENTITY_SIGNING_KEY"]);
        expect(line.message).toContain("IDENTITY_SIGNING_KEY");
      }
      expect(raw).not.toContain(d);
      expect(raw).not.toContain(d.slice(0, 40));
      expect(await originReceived(id)).toEqual([]);
    },
  );

  it("IDENTITY_SIGNING_KEY_PREVIOUS that is not an Ed25519 JWK is a 500 too", async () => {
    const gw = gatewayWith({ IDENTITY_SIGNING_KEY_PREVIOUS: "old-key" });
    expect((await gw.fetch("/healthz")).status).toBe(500);
  });

  it("the example file's placeholder is refused by name, like any invalid key", async () => {
    const gw = gatewayWith({ IDENTITY_SIGNING_KEY: '{"kty":"OKP","crv":"Ed25519","x":"REPLACE-ME","d":"REPLACE-ME"}' });
    const { lines } = await captureLogs(async () => {
      const body = await envelope(await gw.fetch("/healthz"));
      expect(body.data).toEqual({ status: "misconfigured", settings: ["IDENTITY_SIGNING_KEY"] });
    });
    expect(lines.find((l) => l.event === "config_invalid")?.message).toMatch(/IDENTITY_SIGNING_KEY is still the example's placeholder/);
  });
});

describe("signing cost inside workerd", () => {
  it("one identity token: measured and printed (docs/performance.md)", async () => {
    const signer = await createSigner(parseIdentityConfig(env));
    const identity = {
      key_id: "key_0123456789ABCDEFabcd",
      org: "acme",
      scopes: ["candidates:read", "candidates:write", "jobs:read"],
      mode: "live" as const,
      request_id: crypto.randomUUID(),
      method: "GET",
      path: "/api/v1/candidates/c_123/applications",
    };
    for (let i = 0; i < 200; i++) await signer.sign(identity, Date.now());
    const n = 3_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await signer.sign(identity, Date.now());
    const us = ((performance.now() - t0) * 1000) / n;
    console.warn(`identity token: ${us.toFixed(1)} µs per signature (${n} signatures)`);
    const token = await signer.sign(identity, Date.now());
    expect(token.length).toBeLessThan(700);
    const { payload } = await compactVerify(token, createLocalJWKSet(JSON.parse(signer.jwks) as { keys: JWK[] }));
    expect(payload.byteLength).toBeGreaterThan(0);
    expect(us).toBeLessThan(1_000);
  });
});
