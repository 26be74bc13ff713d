import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { missingScopes } from "../../src/auth/scopes.ts";
import { GatewayError } from "../../src/errors.ts";
import { validateRequestLine } from "../../src/request/line.ts";
import { compileRoutes, type RouteMatch } from "../../src/routes/match.ts";
import { DEFAULT_ROUTES } from "../../src/routes/table.ts";
import { startGateway, type Gateway } from "../support/gateway-server.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";
import { logOf, send } from "./fixture.ts";

/**
 * Issue "Hostile input", case 10: generated request lines. Whenever the
 * gateway forwards, the path the origin received maps, in the route table, to
 * the scopes that were checked, and it is the path the gateway authorized.
 */

const routes = compileRoutes(DEFAULT_ROUTES);

/** Path segments, hostile and benign: the attacks of cases 1 and 2 and their neighbours. */
const BENIGN_SEGMENT = fc.constantFrom("c_1", "x", "notes", "a+b", "a=b", "~u", "%C3%A9", "%3F", "%23", "%40", "%20", "self", "api", "v1");
const HOSTILE_SEGMENT = fc.constantFrom(
  "CANDIDATES",
  "Jobs",
  "api-keys",
  "candidates",
  "",
  ".",
  "..",
  "%2e",
  "%2E%2e",
  ".%2e",
  "%2e.",
  "...",
  "..;",
  ";x=1",
  "%3b",
  "%2f",
  "%2F",
  "%5c",
  "%5C",
  "\\",
  "%00",
  "%0a",
  "%61",
  "%7e",
  "%25",
  "%252e",
  "%252f",
  "%c0%ae",
  "%EF%BC%8E",
  "%EF%BC%8F",
  "%E2%80%A4",
  "%zz",
  "%",
  "\u00e9",
  "[x]",
  "a|b",
  "#frag",
  "x#/../..",
  // whole escapes in one segment: what an origin that decodes first would resolve
  "..%2F..%2Fapi-keys",
  "..%2fjobs",
  "%2e%2e%2fapi-keys",
  "..%5Capi-keys",
  "x%2F..%2F..%2Fjobs",
  "%252e%252e%252fjobs",
  "%c0%ae%c0%ae%c0%afjobs",
  "%EF%BC%8E%EF%BC%8E%EF%BC%8Fjobs",
  "..;%2Fjobs",
);
const SEGMENT = fc.oneof({ weight: 3, arbitrary: BENIGN_SEGMENT }, { weight: 1, arbitrary: HOSTILE_SEGMENT });
const RESOURCE = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("candidates", "jobs", "reports") },
  { weight: 1, arbitrary: fc.constantFrom("api-keys", "bulk", "Candidates", "..", "%2e%2e", "", "c%61ndidates") },
);
const QUERY = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("a=1", "b", "sort=-created_at", "q=a%2Fb", "page[size]=2", "") },
  { weight: 1, arbitrary: fc.constantFrom("_method=DELETE", "%5Fmethod=PUT", "api_key=x", "q=pk_live_", "q=%00", "x=%ZZ") },
);
const METHOD = fc.constantFrom("GET", "HEAD", "POST", "DELETE", "PATCH");

const TARGET = fc
  .record({
    head: fc.oneof({ weight: 4, arbitrary: fc.constant(["api", "v1"]) }, { weight: 1, arbitrary: fc.array(SEGMENT, { maxLength: 2 }) }),
    resource: RESOURCE,
    tail: fc.array(SEGMENT, { maxLength: 3 }),
    trailingSlash: fc.boolean(),
    query: fc.option(fc.array(QUERY, { minLength: 1, maxLength: 3 }), { nil: undefined }),
  })
  .map(({ head, resource, tail, trailingSlash, query }) => {
    const path = `/${[...head, resource, ...tail].join("/")}${trailingSlash ? "/" : ""}`;
    return query ? `${path}?${query.join("&")}` : path;
  });

type Summary = { kind: string; pattern?: string; scopes?: readonly string[] };
const summary = (m: RouteMatch): Summary =>
  m.kind === "route" ? { kind: m.kind, pattern: m.pattern, scopes: m.route.scopes } : { kind: m.kind };

