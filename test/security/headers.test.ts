import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway, type TestKey } from "../support/gateway-server.ts";
import { sendRaw } from "../support/raw-http.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";
import { expectForwarded, expectRefused, freshIp, send } from "./fixture.ts";

/**
 * Issue "Hostile input", cases 3, 5 and 6, plus request framing: what a
 * client can put in headers to change the method, the identity or the
 * credential the origin acts on.
 */

let origin: RecordingOrigin;
let gw: Gateway;
let reader: TestKey;

beforeAll(async () => {
  origin = await startRecordingOrigin();
  gw = await startGateway({ originUrl: origin.url });
  reader = await gw.createKey(["candidates:read"], { org: "acme-security" });
});
afterAll(async () => {
  await gw?.close();
  await origin?.close();
});

describe("method override with a read-only key (case 3)", () => {
  const HEADERS = ["X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override", "x-http-method-override", "X-HTTP-METHOD-OVERRIDE"];
  it.each(HEADERS)("%s: DELETE is refused, nothing forwarded", async (name) => {
    const sent = await send(gw, origin, { target: "/api/v1/candidates/c_1", key: reader.key, headers: [[name, "DELETE"]] });
    expectRefused(sent, 400, "invalid_request");
  });

  it("an override naming the same method is refused too: the rule is on the header", async () => {
    const sent = await send(gw, origin, { target: "/api/v1/candidates", key: reader.key, headers: [["X-HTTP-Method-Override", "GET"]] });
    expectRefused(sent, 400, "invalid_request");
  });

  it.each([
    "/api/v1/candidates/c_1?_method=DELETE",
    "/api/v1/candidates/c_1?_METHOD=delete",
    "/api/v1/candidates/c_1?%5Fmethod=DELETE",
    "/api/v1/candidates/c_1?_m%65thod=DELETE",
    "/api/v1/candidates/c_1?a=1&_method=DELETE",
    "/api/v1/candidates/c_1?a=1;_method=DELETE",
    "/api/v1/candidates/c_1?_method",
  ])("%s is refused, nothing forwarded", async (target) => {
    const body = expectRefused(await send(gw, origin, { target, key: reader.key }), 400, "invalid_request");
    expect(body.errors[0]!.message).toContain("_method");
  });
});

