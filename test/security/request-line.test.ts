import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type Gateway } from "../support/gateway-server.ts";
import { sendRaw } from "../support/raw-http.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";
import { expectForwarded, expectRefused, logOf, send } from "./fixture.ts";

/**
 * Issue "Hostile input", cases 1, 2 and 4: request lines sent byte for byte
 * over a socket to the real gateway. Where the runtime itself resolves a form
 * before the Worker runs (docs/security.md: `..`, `%2e`, `\`, `#`), the assertion is
 * that the gateway routed and authorized the resolved path, and the origin
 * got exactly that; everywhere else the raw form must be refused with 400.
 */

let origin: RecordingOrigin;
let gw: Gateway;
/** Reads candidates, nothing else: any path that reaches api-keys or jobs with it is a bypass. */
let readKey: string;
let adminKey: string;

beforeAll(async () => {
  origin = await startRecordingOrigin();
  gw = await startGateway({ originUrl: origin.url });
  readKey = (await gw.createKey(["candidates:read"])).key;
  adminKey = (await gw.createKey(["*"])).key;
});
afterAll(async () => {
  await gw?.close();
  await origin?.close();
});

/** Refused with 400 invalid_request, nothing forwarded. */
const REFUSED_400: [string, string][] = [
  // 1. dot segments that survive to the Worker, and double encoding
  ["encoded slash after ..", "/api/v1/candidates/..%2Fapi-keys"],
  ["lower-case encoded slash after ..", "/api/v1/candidates/..%2fapi-keys"],
  ["all encoded", "/api/v1/candidates/%2e%2e%2fapi-keys"],
  ["double-encoded dots", "/api/v1/candidates/%252e%252e/api-keys"],
  ["double-encoded dots and slash", "/api/v1/candidates/%252e%252e%252fapi-keys"],
  ["encoded backslash after ..", "/api/v1/candidates/..%5Capi-keys"],
  ["Tomcat ..;", "/api/v1/candidates/..;/api-keys"],
  ["overlong UTF-8 dots", "/api/v1/candidates/%c0%ae%c0%ae/api-keys"],
  ["IIS %u escapes", "/api/v1/candidates/%u002e%u002e/api-keys"],
  ["fullwidth dots (NFKC ..)", "/api/v1/candidates/%EF%BC%8E%EF%BC%8E/api-keys"],
  ["fullwidth solidus (NFKC /)", "/api/v1/candidates/x%EF%BC%8F..%EF%BC%8Fapi-keys"],
  ["one-dot leaders (NFKC ..)", "/api/v1/candidates/%E2%80%A4%E2%80%A4/api-keys"],
  // 2. empty segments, encoded separators, parameters, control and non-canonical characters
  ["// inside", "/api/v1//candidates"],
  ["// leading", "//api/v1/candidates"],
  ["// trailing", "/api/v1/candidates//"],
  ["%2F", "/api/v1/candidates%2Fc_1"],
  ["%5C", "/api/v1/candidates%5Cc_1"],
  [";param", "/api/v1/candidates;x=1"],
  ["jsessionid", "/api/v1/candidates/c_1;jsessionid=abc"],
  ["%3B", "/api/v1/candidates%3Bx=1"],
  ["%00", "/api/v1/candidates%00"],
  ["%00 before an extension", "/api/v1/candidates/c_1%00.json"],
  ["%0d%0a", "/api/v1/candidates/c_1%0d%0aX-Api-Key-Id:%20spoof"],
  ["%61 in a resource name", "/api/v1/c%61ndidates"],
  ["%63 leading a resource name", "/api/v1/%63andidates"],
  ["%61 in the prefix", "/%61pi/v1/candidates"],
  ["%7E", "/api/v1/candidates/%7Euser"],
  ["%2D", "/api/v1/api%2Dkeys"],
  ["malformed escape", "/api/v1/candidates/%zz"],
  ["truncated escape", "/api/v1/candidates/%4"],
  ["invalid UTF-8", "/api/v1/candidates/%ff"],
  ["raw brackets", "/api/v1/candidates/[c_1]"],
  ["raw pipe", "/api/v1/candidates/a|b"],
  ["a key in the path", `/api/v1/candidates/pk_live_${"A".repeat(48)}`],
];

describe("request lines refused with 400 (cases 1 and 2)", () => {
  it.each(REFUSED_400)("%s: %s", async (_, target) => {
    const sent = await send(gw, origin, { target, key: adminKey });
    const body = expectRefused(sent, 400, "invalid_request");
    expect(body.errors[0]!.message).not.toContain("pk_live_");
  });

  it("the query is held to the same escapes: %00, malformed, non-UTF-8", async () => {
    for (const target of ["/api/v1/candidates?q=%00", "/api/v1/candidates?q=%zz", "/api/v1/candidates?q=%c0%ae"]) {
      expectRefused(await send(gw, origin, { target, key: adminKey }), 400, "invalid_request");
    }
  });
});

/**
 * The runtime resolves these before the Worker runs (docs/security.md). The gateway
 * then authorizes the resolved path, and that is what the origin receives.
 */