/** What an origin that treats `\` as `/`, merges slashes and resolves dot segments makes of a path. */
function resolved(path: string): string {
  const out: string[] = [];
  const segs = path.replaceAll("\\", "/").replace(/\/+/g, "/").split("/").slice(1);
  segs.forEach((seg, i) => {
    if (seg === "..") out.pop();
    else if (seg !== ".") out.push(seg);
    else if (i === segs.length - 1) out.push("");
  });
  return `/${out.join("/")}`;
}

function decodedAgain(s: string): string[] {
  try {
    return [decodeURIComponent(s)];
  } catch {
    return [];
  }
}

/** The ways origins and the frameworks behind them read a path: raw, decoded once or twice, NFKC, case-folded, without `;` parameters. */
function originViews(path: string): string[] {
  const decoded = decodeURIComponent(path);
  const withoutParams = (v: string) => v.replace(/;[^/]*/g, ""); // Tomcat, Jetty, Spring: `/a;x=1/b` is `/a/b`
  return [path, decoded, ...decodedAgain(decoded), decoded.normalize("NFKC"), path.toLowerCase()]
    .flatMap((v) => [v, withoutParams(v)])
    .flatMap((v) => [v, resolved(v)]);
}

describe("the validator alone (pure, many runs)", () => {
  it("an accepted path is canonical, and every origin reading of it lands on the route the gateway matched", () => {
    let checked = 0;
    fc.assert(
      fc.property(METHOD, TARGET, (method, target) => {
        let line: ReturnType<typeof validateRequestLine>;
        try {
          line = validateRequestLine(method, `http://gateway.test${target}`, 8_192);
        } catch (err) {
          expect(err).toBeInstanceOf(GatewayError);
          return;
        }
        // Canonical: the URL parser (hence fetch) leaves it byte for byte as it is.
        expect(new URL(`http://gateway.test${target}`).href).toBe(`http://gateway.test${target}`);
        const matched = routes.match(method, line.path);
        if (matched.kind !== "route" || matched.route.target !== "origin") return;
        checked++;
        for (const view of originViews(line.path)) {
          expect(summary(routes.match(method, view)), `${target} read as ${view}`).toEqual(summary(matched));
        }
      }),
      { numRuns: 5_000 },
    );
    expect(checked).toBeGreaterThan(500);
  });
});

describe("through the real gateway (case 10)", () => {
  const SCOPES = ["candidates:read", "jobs:write", "reports:read"];
  let origin: RecordingOrigin;
  let gw: Gateway;
  let key: string;

  beforeAll(async () => {
    origin = await startRecordingOrigin();
    gw = await startGateway({ originUrl: origin.url });
    key = (await gw.createKey(SCOPES)).key;
  });
  afterAll(async () => {
    await gw?.close();
    await origin?.close();
  });

  it("whenever it forwards, the origin gets the authorized method and path, and the route maps it to the checked scopes", async () => {
    let forwarded = 0;
    await fc.assert(
      fc.asyncProperty(METHOD, TARGET, async (method, target) => {
        const sent = await send(gw, origin, { method, target, key, body: method === "POST" || method === "PATCH" ? "{}" : undefined });
        if (sent.res.status === 400 && !sent.res.headers["content-type"]?.startsWith("application/json")) {
          expect(sent.received).toEqual([]); // refused by the runtime's HTTP parser
          return;
        }
        const log = await logOf(gw, sent.requestId);
        if (log.outcome !== "proxied") {
          expect(sent.received).toEqual([]);
          return;
        }
        forwarded++;
        expect(sent.received).toHaveLength(1);
        const got = sent.received[0]!;
        expect(got.method).toBe(method);
        // What the runtime delivered (WHATWG-normalised) is exactly what the origin got.
        const asDelivered = new URL(`http://gateway.test${target}`);
        expect(got.url).toBe(asDelivered.href.slice(asDelivered.origin.length).replace(/#.*$/, ""));
        // It passes the same validator, and the route table maps it to the scopes the gateway checked.
        const line = validateRequestLine(method, `http://gateway.test${got.url}`, 8_192);
        const m = routes.match(method, line.path);
        expect(m.kind).toBe("route");
        if (m.kind !== "route") return;
        expect(m.pattern).toBe(log.route);
        expect(m.route.scopes).toEqual(log.scopes_required);
        expect(m.route.target).toBe("origin");
        expect(missingScopes(SCOPES, m.route.scopes)).toEqual([]);
      }),
      { numRuns: 250 },
    );
    // The generator must exercise the forwarding branch, or the property proves nothing.
    expect(forwarded).toBeGreaterThan(10);
  });
});