describe("spoofed identity and routing headers (case 5)", () => {
  const SPOOFED: [string, string][] = [
    ["X-Organization-Id", "other-org"],
    ["X-Organization-Id", "second-copy"],
    ["X-ORGANIZATION-ID", "upper-case"],
    ["X-Organization-Name", "Other Inc"],
    ["X-Api-Key-Id", "key_spoofed"],
    ["X-Api-Key-Scopes", "*"],
    ["X-Api-Key", "pk_live_spoofed"],
    ["X-Gateway-Token", "guessed"],
    ["X-Api-Key-Mode", "test"],
    ["X-Gateway-Identity", "eyJhbGciOiJub25lIn0.eyJvcmciOiJvdGhlci1vcmcifQ."],
    ["X-Forwarded-For", "1.2.3.4"],
    ["X-Forwarded-Host", "evil.example"],
    ["X-Forwarded-Proto", "https"],
    ["X-Forwarded-Prefix", "/api/v1/api-keys"],
    ["Forwarded", "for=1.2.3.4;host=evil.example"],
    ["X-Original-URL", "/api/v1/api-keys"],
    ["X-Rewrite-URL", "/api/v1/api-keys"],
    ["X-Original-Host", "evil.example"],
    ["X-Original-Method", "DELETE"],
    ["X-Envoy-Original-Path", "/api/v1/api-keys"],
    ["X-Middleware-Subrequest", "middleware"],
    ["X-Real-IP", "1.2.3.4"],
    ["True-Client-IP", "1.2.3.4"],
    ["X-Client-IP", "1.2.3.4"],
    ["X-Host", "evil.example"],
    ["Proxy-Authorization", "Basic dXNlcjpwYXNz"],
  ];

  it("the origin sees only the gateway's values", async () => {
    const ip = "203.0.113.50";
    const sent = await send(gw, origin, {
      target: "/api/v1/candidates",
      key: reader.key,
      ip,
      headers: [["Host", "api.example.test"], ...SPOOFED, ["X-Custom", "kept"]],
    });
    const h = expectForwarded(sent, "GET", "/api/v1/candidates").headers;
    expect(h["x-organization-id"]).toBe("acme-security");
    expect(h["x-api-key-id"]).toBe(reader.row.id);
    expect(h["x-api-key-scopes"]).toBe("candidates:read");
    expect(h["x-api-key-mode"]).toBe("live");
    expect(String(h["x-gateway-identity"])).toMatch(/^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{86}$/);
    expect(String(h["x-gateway-identity"])).not.toContain("eyJhbGciOiJub25lIn0");
    expect(h["x-forwarded-for"]).toBe(ip);
    expect(h["x-forwarded-proto"]).toBe("http");
    expect(h["x-forwarded-host"]).toBe("api.example.test"); // the host the gateway served, not the client's claim
    expect(h.host).toBe(`127.0.0.1:${origin.port}`);
    for (const [name] of SPOOFED) {
      const lower = name.toLowerCase();
      if (
        [
          "x-organization-id",
          "x-api-key-id",
          "x-api-key-scopes",
          "x-forwarded-for",
          "x-forwarded-host",
          "x-forwarded-proto",
          "x-api-key-mode",
          "x-gateway-identity",
        ].includes(lower)
      )
        continue;
      expect(h[lower], name).toBeUndefined();
    }
    expect(h.authorization).toBeUndefined();
    expect(h["cf-connecting-ip"]).toBeUndefined();
    expect(h["x-custom"]).toBe("kept");
  });

  it("a spoofed Host changes no routing: the origin's Host is its own", async () => {
    const sent = await send(gw, origin, { target: "/api/v1/candidates", key: reader.key, headers: [["Host", "internal.admin.example"]] });
    const h = expectForwarded(sent, "GET", "/api/v1/candidates").headers;
    expect(h.host).toBe(`127.0.0.1:${origin.port}`);
  });

  it("X-Forwarded-For is the CF-Connecting-IP, whatever the client chains in", async () => {
    const sent = await send(gw, origin, {
      target: "/api/v1/candidates",
      key: reader.key,
      ip: "203.0.113.51",
      headers: [["X-Forwarded-For", "10.0.0.1, 203.0.113.51"]],
    });
    expect(expectForwarded(sent, "GET", "/api/v1/candidates").headers["x-forwarded-for"]).toBe("203.0.113.51");
  });

  it("listing the gateway's own headers in Connection cannot make them disappear", async () => {
    const sent = await send(gw, origin, {
      target: "/api/v1/candidates",
      key: reader.key,
      ip: "203.0.113.52",
      headers: [["Connection", "close, X-Api-Key-Id, X-Organization-Id, X-Forwarded-For, X-Request-Id"]],
    });
    const h = expectForwarded(sent, "GET", "/api/v1/candidates").headers;
    expect([h["x-api-key-id"], h["x-organization-id"], h["x-forwarded-for"]]).toEqual([reader.row.id, "acme-security", "203.0.113.52"]);
  });
});