const RESOLVED_BY_RUNTIME: { target: string; route: string; forwarded?: string }[] = [
  { target: "/api/v1/candidates/../api-keys", route: "/api/v1/api-keys" },
  { target: "/api/v1/candidates/%2e%2e/api-keys", route: "/api/v1/api-keys" },
  { target: "/api/v1/candidates/%2E%2e/api-keys", route: "/api/v1/api-keys" },
  { target: "/api/v1/candidates/.%2e/api-keys", route: "/api/v1/api-keys" },
  { target: "/api/v1/candidates\\..\\api-keys", route: "/api/v1/api-keys" },
  { target: "/api/v1/candidates%00/../api-keys", route: "/api/v1/api-keys" },
  { target: "/api/v1/candidates/x/../../jobs", route: "/api/v1/jobs/**" },
  { target: "/api/v1/candidates/%2e/c_1", route: "/api/v1/candidates/**", forwarded: "/api/v1/candidates/c_1" },
  { target: "/api/v1/candidates\\c_1", route: "/api/v1/candidates/**", forwarded: "/api/v1/candidates/c_1" },
  { target: "/api/v1/candidates#frag", route: "/api/v1/candidates/**", forwarded: "/api/v1/candidates" },
  { target: "/api/v1/candidates#/../../api-keys", route: "/api/v1/candidates/**", forwarded: "/api/v1/candidates" },
];

describe("forms the runtime resolves first: authorized as resolved, forwarded as authorized (cases 1 and 2)", () => {
  it.each(RESOLVED_BY_RUNTIME)("$target", async ({ target, route, forwarded }) => {
    const sent = await send(gw, origin, { target, key: readKey });
    const log = await logOf(gw, sent.requestId);
    expect(log.route).toBe(route);
    if (forwarded) {
      expectForwarded(sent, "GET", forwarded);
    } else {
      // The read-only key holds neither api_keys:read nor jobs:read.
      expectRefused(sent, 403, "forbidden");
    }
  });
});

describe("canonical paths are forwarded byte for byte (case 2)", () => {
  it("a single trailing slash is kept", async () => {
    expectForwarded(await send(gw, origin, { target: "/api/v1/candidates/", key: readKey }), "GET", "/api/v1/candidates/");
  });

  it("percent-encoded reserved and non-ASCII characters stay encoded as sent", async () => {
    for (const target of ["/api/v1/candidates/a%20b%3Fc%23d", "/api/v1/candidates/%C3%A9", "/api/v1/candidates/c_1?q=a%2Fb&x=%25"]) {
      expectForwarded(await send(gw, origin, { target, key: readKey }), "GET", target);
    }
  });

  it("raw UTF-8 in the path reaches the origin percent-encoded by the runtime, as the gateway matched it", async () => {
    const sent = await send(gw, origin, { target: "/api/v1/candidates/\u00e9", key: readKey });
    expectForwarded(sent, "GET", "/api/v1/candidates/%C3%A9");
  });

  it.each(["/API/V1/CANDIDATES", "/api/v1/Candidates", "/api/v1/API-KEYS", "/Api/v1/candidates"])(
    "upper-case names are no route: %s",
    async (target) => {
      expectRefused(await send(gw, origin, { target, key: adminKey }), 404, "not_found");
    },
  );
});

describe("methods (case 4)", () => {
  it.each(["TRACE", "PROPFIND", "OPTIONS", "MKCOL"])("%s answers 405 with Allow", async (method) => {
    const sent = await send(gw, origin, { method, target: "/api/v1/candidates", key: adminKey });
    expectRefused(sent, 405, "method_not_allowed");
    expect(sent.res.headers.allow).toBe("GET, HEAD, POST, PUT, PATCH, DELETE");
  });

  it("a method the route lacks answers 405: writes to a read-only resource", async () => {
    const sent = await send(gw, origin, { method: "PUT", target: "/api/v1/reports/r_1", key: adminKey, body: "{}" });
    expectRefused(sent, 405, "method_not_allowed");
    expect(sent.res.headers.allow).toBe("GET, HEAD");
  });

  it.each(["get", "Get", "FOO", "DELETEX"])("%s is refused by the runtime (501) before the Worker runs", async (method) => {
    const sent = await send(gw, origin, { method, target: "/api/v1/candidates", key: adminKey });
    expect(sent.res.status).toBe(501);
    expect(sent.received).toEqual([]);
  });

  it("CONNECT never reaches fetch(): the runtime answers 500, and nothing is tunnelled or forwarded", async () => {
    const before = origin.received.length;
    const res = await sendRaw(
      gw.port,
      `CONNECT 127.0.0.1:${origin.port} HTTP/1.1\r\nHost: 127.0.0.1:${origin.port}\r\nAuthorization: Bearer ${adminKey}\r\n\r\n` +
        `GET /api/v1/candidates HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
    );
    expect(res.status).toBe(500);
    expect(res.body).not.toContain("success"); // the runtime's answer, not a gateway envelope
    expect(origin.received.length).toBe(before);
    expect(gw.logs().filter((l) => l.method === "CONNECT")).toEqual([]);
  });

  it("OPTIONS * and a request line over 8 KiB never reach the origin", async () => {
    const star = await send(gw, origin, { method: "OPTIONS", target: "*", key: adminKey });
    expect(star.res.status).toBeGreaterThanOrEqual(400);
    expect(star.received).toEqual([]);
    const long = await send(gw, origin, { target: `/api/v1/candidates?q=${"a".repeat(8_200)}`, key: adminKey });
    expectRefused(long, 414, "uri_too_long");
  });

  it("HEAD is forwarded as HEAD", async () => {
    const sent = await send(gw, origin, { method: "HEAD", target: "/api/v1/candidates", key: readKey });
    expectForwarded(sent, "HEAD", "/api/v1/candidates");
  });
});
