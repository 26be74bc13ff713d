import { describe, expect, it } from "vitest";
import { ConfigError, DEFAULT_ROLE_SCOPES, parseOidcConfig } from "../../src/config.ts";
import { Sealer } from "../../src/people/sealed.ts";
import { DEFAULT_ROUTES } from "../../src/routes/table.ts";
import { signingAlgorithms } from "../../src/people/jwks.ts";
import { personFromClaims } from "../../src/people/person.ts";
import { GatewayError } from "../../src/errors.ts";
import { call, createKey, envelope, gatewayWith, unique } from "./helpers.ts";

/**
 * Sign-in inside workerd: the configuration, and what needs no identity
 * provider (sessions already sealed, refusals before any provider contact).
 * The code flow against a real provider is test/node/sign-in.e2e.test.ts.
 */

const OIDC = {
  OIDC_ISSUER: "https://idp.example.test",
  OIDC_CLIENT_ID: "gateway",
  OIDC_CLIENT_SECRET: "a-real-client-secret",
  SESSION_SECRET: "worker-test-session-secret-0123456789abcdef",
};

describe("sign-in configuration", () => {
  it("is off without OIDC_ISSUER, with documented defaults when on", () => {
    expect(parseOidcConfig({})).toBeNull();
    expect(parseOidcConfig({ OIDC_ISSUER: "" })).toBeNull();
    expect(parseOidcConfig(OIDC)).toMatchObject({
      OIDC_ORG_CLAIM: "org_id",
      OIDC_ROLES_CLAIM: "roles",
      OIDC_ROLE_SCOPES: DEFAULT_ROLE_SCOPES,
      OIDC_AUDIENCE: "gateway",
      OIDC_SCOPES: "openid email profile offline_access",
      OIDC_TOKEN_AUTH_METHOD: "client_secret_basic",
      SESSION_REFRESH_INTERVAL_S: 300,
      SESSION_LIFETIME_S: 28_800,
    });
  });

  it.each([
    [{ SESSION_SECRET: "too-short" }, "SESSION_SECRET"],
    [{ SESSION_SECRET: "replace-with-at-least-32-random-bytes-e.g.-openssl-rand" }, "SESSION_SECRET"],
    [{ OIDC_CLIENT_SECRET: "replace-with-the-client-secret" }, "OIDC_CLIENT_SECRET"],
    [{ OIDC_CLIENT_SECRET: undefined }, "OIDC_CLIENT_SECRET"],
    [{ OIDC_ISSUER: "http://idp.example.test" }, "OIDC_ISSUER"],
    [{ OIDC_ROLE_SCOPES: '{"admin":["api_keys:sudo"]}' }, "OIDC_ROLE_SCOPES"],
    [{ OIDC_ROLE_SCOPES: "not json" }, "OIDC_ROLE_SCOPES"],
    [{ OIDC_SCOPES: "email profile" }, "OIDC_SCOPES"],
    [{ SESSION_REFRESH_INTERVAL_S: "600", SESSION_LIFETIME_S: "300" }, "SESSION_LIFETIME_S"],
  ])("refuses %o, naming %s but never a value", (change, name) => {
    const attempt = () => parseOidcConfig({ ...OIDC, ...change });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(name);
    expect(attempt).not.toThrow(OIDC.SESSION_SECRET);
  });

  it("allows http for a loopback issuer only (the local identity provider)", () => {
    expect(parseOidcConfig({ ...OIDC, OIDC_ISSUER: "http://127.0.0.1:8789" })?.OIDC_ISSUER).toBe("http://127.0.0.1:8789");
  });
});

