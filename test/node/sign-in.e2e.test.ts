import { generateKeyPair, exportJWK, importJWK, SignJWT, type JWK } from "jose";
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PEOPLE, freshSigningKey, gatewayVars, startLocalIdp, type DemoPerson, type LocalIdp } from "../../scripts/local-idp.ts";
import { Sealer } from "../../src/people/sealed.ts";
import { startGateway, type Gateway } from "../support/gateway-server.ts";
import { beginSignIn, CookieJar, send, signIn, throughProvider } from "../support/oidc-flow.ts";
import { freePorts } from "../support/processes.ts";

/**
 * Signing people in, end to end: the real gateway (wrangler dev) and the real
 * identity provider (oidc-provider, scripts/local-idp.ts) over HTTP, the code
 * flow driven step by step. Every refusal checks that nothing changed: no
 * session cookie set, no key created or revoked.
 */

const SESSION_SECRET = "sign-in-e2e-session-secret-0123456789abcdef";
const REFRESH_S = 4;
const PASSWORD = "correct horse battery staple";
const extra = (sub: string, email: string, org_id: string | null, roles: string[]): DemoPerson => ({
  sub,
  email,
  password: PASSWORD,
  name: sub,
  org_id,
  roles,
});
const OTHER_ADMIN = extra("other-admin", "admin@other.test", "other", ["admin"]);
const NO_ORG = extra("no-org", "noorg@demo.test", null, ["admin"]);
const NO_ROLE = extra("no-role", "norole@demo.test", "demo", ["intern"]);
const LEAVER = extra("leaver", "leaver@demo.test", "demo", ["admin"]);
const PEOPLE: DemoPerson[] = [...DEMO_PEOPLE, OTHER_ADMIN, NO_ORG, NO_ROLE, LEAVER];
const [ADMIN, VIEWER] = DEMO_PEOPLE as [DemoPerson, DemoPerson];

let idp: LocalIdp;
let gw: Gateway;
let gateway: string;
let signingKey: JWK;

beforeAll(async () => {
  const [port] = await freePorts(1);
  gateway = `http://127.0.0.1:${port}`;
  signingKey = await freshSigningKey();
  idp = await startLocalIdp({ gatewayOrigins: [gateway], signingKey, people: PEOPLE });
  gw = await startGateway({
    originUrl: "http://127.0.0.1:9",
    port,
    vars: { ...gatewayVars(idp, SESSION_SECRET), SESSION_REFRESH_INTERVAL_S: String(REFRESH_S), OIDC_DISPLAY_NAME: "Demo IdP" },
  });
}, 120_000);

afterAll(async () => {
  const problems = gw?.logs().filter((l) => l.level === "error" || l.level === "warn") ?? [];
  if (problems.length > 0) console.log(problems);
  await gw?.close();
  await idp?.close();
});

const sessionCookieName = "gw_session";

async function signedIn(person: DemoPerson): Promise<CookieJar> {
  const { jar, callback } = await signIn(gateway, person.email, person.password);
  expect(callback.status).toBe(302);
  return jar;
}