describe("Authorization (case 6)", () => {
  const INVALID_TOKEN = 'Bearer realm="api", error="invalid_token"';

  it.each([
    ["two Authorization headers, both valid", (k: string) => [`Bearer ${k}`, `Bearer ${k}`]],
    ["valid then garbage", (k: string) => [`Bearer ${k}`, "Bearer nope"]],
    ["garbage then valid (CVE-2021-32777: not only the last is checked)", (k: string) => ["Bearer nope", `Bearer ${k}`]],
    ["Basic", () => ["Basic dXNlcjpwYXNz"]],
    ["empty Bearer", () => ["Bearer"]],
    ["Bearer and spaces", () => ["Bearer    "]],
    ["Bearer a b", () => ["Bearer a b"]],
    ["the key twice", (k: string) => [`Bearer ${k} ${k}`]],
    ["two spaces", (k: string) => [`Bearer  ${k}`]],
    ["a tab", (k: string) => [`Bearer\t${k}`]],
    ["no scheme", (k: string) => [k]],
    ["Token scheme", (k: string) => [`Token ${k}`]],
    ["upper-cased key", (k: string) => [`Bearer ${k.toUpperCase()}`]],
    ["a key with a comma", (k: string) => [`Bearer ${k},`]],
  ] as [string, (k: string) => string[]][])("%s: 401 Invalid API key, nothing forwarded", async (_, values) => {
    const headers = values(reader.key).map((v) => ["Authorization", v] as const);
    const sent = await send(gw, origin, { target: "/api/v1/candidates", headers });
    const body = expectRefused(sent, 401, "unauthorized");
    expect(body.errors[0]!.message).toBe("Invalid API key");
    expect(sent.res.headers["www-authenticate"]).toBe(INVALID_TOKEN);
  });

  it("the scheme is case-insensitive", async () => {
    for (const scheme of ["bearer", "BEARER", "bEaReR"]) {
      const sent = await send(gw, origin, { target: "/api/v1/candidates", headers: [["Authorization", `${scheme} ${reader.key}`]] });
      expectForwarded(sent, "GET", "/api/v1/candidates");
    }
  });

  it("malformed and unknown keys answer the same 401 body and headers", async () => {
    const unknown = await gw.createKey(["candidates:read"]);
    await gw.db.prepare("DELETE FROM api_key_events WHERE key_id = ?").bind(unknown.row.id).run();
    await gw.db.prepare("DELETE FROM api_keys WHERE id = ?").bind(unknown.row.id).run();
    const a = await send(gw, origin, { target: "/api/v1/candidates", key: unknown.key });
    const b = await send(gw, origin, {
      target: "/api/v1/candidates",
      key: `${unknown.key.slice(0, -1)}${unknown.key.endsWith("A") ? "B" : "A"}`,
    });
    expectRefused(a, 401, "unauthorized");
    expectRefused(b, 401, "unauthorized");
    expect(a.res.body).toBe(b.res.body);
    const comparable = (h: Record<string, string>) => Object.entries(h).filter(([n]) => n !== "x-request-id" && n !== "date");
    expect(comparable(a.res.headers)).toEqual(comparable(b.res.headers));
    expect(a.res.headers["www-authenticate"]).toBe(INVALID_TOKEN);
  });

  it.each(["api_key", "access_token", "key", "apiKey", "API-KEY", "q"])(
    "a key in the query (%s) is refused with a pointer to the header, never forwarded or echoed",
    async (param) => {
      const sent = await send(gw, origin, { target: `/api/v1/candidates?${param}=${reader.key}` });
      const body = expectRefused(sent, 400, "invalid_request");
      expect(body.errors[0]!.message).toContain("Authorization header");
      expect(sent.res.raw).not.toContain(reader.key);
    },
  );

  it("a key in the query is refused even next to a valid header", async () => {
    const sent = await send(gw, origin, { target: `/api/v1/candidates?access_token=${reader.key}`, key: reader.key });
    expectRefused(sent, 400, "invalid_request");
  });

  it("trailing whitespace is optional whitespace in HTTP: the runtime strips it, the key is the same key", async () => {
    const sent = await send(gw, origin, { target: "/api/v1/candidates", headers: [["Authorization", `Bearer ${reader.key} \t `]] });
    expect(expectForwarded(sent, "GET", "/api/v1/candidates").headers.authorization).toBeUndefined();
  });

  it("a newline folding a second line into the key: the runtime refuses it, nothing forwarded", async () => {
    const before = origin.received.length;
    const res = await sendRaw(
      gw.port,
      `GET /api/v1/candidates HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${reader.key}\r\n X-Api-Key-Scopes: *\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    expect(origin.received.length).toBe(before);
  });

  it("a bare LF splits the header: the smuggled identity header is still the gateway's", async () => {
    const before = origin.received.length;
    const res = await sendRaw(
      gw.port,
      `GET /api/v1/candidates HTTP/1.1\r\nHost: h\r\nCF-Connecting-IP: ${freshIp()}\r\n` +
        `Authorization: Bearer ${reader.key}\nX-Organization-Id: other-org\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(200);
    const got = origin.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.headers["x-organization-id"]).toBe("acme-security");
  });

  it("a bare CR inside the value is refused by the runtime", async () => {
    const before = origin.received.length;
    const res = await sendRaw(
      gw.port,
      `GET /api/v1/candidates HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer ${reader.key}\rX: y\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(400);
    expect(origin.received.length).toBe(before);
  });

  it("an oversized Authorization header is malformed, not a lookup", async () => {
    const sent = await send(gw, origin, { target: "/api/v1/candidates", headers: [["Authorization", `Bearer ${"a".repeat(4_000)}`]] });
    expectRefused(sent, 401, "unauthorized");
  });
});

describe("request framing: the gateway re-frames every forwarded request", () => {
  it("Content-Length with Transfer-Encoding: the smuggled request never reaches the origin", async () => {
    const before = origin.received.length;
    await sendRaw(
      gw.port,
      `POST /api/v1/candidates HTTP/1.1\r\nHost: h\r\nCF-Connecting-IP: ${freshIp()}\r\nAuthorization: Bearer ${reader.key}\r\n` +
        `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/api-keys HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`,
    );
    // The read-only key cannot POST: nothing at all reaches the origin, smuggled or not.
    expect(origin.received.slice(before)).toEqual([]);
  });

  it("a pipelined second request is authenticated on its own", async () => {
    const before = origin.received.length;
    const res = await sendRaw(
      gw.port,
      `GET /api/v1/candidates HTTP/1.1\r\nHost: h\r\nCF-Connecting-IP: ${freshIp()}\r\nAuthorization: Bearer ${reader.key}\r\n\r\n` +
        `GET /api/v1/candidates/c_2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`,
    );
    expect(res.raw).toContain("HTTP/1.1 401");
    const got = origin.received.slice(before);
    expect(got.map((r) => r.url)).toEqual(["/api/v1/candidates"]);
  });

  it("duplicate Content-Length and unknown Transfer-Encoding are refused by the runtime", async () => {
    const before = origin.received.length;
    const auth = `Authorization: Bearer ${reader.key}\r\n`;
    const dupe = await sendRaw(
      gw.port,
      `POST /api/v1/candidates HTTP/1.1\r\nHost: h\r\n${auth}Content-Length: 5\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello!`,
    );
    const te = await sendRaw(
      gw.port,
      `POST /api/v1/candidates HTTP/1.1\r\nHost: h\r\n${auth}Transfer-Encoding: xchunked\r\nConnection: close\r\n\r\n0\r\n\r\n`,
    );
    expect([dupe.status, te.status]).toEqual([400, 400]);
    expect(origin.received.length).toBe(before);
  });

  it("headers over MAX_HEADER_BYTES are refused by the gateway, even below the runtime's own limit", async () => {
    const small = await startGateway({ originUrl: origin.url, vars: { MAX_HEADER_BYTES: "2048" } });
    try {
      const key = (await small.createKey(["candidates:read"])).key;
      const sent = await send(small, origin, { target: "/api/v1/candidates", key, headers: [["X-Padding", "p".repeat(3_000)]] });
      expectRefused(sent, 400, "invalid_request");
      expectForwarded(await send(small, origin, { target: "/api/v1/candidates", key }), "GET", "/api/v1/candidates");
    } finally {
      await small.close();
    }
  });
});