describe("what a provider's keys and claims allow", () => {
  it("pins algorithms to the signing keys: never none, never an HMAC, never an encryption key", () => {
    expect(
      signingAlgorithms([
        { kty: "RSA", n: "x", e: "AQAB" },
        { kty: "EC", crv: "P-256", x: "x", y: "y", alg: "ES256" },
        { kty: "OKP", crv: "Ed25519", x: "x" },
        { kty: "RSA", n: "x", e: "AQAB", use: "enc", alg: "RSA-OAEP" },
        { kty: "oct", k: "secret", alg: "HS256" },
        { kty: "RSA", n: "x", e: "AQAB", alg: "none" },
      ]),
    ).toEqual(["RS256", "ES256", "EdDSA"]);
    expect(signingAlgorithms([{ kty: "oct", k: "secret" }])).toEqual([]);
  });

  it("maps roles through OIDC_ROLE_SCOPES; no organization or no mapped role is a 403", () => {
    const config = parseOidcConfig({
      ...OIDC,
      OIDC_ROLE_SCOPES: '{"admin":["api_keys:read","api_keys:write"],"viewer":["api_keys:read"]}',
    })!;
    const base = { sub: "u", email: "u@example.test", org_id: "acme" };
    expect(personFromClaims({ ...base, roles: ["viewer", "admin"] }, config).scopes.sort()).toEqual(["api_keys:read", "api_keys:write"]);
    expect(personFromClaims({ ...base, roles: "viewer" }, config).scopes).toEqual(["api_keys:read"]);
    for (const claims of [
      { ...base, roles: ["intern"] },
      { ...base, roles: ["__proto__", "constructor", "toString"] },
      { ...base, roles: [] },
      { sub: "u", roles: ["admin"] },
      { ...base, org_id: "", roles: ["admin"] },
      { ...base, org_id: ["acme"], roles: ["admin"] },
      { ...base, sub: undefined, roles: ["admin"] },
    ]) {
      expect(() => personFromClaims(claims, config), JSON.stringify(claims)).toThrow(GatewayError);
    }
  });
});

describe("the route table keeps people off the proxied path", () => {
  it("every proxied route takes a key only; people reach the management API, /api/v1/session and /settings only", () => {
    for (const r of DEFAULT_ROUTES) {
      if (r.target === "origin") expect(r.access, r.pattern).toBe("key");
      if (r.access === "key_or_person") expect(r.pattern).toMatch(/^\/api\/v1\/(api-keys|session)/);
    }
  });
});

describe("without OIDC_ISSUER", () => {
  it("has no sign-in routes, and /api/v1/session answers for keys only", async () => {
    expect((await call("/settings/login")).status).toBe(404);
    expect((await call("/settings/callback?code=x&state=y")).status).toBe(404);
    expect((await call("/settings/logout", { method: "POST", headers: { origin: "https://api.example.test" } })).status).toBe(404);
    expect((await call("/api/v1/session")).status).toBe(401);
    const { key, row } = await createKey(["api_keys:read"]);
    const res = await call("/api/v1/session", { key });
    expect(await envelope(res)).toEqual({
      success: true,
      data: { actor: { type: "key", id: row.id }, organization_id: row.organization_id, scopes: ["api_keys:read"] },
      errors: [],
    });
  });

  it("ignores a session cookie: the management API wants a key, as before", async () => {
    const res = await call("/api/v1/api-keys", { headers: { cookie: "__Host-gw_session=whatever" } });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBeNull();
  });
});