/** A same-origin call as the page makes it. */
async function api(jar: CookieJar, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await send(jar, {
    url: `${gateway}${path}`,
    method,
    headers: {
      origin: gateway,
      "sec-fetch-site": "same-origin",
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    body: body === undefined ? undefined : (JSON.stringify(body) as unknown as URLSearchParams),
  });
  return {
    status: res.status,
    headers: res.headers,
    // biome-ignore lint/suspicious/noExplicitAny: each call answers its own shape, which the test reads field by field
    body: (await res.json()) as { success: boolean; data: any; errors: { code: string; message: string }[] },
  };
}

async function countKeys(org: string): Promise<number> {
  const row = await gw.db.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE organization_id = ?").bind(org).first<{ n: number }>();
  return row?.n ?? 0;
}

const newKey = (name: string) => ({ name, scopes: ["candidates:read"] });

describe("the code flow against the local identity provider", () => {
  it("signs a person in: a sealed HttpOnly SameSite=Lax cookie, and /api/v1/session says who", async () => {
    const { jar, callback } = await signIn(gateway, ADMIN.email, ADMIN.password);
    expect(callback.status).toBe(302);
    expect(callback.headers.get("location")).toBe(`${gateway}/settings/api-keys`);
    const cookies = callback.headers.getSetCookie();
    const session = cookies.find((c) => c.startsWith(`${sessionCookieName}=`))!;
    expect(session).toMatch(/; HttpOnly/);
    expect(session).toMatch(/; SameSite=Lax/);
    expect(session).not.toMatch(/Secure/); // plain http locally; https adds Secure and the __Host- prefix
    expect(cookies.some((c) => /^gw_signin=; .*Max-Age=0/.test(c))).toBe(true);
    // Nothing a script or the URL could read: no token in the cookie's clear text or the redirect.
    expect(session).not.toContain(ADMIN.email);
    const me = await api(jar, "GET", "/api/v1/session");
    expect(me.status).toBe(200);
    expect(me.body).toEqual({
      success: true,
      data: { actor: { type: "user", id: ADMIN.sub, email: ADMIN.email, name: ADMIN.name }, organization_id: "demo", scopes: ["*"] },
      errors: [],
    });
  });

  it("the login redirect asks for the code with PKCE S256, state and nonce", async () => {
    const { authorize, jar } = await beginSignIn(gateway);
    expect(authorize.origin).toBe(idp.issuer);
    expect(authorize.searchParams.get("response_type")).toBe("code");
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get("state")).toBeTruthy();
    expect(authorize.searchParams.get("nonce")).toBeTruthy();
    expect(authorize.searchParams.get("redirect_uri")).toBe(`${gateway}/settings/callback`);
    expect(jar.get("gw_signin")).toBeTruthy();
  });

  it("a person creates, lists and revokes keys with the cookie; the key and its events name them", async () => {
    const jar = await signedIn(ADMIN);
    const created = await api(jar, "POST", "/api/v1/api-keys", newKey("made by a person"));
    expect(created.status).toBe(201);
    expect(created.body.data.created_by).toEqual({ type: "user", id: ADMIN.sub, email: ADMIN.email });
    expect(created.body.data.organization_id).toBe("demo");
    const list = await api(jar, "GET", "/api/v1/api-keys");
    expect(list.body.data.items.map((k: { id: string }) => k.id)).toContain(created.body.data.id);
    const revoked = await api(jar, "DELETE", `/api/v1/api-keys/${created.body.data.id}`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.state).toBe("revoked");
    const events = await api(jar, "GET", `/api/v1/api-keys/${created.body.data.id}/events`);
    expect(events.body.data.items.map((e: { type: string; actor: unknown }) => [e.type, e.actor])).toEqual([
      ["created", { type: "user", id: ADMIN.sub, email: ADMIN.email }],
      ["revoked", { type: "user", id: ADMIN.sub, email: ADMIN.email }],
    ]);
  });

  it("signs out: the cookie is cleared and the provider's logout URL is named", async () => {
    const jar = await signedIn(ADMIN);
    const out = await api(jar, "POST", "/settings/logout");
    expect(out.status).toBe(200);
    expect(out.body.data.end_session_url).toMatch(new RegExp(`^${idp.issuer}/`));
    expect(new URL(out.body.data.end_session_url).searchParams.get("post_logout_redirect_uri")).toBe(`${gateway}/settings/api-keys`);
    expect(out.headers.getSetCookie().some((c) => /^gw_session=; .*Max-Age=0/.test(c))).toBe(true);
    expect((await api(jar, "GET", "/api/v1/session")).status).toBe(401);
  });
});

