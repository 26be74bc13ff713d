import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorCode, errorEnvelope, errorResponse, GatewayError, OWN_RESPONSE_HEADERS, STATUS_OF_CODE } from "../../src/errors.ts";
import { requestLogLine, type RequestLogFields } from "../../src/log.ts";

/** The per-request log line is written by hand for speed: it must stay byte for byte JSON.stringify's. */
describe("request log line", () => {
  const base: RequestLogFields = {
    request_id: "5f0c6ad3-3b0e-4a51-9f3c-6f1f2b1c1d2e",
    key_id: "key_abc",
    organization_id: "acme",
    method: "GET",
    route: "/api/v1/jobs/**",
    scopes_required: ["jobs:read"],
    outcome: "proxied",
    status: 200,
    cache_tier: "memory",
    duration_ms: 1.23,
  };

  it("is JSON.stringify of the same fields, in the same order", () => {
    expect(requestLogLine(base)).toBe(JSON.stringify(base));
    const nulls = { ...base, key_id: null, organization_id: null, route: null, scopes_required: null, cache_tier: null };
    expect(requestLogLine(nulls)).toBe(JSON.stringify(nulls));
    expect(Object.keys(JSON.parse(requestLogLine(base)) as object)).toEqual(Object.keys(base));
  });

  it("escapes exactly as JSON.stringify does: quotes, backslashes, controls, DEL, U+2028, lone surrogates, non-ASCII", () => {
    for (const s of ['a"b', "a\\b", "\n\t\r\b\f\u0000\u001f", "\u007f", "\u2028\u2029", "\ud800", "x\udfffy", "é中🙂", "", "</script>"]) {
      const f = { ...base, key_id: s, organization_id: s, method: s, route: s, scopes_required: [s, "a"], outcome: s, cache_tier: s };
      expect(requestLogLine(f)).toBe(JSON.stringify(f));
    }
  });

  it("prints numbers as JSON.stringify does", () => {
    for (const n of [0, -0, 1, 0.1, 12.34, 1e21, 1e-7, 123456789.12, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const f = { ...base, duration_ms: n, status: n };
      expect(requestLogLine(f)).toBe(JSON.stringify(f));
    }
  });

  it("matches JSON.stringify for any strings and numbers (property)", () => {
    const str = fc.string({ unit: "binary", maxLength: 40 });
    const nullable = fc.option(str, { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          request_id: str,
          key_id: nullable,
          organization_id: nullable,
          method: str,
          route: nullable,
          scopes_required: fc.option(fc.array(str, { maxLength: 4 }), { nil: null }),
          outcome: str,
          status: fc.integer({ min: 100, max: 599 }),
          cache_tier: nullable,
          duration_ms: fc.double(),
        }),
        (f) => requestLogLine(f) === JSON.stringify(f),
      ),
      { numRuns: 500 },
    );
  }, 60_000);
});

/** Envelopes are served from a per-isolate table: the same bytes, status and headers as building them fresh. */
describe("error envelope", () => {
  it("is the envelope of every code, with its status and headers, and X-Request-Id when given", async () => {
    for (const code of ErrorCode.options) {
      for (let round = 0; round < 2; round++) {
        const err = new GatewayError(code, `message for ${code}`, code === "method_not_allowed" ? { allow: "GET, HEAD" } : {});
        const res = errorResponse(err, round === 0 ? undefined : "req-1");
        expect(res.status).toBe(STATUS_OF_CODE[code]);
        expect(await res.text()).toBe(JSON.stringify(errorEnvelope(code, `message for ${code}`)));
        expect(res.headers.get("content-type")).toBe(OWN_RESPONSE_HEADERS["content-type"]);
        expect(res.headers.get("cache-control")).toBe("no-store");
        expect(res.headers.get("x-request-id")).toBe(round === 0 ? null : "req-1");
        if (code === "method_not_allowed") expect(res.headers.get("allow")).toBe("GET, HEAD");
      }
    }
  });

  it("turns anything that is not a GatewayError into a fixed 500", async () => {
    const res = errorResponse(new Error("secret detail"), "req-2");
    expect(res.status).toBe(500);
    expect(await res.text()).toBe(JSON.stringify(errorEnvelope("internal_error", "Internal error")));
    expect(res.headers.get("x-request-id")).toBe("req-2");
  });

  it("keeps building bodies once its table is full", async () => {
    for (let i = 0; i < 300; i++) errorResponse(new GatewayError("invalid_request", `filler ${i}`));
    const res = errorResponse(new GatewayError("invalid_request", 'after "the" table is full'));
    expect(await res.text()).toBe(JSON.stringify(errorEnvelope("invalid_request", 'after "the" table is full')));
  });
});