describe("with OIDC configured, a sealed session", () => {
  const gw = gatewayWith(OIDC);
  const org = unique("org");
  const now = Date.now();
  const session = (secret: string, since = now, refreshed = now) =>
    new Sealer(secret).seal(
      "session",
      {
        claims: { sub: "u1", email: "u1@example.test", name: "U One", org_id: org, roles: ["admin"] },
        rt: "r",
        idt: null,
        since,
        refreshed,
      },
      since + 8 * 3600_000,
    );
  const same = { origin: "https://api.example.test", "sec-fetch-site": "same-origin" };

  it("is the __Host- cookie on https: the person lists their organization's keys", async () => {
    const { row } = await createKey(["candidates:read"], { org });
    const cookie = `__Host-gw_session=${await session(OIDC.SESSION_SECRET)}`;
    const res = await gw.fetch("/api/v1/api-keys", { headers: { cookie, ...same } });
    expect(res.status).toBe(200);
    const items = ((await envelope(res)).data as { items: { id: string }[] }).items;
    expect(items.map((k) => k.id)).toEqual([row.id]);
    // The plain-http name means nothing on https.
    expect((await gw.fetch("/api/v1/api-keys", { headers: { cookie: cookie.replace("__Host-", ""), ...same } })).status).toBe(401);
  });

  it("the page leads with “Sign in with {OIDC_DISPLAY_NAME}”, keeps the API key as the second way, and asks who only with a cookie", async () => {
    const named = gatewayWith({ ...OIDC, OIDC_DISPLAY_NAME: "Acme <SSO>" });
    const anonymous = await named.fetch("/settings/api-keys");
    expect(anonymous.status).toBe(200);
    expect(anonymous.headers.get("vary")).toBe("cookie");
    const html = await anonymous.text();
    expect(html).toContain('<a class="button primary" id="person-signin-link" href="/settings/login">Sign in with Acme &lt;SSO&gt;</a>');
    expect(html.indexOf("person-signin-link")).toBeLessThan(html.indexOf("Or sign in with an API key"));
    expect(html).toContain('id="signin-key"');
    expect(html).not.toContain('data-session="cookie"');
    const withCookie = await named.fetch("/settings/api-keys", { headers: { cookie: "__Host-gw_session=anything" } });
    expect(await withCookie.text()).toContain('data-session="cookie"');
    // Without OIDC_ISSUER the page is as it was: no person sign-in at all.
    const plain = await (await call("/settings/api-keys")).text();
    expect(plain).not.toContain("person-signin");
    expect(plain).toContain('<h2 id="signin-title">Sign in with an API key</h2>');
  });

  it("refuses a cross-site request before it is even opened, and creates nothing", async () => {
    const cookie = `__Host-gw_session=${await session(OIDC.SESSION_SECRET)}`;
    const count = async () =>
      ((await envelope(await gw.fetch("/api/v1/api-keys", { headers: { cookie, ...same } }))).data as { items: unknown[] }).items.length;
    const before = await count();
    const res = await gw.fetch("/api/v1/api-keys", {
      method: "POST",
      headers: { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site", "content-type": "application/json" },
      body: JSON.stringify({ name: "csrf", scopes: ["candidates:read"] }),
    });
    expect(res.status).toBe(403);
    expect((await envelope(res)).errors[0]!.code).toBe("forbidden");
    expect(await count()).toBe(before);
  });

  it("made under another secret is 401 and cleared with Secure, HttpOnly, SameSite=Lax", async () => {
    const cookie = `__Host-gw_session=${await session("another-secret-0123456789abcdef0123456789")}`;
    const res = await gw.fetch("/api/v1/api-keys", { headers: { cookie, ...same } });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toBe("__Host-gw_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure");
  });

  it("ends after SESSION_LIFETIME_S from sign-in, whatever the cookie's own expiry says", async () => {
    const short = gatewayWith({ ...OIDC, SESSION_LIFETIME_S: "60", SESSION_REFRESH_INTERVAL_S: "30" });
    const fresh = `__Host-gw_session=${await session(OIDC.SESSION_SECRET, Date.now() - 20_000, Date.now() - 20_000)}`;
    expect((await short.fetch("/api/v1/session", { headers: { cookie: fresh, ...same } })).status).toBe(200);
    const old = `__Host-gw_session=${await session(OIDC.SESSION_SECRET, Date.now() - 61_000, Date.now() - 1_000)}`;
    const res = await short.fetch("/api/v1/session", { headers: { cookie: old, ...same } });
    expect(res.status).toBe(401);
    expect(res.headers.get("set-cookie")).toMatch(/^__Host-gw_session=; .*Max-Age=0/);
  });

  it("never reaches a proxied route: the origin's routes still want a key", async () => {
    const cookie = `__Host-gw_session=${await session(OIDC.SESSION_SECRET)}`;
    const res = await gw.fetch("/api/v1/candidates", { headers: { cookie, ...same } });
    expect(res.status).toBe(401);
  });
});