describe("refusals, each changing nothing", () => {
  it("a cross-site POST, or one that names no origin, is 403 and creates nothing", async () => {
    const jar = await signedIn(ADMIN);
    const before = await countKeys("demo");
    for (const headers of [
      { origin: "https://evil.example", "sec-fetch-site": "cross-site" },
      { origin: "https://evil.example", "sec-fetch-site": "" },
      { "sec-fetch-site": "same-site", origin: "" },
      { origin: "", "sec-fetch-site": "" },
    ]) {
      const clean = Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== ""));
      const res = await send(jar, {
        url: `${gateway}/api/v1/api-keys`,
        method: "POST",
        headers: { "content-type": "application/json", ...clean },
        body: JSON.stringify(newKey("csrf")) as unknown as URLSearchParams,
      });
      expect(res.status, JSON.stringify(clean)).toBe(403);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe("forbidden");
    }
    expect(await countKeys("demo")).toBe(before);
  });

  it("a viewer can list but not create", async () => {
    const jar = await signedIn(VIEWER);
    expect((await api(jar, "GET", "/api/v1/api-keys")).status).toBe(200);
    const before = await countKeys("demo");
    const res = await api(jar, "POST", "/api/v1/api-keys", newKey("viewer's"));
    expect(res.status).toBe(403);
    expect(res.body.errors[0]!.message).toMatch(/api_keys:write/);
    expect(await countKeys("demo")).toBe(before);
  });

  it("a person of another organization neither sees nor revokes demo's keys", async () => {
    const admin = await signedIn(ADMIN);
    const key = (await api(admin, "POST", "/api/v1/api-keys", newKey("demo's"))).body.data as { id: string };
    const other = await signedIn(OTHER_ADMIN);
    const list = await api(other, "GET", "/api/v1/api-keys");
    expect(list.status).toBe(200);
    expect(list.body.data.items.map((k: { id: string }) => k.id)).not.toContain(key.id);
    expect((await api(other, "GET", `/api/v1/api-keys/${key.id}`)).status).toBe(404);
    expect((await api(other, "DELETE", `/api/v1/api-keys/${key.id}`)).status).toBe(404);
    expect((await api(admin, "GET", `/api/v1/api-keys/${key.id}`)).body.data.state).toBe("active");
  });

  it("a person without the organization claim, or without a mapped role, gets 403 and no session", async () => {
    for (const person of [NO_ORG, NO_ROLE]) {
      const { callback } = await signIn(gateway, person.email, person.password);
      expect(callback.status, person.email).toBe(403);
      const body = (await callback.json()) as { errors: { code: string; message: string }[] };
      expect(body.errors[0]!.code).toBe("forbidden");
      expect(callback.headers.getSetCookie().some((c) => c.startsWith("gw_session=") && !c.startsWith("gw_session=;"))).toBe(false);
    }
  });

  it("a browser sees the refusal as a page with the same status and message, and a way back", async () => {
    const { jar, authorize } = await beginSignIn(gateway);
    const back = await throughProvider(new CookieJar(), authorize.href, NO_ORG.email, NO_ORG.password, `${gateway}/settings/callback`);
    const res = await send(jar, { url: back, headers: { accept: "text/html,application/xhtml+xml" } });
    expect(res.status).toBe(403);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain("Your account belongs to no organization");
    expect(html).toContain('<a href="/settings/api-keys">');
    expect(jar.get(sessionCookieName)).toBeUndefined();
  });

  it("a state that is not this browser's is refused", async () => {
    const a = await beginSignIn(gateway);
    const b = await beginSignIn(gateway);
    const back = await throughProvider(new CookieJar(), b.authorize.href, ADMIN.email, ADMIN.password, `${gateway}/settings/callback`);
    const res = await send(a.jar, { url: back });
    expect(res.status).toBe(400);
    expect(a.jar.get(sessionCookieName)).toBeUndefined();
  });

  it("a missing nonce, or another sign-in's nonce, is refused", async () => {
    const missing = await signIn(gateway, ADMIN.email, ADMIN.password, (u) => u.searchParams.delete("nonce"));
    expect(missing.callback.status).toBe(400);
    expect(missing.jar.get(sessionCookieName)).toBeUndefined();

    // B's request carrying A's state and PKCE challenge: both match A's cookie, only the nonce is B's.
    const a = await beginSignIn(gateway);
    const b = await beginSignIn(gateway);
    b.authorize.searchParams.set("state", a.authorize.searchParams.get("state")!);
    b.authorize.searchParams.set("code_challenge", a.authorize.searchParams.get("code_challenge")!);
    const back = await throughProvider(new CookieJar(), b.authorize.href, ADMIN.email, ADMIN.password, `${gateway}/settings/callback`);
    const res = await send(a.jar, { url: back });
    expect(res.status).toBe(400);
    expect(a.jar.get(sessionCookieName)).toBeUndefined();
  });

  it("a callback replayed with its sign-in cookie is refused", async () => {
    const { jar, authorize } = await beginSignIn(gateway);
    const signinCookie = jar.get("gw_signin")!;
    const back = await throughProvider(new CookieJar(), authorize.href, ADMIN.email, ADMIN.password, `${gateway}/settings/callback`);
    expect((await send(jar, { url: back })).status).toBe(302);
    const replay = new CookieJar();
    replay.set("gw_signin", signinCookie);
    const res = await send(replay, { url: back });
    expect(res.status).toBe(400);
    expect(replay.get(sessionCookieName)).toBeUndefined();
  });

  it("tampered, expired and foreign-secret session cookies are 401, cleared, and change nothing", async () => {
    const jar = await signedIn(ADMIN);
    const good = jar.get(sessionCookieName)!;
    const now = Date.now();
    const data = { claims: { sub: ADMIN.sub, email: ADMIN.email, org_id: "demo", roles: ["admin"] }, rt: null, idt: null };
    const expired = await new Sealer(SESSION_SECRET).seal(
      "session",
      { ...data, since: now - 10 * 3600_000, refreshed: now - 1000 },
      now - 1000,
    );
    const foreign = await new Sealer("another-session-secret-0123456789abcdefgh").seal(
      "session",
      { ...data, since: now, refreshed: now },
      now + 3600_000,
    );
    const flip = good.slice(0, -5) + (good.at(-5) === "A" ? "B" : "A") + good.slice(-4);
    const before = await countKeys("demo");
    for (const [what, value] of [
      ["tampered", flip],
      ["expired", expired],
      ["foreign", foreign],
    ] as const) {
      const bad = new CookieJar();
      bad.set(sessionCookieName, value);
      const res = await api(bad, "POST", "/api/v1/api-keys", newKey(what));
      expect(res.status, what).toBe(401);
      expect(
        res.headers.getSetCookie().some((c) => /^gw_session=; .*Max-Age=0/.test(c)),
        what,
      ).toBe(true);
      expect((await api(bad, "GET", "/api/v1/session")).status, what).toBe(401);
    }
    expect(await countKeys("demo")).toBe(before);
  });
});

describe("bearer access tokens from the identity provider", () => {
  /** The platform's backend: a code flow of its own asking for the management API's audience. */
  async function accessToken(person: DemoPerson): Promise<string> {
    const verifier = "v".repeat(43) + Math.random().toString(36).slice(2);
    const challenge = Buffer.from(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier))).toString("base64url");
    const redirect = `${gateway}/settings/callback`;
    const authorize = new URL(`${idp.issuer}/auth`);
    for (const [k, v] of Object.entries({
      client_id: idp.clientId,
      redirect_uri: redirect,
      response_type: "code",
      scope: "openid api_keys",
      resource: idp.audience,
      code_challenge: challenge,
      code_challenge_method: "S256",
      state: "s",
    })) {
      authorize.searchParams.set(k, v);
    }
    const back = new URL(await throughProvider(new CookieJar(), authorize.href, person.email, person.password, redirect));
    const res = await fetch(`${idp.issuer}/token`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${idp.clientId}:${idp.clientSecret}`).toString("base64")}`,
        "content-type": "application/x-www-form-urlencoded",
      },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: back.searchParams.get("code")!,
        redirect_uri: redirect,
        code_verifier: verifier,
        resource: idp.audience,
      }),
    });
    const body = (await res.json()) as { access_token?: string };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.access_token!.split(".")).toHaveLength(3);
    return body.access_token!;
  }

  const bearer = (token: string, method = "GET", path = "/api/v1/api-keys", body?: unknown) =>
    fetch(`${gateway}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("manages the organization's keys on behalf of the person", async () => {
    const token = await accessToken(ADMIN);
    expect((await bearer(token)).status).toBe(200);
    const created = await bearer(token, "POST", "/api/v1/api-keys", newKey("by the backend"));
    expect(created.status).toBe(201);
    expect(((await created.json()) as { data: { created_by: unknown } }).data.created_by).toEqual({
      type: "user",
      id: ADMIN.sub,
      email: ADMIN.email,
    });
    const viewer = await accessToken(VIEWER);
    expect((await bearer(viewer, "POST", "/api/v1/api-keys", newKey("viewer"))).status).toBe(403);
  });

  it("refuses wrong aud, wrong iss, expired, alg none, HS256 with the public key, and another IdP's token", async () => {
    const real = await accessToken(ADMIN);
    const claims = JSON.parse(Buffer.from(real.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
    const key = await importJWK(signingKey, "RS256");
    const now = Math.floor(Date.now() / 1000);
    const sign = (payload: Record<string, unknown>, k = key, kid = signingKey.kid!) =>
      new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid, typ: "at+jwt" }).sign(k);
    const other = await generateKeyPair("RS256", { extractable: true });
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = signingKey;
    const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const hsHeader = b64({ alg: "HS256", kid: signingKey.kid, typ: "at+jwt" });
    const hsPayload = b64(claims);
    const hsSig = createHmac("sha256", JSON.stringify(publicJwk)).update(`${hsHeader}.${hsPayload}`).digest("base64url");
    expect((await exportJWK(other.publicKey)).kty).toBe("RSA");
    const forged: [string, string][] = [
      ["control: re-signed with the IdP's key", await sign(claims)],
      ["wrong aud", await sign({ ...claims, aud: "urn:someone-else" })],
      ["wrong iss", await sign({ ...claims, iss: "http://127.0.0.1:1" })],
      ["expired", await sign({ ...claims, iat: now - 7200, exp: now - 3600 })],
      ["alg none", `${b64({ alg: "none", typ: "at+jwt" })}.${b64(claims)}.`],
      ["HS256 with the public key", `${hsHeader}.${hsPayload}.${hsSig}`],
      ["another IdP", await sign(claims, other.privateKey, "other-idp")],
      ["another IdP, same kid", await sign(claims, other.privateKey)],
    ];
    const before = await countKeys("demo");
    for (const [what, token] of forged) {
      const res = await bearer(token, "POST", "/api/v1/api-keys", newKey(what));
      if (what.startsWith("control")) {
        expect(res.status, what).toBe(201);
        continue;
      }
      expect(res.status, what).toBe(401);
      expect(((await res.json()) as { errors: { code: string }[] }).errors[0]!.code, what).toBe("unauthorized");
    }
    expect(await countKeys("demo")).toBe(before + 1);
  });
});

describe("refresh", () => {
  it(`a person disabled at the provider loses access within SESSION_REFRESH_INTERVAL_S (${REFRESH_S} s here)`, async () => {
    const leaver = LEAVER;
    const jar = await signedIn(leaver);
    expect((await api(jar, "GET", "/api/v1/session")).status).toBe(200);
    idp.setDisabled(leaver.email, true);
    try {
      // Within the interval the session stands (no provider round trip per request)…
      expect((await api(jar, "GET", "/api/v1/api-keys")).status).toBe(200);
      await new Promise((r) => setTimeout(r, REFRESH_S * 1000 + 500));
      // …after it, the refresh is refused and the session ends.
      const before = await countKeys("demo");
      const res = await api(jar, "POST", "/api/v1/api-keys", newKey("after leaving"));
      expect(res.status).toBe(401);
      expect(res.headers.getSetCookie().some((c) => /^gw_session=; .*Max-Age=0/.test(c))).toBe(true);
      expect(await countKeys("demo")).toBe(before);
    } finally {
      idp.setDisabled(leaver.email, false);
    }
  });

  it("an active person's session is renewed after the interval, with a new cookie on whatever answer", async () => {
    const jar = await signedIn(ADMIN);
    const first = jar.get(sessionCookieName);
    await new Promise((r) => setTimeout(r, REFRESH_S * 1000 + 500));
    // Even a refusal carries the renewed cookie: the provider may have rotated the refresh token.
    const missing = await api(jar, "GET", "/api/v1/api-keys/key_0123456789ABCDEFabcd");
    expect(missing.status).toBe(404);
    expect(missing.headers.getSetCookie().some((c) => c.startsWith("gw_session=") && !c.startsWith("gw_session=;"))).toBe(true);
    expect(jar.get(sessionCookieName)).not.toBe(first);
    const res = await api(jar, "GET", "/api/v1/session");
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()).toEqual([]);
  });
});
