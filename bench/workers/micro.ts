/**
 * Bench-only Worker, bound to the same D1, KV and vars as the gateway:
 *
 * - `GET /run?n=N` (header `x-bench-key`: a seeded key holding candidates:read
 *   and candidates:write): the CPU cost of each step of the gateway's hot path,
 *   measured inside workerd by looping over the project's own functions and
 *   dividing (`vitest bench` does not run in the Workers pool). JSON.
 * - `POST /seed?n=N`: mints N fresh keys (candidates:read) with the project's
 *   own mintKey and stores them in D1 only (insertKeyStatements, batched):
 *   inside workerd this is ~100× faster than through Miniflare's binding proxy.
 *   Answers the plaintext keys, one per line.
 *
 * Timers: on Cloudflare, workerd freezes Date.now() / performance.now()
 * during CPU work (they only advance on I/O); locally they advance. `/run`
 * checks that first and reports it, so the numbers are known to be real.
 */
import gateway from "../../src/index.ts";
import { missingKey } from "../../src/auth/challenges.ts";
import { errorResponse } from "../../src/errors.ts";
import { requestLogLine } from "../../src/log.ts";
import { authenticate } from "../../src/auth/authenticate.ts";
import { clientAddress } from "../../src/auth/client-ip.ts";
import { readCredential } from "../../src/auth/bearer.ts";
import { missingScopes } from "../../src/auth/scopes.ts";
import { TtlCache } from "../../src/memory/ttl-cache.ts";
import type { Bindings } from "../../src/env.ts";
import { requestIdFrom } from "../../src/gateway/request-id.ts";
import { runtimeFor } from "../../src/gateway/runtime.ts";
import { generateKey, isWellFormedKey } from "../../src/keys/format.ts";
import { hashKey } from "../../src/keys/hash.ts";
import { mintKey } from "../../src/management/issue.ts";
import { keyState } from "../../src/keys/key-state.ts";
import { originUrl } from "../../src/proxy/forward.ts";
import { originRequestHeaders } from "../../src/proxy/origin-headers.ts";
import { checkRequestHeaders } from "../../src/request/header-checks.ts";
import { validateRequestLine } from "../../src/request/line.ts";
import type { SqlDatabase } from "../../src/storage/ports.ts";
import { insertKeyStatements, type AuthRecord } from "../../src/storage/records.ts";
import { logFloorLine } from "./floor-log.ts";

const URL_GET = "http://127.0.0.1:8787/api/v1/candidates?limit=20&cursor=abc";
const PATH = "/api/v1/candidates";

/** What wrk and a typical client send, plus the edge's own headers. */
function clientHeaders(key: string): Headers {
  return new Headers({
    host: "api.example.com",
    "user-agent": "curl/8.5.0",
    accept: "application/json",
    "accept-encoding": "gzip, br",
    authorization: `Bearer ${key}`,
    "cf-connecting-ip": "203.0.113.7",
    "cf-ray": "8f1e2d3c4b5a6978-LIS",
    "x-forwarded-proto": "https",
  });
}

let sink = 0;

/**
 * Batches per step: each step reports its fastest batch. On a shared machine
 * other processes only ever add time, so the minimum is the cost of the code
 * and far steadier than the mean (before/after comparisons use it).
 */
const BATCHES = 10;

/**
 * Microseconds per call of a synchronous function (the fastest of BATCHES
 * batches). A step that throws (src/ changed under the bench) reports its
 * error instead of a number.
 */
function timeSync(n: number, fn: (i: number) => unknown): number | string {
  try {
    for (let i = 0; i < Math.min(1000, n); i++) consume(fn(i));
    const per = Math.max(1, Math.floor(n / BATCHES));
    let best = Infinity;
    for (let b = 0; b < BATCHES; b++) {
      const t0 = performance.now();
      for (let i = 0; i < per; i++) consume(fn(i));
      best = Math.min(best, (performance.now() - t0) / per);
    }
    return best * 1000;
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Microseconds per call of an async function, awaited one at a time (the fastest of BATCHES batches). */
async function timeAsync(n: number, fn: (i: number) => Promise<unknown>): Promise<number | string> {
  try {
    for (let i = 0; i < Math.min(200, n); i++) consume(await fn(i));
    const per = Math.max(1, Math.floor(n / BATCHES));
    let best = Infinity;
    for (let b = 0; b < BATCHES; b++) {
      const t0 = performance.now();
      for (let i = 0; i < per; i++) consume(await fn(i));
      best = Math.min(best, (performance.now() - t0) / per);
    }
    return best * 1000;
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  }
}

function consume(v: unknown): void {
  if (v === undefined || v === null || v === false) sink++;
  else if (typeof v === "string") sink += v.length;
  else sink += 1;
}

/** Do the clocks move during pure CPU work here? (They do not on Cloudflare.) */
function clocksAdvance(): { performanceNowMs: number; dateNowMs: number } {
  const p0 = performance.now();
  const d0 = Date.now();
  let x = 0;
  for (let i = 0; i < 3_000_000; i++) x = (x * 31 + i) | 0;
  sink += x & 1;
  return { performanceNowMs: performance.now() - p0, dateNowMs: Date.now() - d0 };
}

async function run(env: Bindings, ctx: ExecutionContext, key: string, n: number, only: ReadonlySet<string> | null): Promise<Record<string, unknown>> {
  // `only`: the bench host measures workerd's CPU time (from /proc) around one step at a time (--micro-cpu).
  const want = (name: string) => only === null || only.has(name);
  const clocks = only === null ? clocksAdvance() : { performanceNowMs: NaN, dateNowMs: NaN };
  const rt = runtimeFor(env);
  const secret = await rt.hashKey;
  const hash = await hashKey(secret, key);
  const record: AuthRecord = {
    id: "key_benchbenchbenchbench",
    organization_id: "bench",
    hash,
    scopes: ["candidates:read", "candidates:write"],
    expires_at: null,
    revoked_at: null,
    allowed_cidrs: null,
    mode: "live",
  };
  const expiring: AuthRecord = { ...record, expires_at: "2099-01-01T00:00:00.000Z", revoked_at: "2098-01-01T00:00:00.000Z" };
  const cache = new TtlCache<AuthRecord>(10_000, 60_000);
  const now = Date.now();
  cache.set(hash, record, now);
  for (let i = 0; i < 5_000; i++) cache.set(`filler-${i}`, record, now);
  const headers = clientHeaders(key);
  const authorization = `Bearer ${key}`;
  const emptyHeaders = new Headers();
  const routes = rt.routes;
  const logFields = {
    request_id: "5f0c6ad3-3b0e-4a51-9f3c-6f1f2b1c1d2e",
    key_id: record.id,
    organization_id: record.organization_id,
    method: "GET",
    route: "/api/v1/candidates/**",
    scopes_required: ["candidates:read"],
    outcome: "proxied",
    status: 200,
    cache_tier: "memory",
    duration_ms: 1.23,
  };
  const stores = { db: env.DB, kv: env.KEYS_CACHE, waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) };
  const client = { limiterKey: "198.51.100.1" };
  // Warm the isolate's own memory cache with the seeded key (from KV or D1).
  await authenticate(rt, stores, authorization, client, Date.now());
  const originResponse = new Response("{}", { status: 200, headers: { "content-type": "application/json", "x-origin": "1" } });

  const steps: Record<string, number | string> = {};
  if (want("validateRequestLine")) steps.validateRequestLine = timeSync(n, () => validateRequestLine("GET", URL_GET, 8192));
  if (want("checkRequestHeaders")) steps.checkRequestHeaders = timeSync(n, () => checkRequestHeaders(headers, 32_768));
  if (want("routeMatch")) steps.routeMatch = timeSync(n, () => routes.match("GET", PATH));
  if (want("readCredential")) steps.readCredential = timeSync(n, () => readCredential(authorization));
  if (want("isWellFormedKey")) steps.isWellFormedKey = timeSync(n, () => isWellFormedKey(key));
  if (want("hmacSha256")) steps.hmacSha256 = await timeAsync(n, () => hashKey(secret, key));
  if (want("memoryCacheGet")) steps.memoryCacheGet = timeSync(n, () => cache.get(hash, now));
  if (want("clientAddress")) steps.clientAddress = timeSync(n, () => clientAddress("203.0.113.7"));
  if (want("failureLimiterCheck")) steps.failureLimiterCheck = timeSync(n, () => rt.failures.retryAfter("198.51.100.1", now));
  if (want("keyStateNoDates")) steps.keyStateNoDates = timeSync(n, () => keyState(record, now));
  if (want("keyStateTwoDates")) steps.keyStateTwoDates = timeSync(n, () => keyState(expiring, now));
  if (want("scopeCheck")) steps.scopeCheck = timeSync(n, () => missingScopes(record.scopes, ["candidates:read"]));
  if (want("authenticateMemoryHit")) steps.authenticateMemoryHit = await timeAsync(n, () => authenticate(rt, stores, authorization, client, Date.now()));
  if (want("requestIdGenerate")) steps.requestIdGenerate = timeSync(n, () => requestIdFrom(emptyHeaders));
  if (want("newUrl")) steps.newUrl = timeSync(n, () => new URL(URL_GET));
  if (want("originUrl")) steps.originUrl = timeSync(n, () => originUrl("http://127.0.0.1:8788", validateRequestLine("GET", URL_GET, 8192)));
  if (want("originRequestHeaders")) steps.originRequestHeaders = timeSync(n, () =>
    originRequestHeaders(headers, {
      key: record,
      requestId: logFields.request_id,
      clientIp: "203.0.113.7",
      proto: "https",
      host: "api.example.com",
      forwardAuthorization: false,
      originToken: undefined,
    }),
  );
  if (want("responseRewrap")) steps.responseRewrap = timeSync(n, () => new Response(originResponse.body, originResponse));
  if (want("logLineStringify")) steps.logLineStringify = timeSync(n, () => JSON.stringify(logFields));
  if (want("logLineBuild")) steps.logLineBuild = timeSync(n, () => requestLogLine(logFields));
  if (want("errorEnvelopeResponseWithId")) steps.errorEnvelopeResponseWithId = timeSync(n, () => errorResponse(missingKey(), logFields.request_id));
  if (want("dateNow")) steps.dateNow = timeSync(n, () => Date.now());
  // What a refusal's envelope costs against hello-world's bare Response: the difference is header work in the runtime.
  if (want("errorEnvelopeResponse")) steps.errorEnvelopeResponse = timeSync(n, () => errorResponse(missingKey()));
  if (want("helloResponse")) steps.helloResponse = timeSync(n, () => new Response("hello"));
  if (want("isoTimestamp")) steps.isoTimestamp = timeSync(n, () => new Date(now).toISOString());

  // Alternatives for the responses and headers the gateway builds (what each way costs in this runtime).
  const envelope401 = JSON.stringify({ success: false, data: null, errors: [{ code: "unauthorized", message: "Missing API key" }] });
  const ownHeaders = { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" };
  const www = 'Bearer realm="api"';
  const rid = logFields.request_id;
  const prebuiltHeaders = new Headers({ ...ownHeaders, "www-authenticate": www });
  const prebuiltPairs: [string, string][] = [...Object.entries(ownHeaders), ["www-authenticate", www]];
  if (want("altResponseObjectThenSet")) steps.altResponseObjectThenSet = timeSync(n, () => {
    const r = new Response(envelope401, { status: 401, headers: { ...ownHeaders, "www-authenticate": www } });
    r.headers.set("x-request-id", rid);
    return r;
  });
  if (want("altResponseObjectWithId")) steps.altResponseObjectWithId = timeSync(n, () => new Response(envelope401, { status: 401, headers: { ...ownHeaders, "www-authenticate": www, "x-request-id": rid } }));
  if (want("altResponsePairsWithId")) steps.altResponsePairsWithId = timeSync(n, () => new Response(envelope401, { status: 401, headers: [...prebuiltPairs, ["x-request-id", rid]] }));
  if (want("altResponseHeadersObjThenSet")) steps.altResponseHeadersObjThenSet = timeSync(n, () => {
    const r = new Response(envelope401, { status: 401, headers: prebuiltHeaders });
    r.headers.set("x-request-id", rid);
    return r;
  });
  if (want("altResponseNoHeaders")) steps.altResponseNoHeaders = timeSync(n, () => new Response(envelope401, { status: 401 }));
  if (want("altGatewayError")) steps.altGatewayError = timeSync(n, () => missingKey());
  if (want("altHeadersCopy")) steps.altHeadersCopy = timeSync(n, () => new Headers(headers));
  if (want("altHeadersIterate")) steps.altHeadersIterate = timeSync(n, () => {
    let c = 0;
    for (const [k] of headers) c += k.length;
    return c;
  });
  if (want("altHeadersCopyDelete")) steps.altHeadersCopyDelete = timeSync(n, () => {
    const h = new Headers(headers);
    for (const k of ["authorization", "cf-connecting-ip", "cf-ray", "x-forwarded-proto", "host"]) h.delete(k);
    for (const k of ["x-api-key-id", "x-organization-id", "x-api-key-scopes", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]) h.set(k, "v");
    return h;
  });
  if (want("altHeadersForEach")) steps.altHeadersForEach = timeSync(n, () => {
    let c = 0;
    headers.forEach((v, k) => (c += k.length + v.length));
    return c;
  });
  if (want("altHeadersGetThree")) steps.altHeadersGetThree = timeSync(n, () => [headers.has("x-http-method-override"), headers.has("x-http-method"), headers.has("x-method-override")]);
  if (want("altResponseFrozenHeadersWithId")) steps.altResponseFrozenHeadersWithId = timeSync(n, () => {
    const h = new Headers(prebuiltHeaders);
    h.set("x-request-id", rid);
    return new Response(envelope401, { status: 401, headers: h });
  });
  // The previous originRequestHeaders (append each kept header), against the current one (copy, then delete).
  if (want("altOriginHeadersAppend")) steps.altOriginHeadersAppend = timeSync(n, () => {
    const out = new Headers();
    for (const [name, value] of headers) {
      if (name.startsWith("cf-") || name === "authorization" || name === "host" || name.startsWith("x-forwarded-")) continue;
      out.append(name, value);
    }
    for (const k of ["x-api-key-id", "x-organization-id", "x-api-key-scopes", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]) out.set(k, "v");
    return out;
  });
  if (want("altOriginHeadersCopyDelete")) steps.altOriginHeadersCopyDelete = timeSync(n, () => {
    const out = new Headers(headers);
    for (const name of headers.keys()) {
      if (name.startsWith("cf-") || name === "authorization" || name === "host" || name.startsWith("x-forwarded-")) out.delete(name);
    }
    for (const k of ["x-api-key-id", "x-organization-id", "x-api-key-scopes", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"]) out.set(k, "v");
    return out;
  });
  if (want("altHeadersKeys")) steps.altHeadersKeys = timeSync(n, () => [...headers.keys()].length);
  if (want("altAbortTimer")) steps.altAbortTimer = timeSync(n, () => {
    const c = new AbortController();
    const t = setTimeout(() => c.abort(), 30_000);
    clearTimeout(t);
    return c;
  });
  // The signed identity (X-Gateway-Identity) every proxied request carries: the largest single step.
  const signerOrError = await rt.identity;
  const identity = { key_id: record.id, org: record.organization_id, scopes: record.scopes, mode: record.mode, request_id: logFields.request_id, method: "GET", path: PATH };
  if (want("identitySign")) steps.identitySign = "settings" in signerOrError ? `error: ${signerOrError.message}` : await timeAsync(n, () => signerOrError.sign(identity, Date.now()));
  // The origin's headers as a plain object converted once by the Request, against the Headers the
  // gateway builds (both then handed to a Request, as fetch does); and a timer for the origin timeout
  // as one AbortSignal.timeout, which would also cut a response body streaming past the timeout.
  if (want("altOriginHeadersObject")) steps.altOriginHeadersObject = timeSync(n, () => {
    const out: Record<string, string> = {};
    headers.forEach((value, name) => {
      if (name.startsWith("cf-") || name === "authorization" || name === "host" || name.startsWith("x-forwarded-")) return;
      out[name] = value;
    });
    out["x-api-key-id"] = record.id;
    out["x-organization-id"] = record.organization_id;
    out["x-api-key-scopes"] = "candidates:read candidates:write";
    out["x-api-key-mode"] = "live";
    out["x-request-id"] = rid;
    out["x-forwarded-for"] = "203.0.113.7";
    out["x-forwarded-proto"] = "https";
    out["x-forwarded-host"] = "api.example.com";
    out["x-gateway-identity"] = "a.b.c";
    return new Request(URL_GET, { headers: out });
  });
  if (want("altOriginHeadersAppendReq")) steps.altOriginHeadersAppendReq = timeSync(n, () => {
    const out = originRequestHeaders(headers, { key: record, requestId: rid, clientIp: "203.0.113.7", proto: "https", host: "api.example.com", forwardAuthorization: false, originToken: undefined, identityToken: "a.b.c" });
    return new Request(URL_GET, { headers: out });
  });
  if (want("altAbortSignalTimeout")) steps.altAbortSignalTimeout = timeSync(n, () => AbortSignal.timeout(30_000));
  if (want("altNewRequestFromRequest")) steps.altNewRequestFromRequest = timeSync(n, () => new Request(URL_GET, { method: "GET", headers, redirect: "manual" }));

  // Whole pipeline for the responses the gateway makes itself (no I/O once warm),
  // through the Worker's own entry point (src/index.ts): Hono, validation, routing,
  // authentication, the error envelope and the log line.
  const pipelineN = Math.max(200, Math.floor(n / 10));
  const fetchApp = (path: string, auth: string | null) => {
    const h = new Headers({ "cf-connecting-ip": "198.51.100.2" });
    if (auth !== null) h.set("authorization", auth);
    return gateway.fetch(new Request(`http://127.0.0.1:8787${path}`, { headers: h }), env, ctx);
  };
  const wellFormedUnknown = generateKey(); // right checksum, never stored
  const pipeline: Record<string, number | string> = {};
  const statuses: Record<string, number> = {};
  for (const [name, path, auth] of [
    ["missingKey401", "/api/v1/candidates", null],
    ["malformedKey401", "/api/v1/candidates", `Bearer ${key.slice(0, -1)}${key.endsWith("A") ? "B" : "A"}`],
    ["unknownKey401", "/api/v1/candidates", `Bearer ${wellFormedUnknown}`],
    ["missingScope403", "/api/v1/jobs", authorization],
    ["noRoute404", "/api/v1/nothing-here", authorization],
    ["healthz200", "/healthz", null],
  ] as const) {
    const first = await fetchApp(path, auth);
    statuses[name] = first.status;
    await first.arrayBuffer();
    if (!want(name)) continue;
    pipeline[name] = await timeAsync(pipelineN, async () => {
      const res = await fetchApp(path, auth);
      await res.arrayBuffer();
      return res.status;
    });
  }
  // The floor for refusals (bench row 2bL) in the same loop: a constant Response plus the same log line.
  const helloBody = JSON.stringify({ success: true, data: { status: "ok" }, errors: [] });
  if (want("helloLogFloor")) pipeline.helloLogFloor = await timeAsync(pipelineN, async () => {
    const req = new Request("http://127.0.0.1:8787/", { headers: new Headers({ "cf-connecting-ip": "198.51.100.2" }) });
    const started = performance.now();
    const res = new Response(helloBody, { headers: { "content-type": "application/json; charset=utf-8" } });
    logFloorLine("refused", req.method, res.status, started);
    await res.arrayBuffer();
    return res.status;
  });
  statuses.helloLogFloor = 200;

  // The proxied request end to end (origin fetch included), and its floor (bench row 2L) in the same loop.
  const proxiedHeaders = new Headers({ "cf-connecting-ip": "198.51.100.2", authorization, accept: "application/json", "user-agent": "wrk" });
  const proxied = () => gateway.fetch(new Request(`http://127.0.0.1:8787${PATH}`, { headers: proxiedHeaders }), env, ctx);
  const firstProxied = await proxied();
  statuses.proxied200 = firstProxied.status;
  await firstProxied.arrayBuffer();
  if (want("proxied200")) pipeline.proxied200 = await timeAsync(pipelineN, async () => {
    const res = await proxied();
    await res.arrayBuffer();
    return res.status;
  });
  if (want("passLogFloor")) pipeline.passLogFloor = await timeAsync(pipelineN, async () => {
    const req = new Request(`http://127.0.0.1:8787${PATH}`, { headers: proxiedHeaders });
    const started = performance.now();
    const url = req.url;
    const res = await fetch(env.ORIGIN_URL + url.slice(url.indexOf("/", url.indexOf("//") + 2)), req);
    logFloorLine("proxied", req.method, res.status, started);
    await res.arrayBuffer();
    return res.status;
  });
  statuses.passLogFloor = 200;
  const logN = Math.max(200, Math.floor(n / 10));
  const consoleLog = !want("consoleLog") ? NaN : timeSync(logN, () => console.log(JSON.stringify(logFields)));

  return {
    iterations: n,
    pipelineIterations: pipelineN,
    clocks: { ...clocks, advanceDuringCpuWork: clocks.performanceNowMs > 0 && clocks.dateNowMs >= 0 },
    stepsMicroseconds: steps,
    pipelineMicroseconds: pipeline,
    pipelineStatuses: statuses,
    consoleLogLineMicroseconds: consoleLog,
    sink: sink & 1,
  };
}

async function seed(env: Bindings, n: number): Promise<string> {
  const secret = await runtimeFor(env).hashKey;
  const db: SqlDatabase = env.DB;
  const now = new Date();
  const keys: string[] = [];
  const BATCH = 100;
  for (let done = 0; done < n; done += BATCH) {
    const statements = [];
    for (let i = done; i < Math.min(n, done + BATCH); i++) {
      const { row, plaintext } = await mintKey(
        secret,
        { organizationId: "bench", name: `bench-cold-${i}`, scopes: ["candidates:read"], expiresAt: null, actor: "cli" },
        now,
      );
      statements.push(...insertKeyStatements(db, row));
      keys.push(plaintext);
    }
    await db.batch(statements);
  }
  return keys.join("\n") + "\n";
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/seed" && request.method === "POST") {
      const n = Number(url.searchParams.get("n") ?? "0");
      if (!Number.isInteger(n) || n < 1 || n > 500_000) return new Response("n: 1 to 500000", { status: 400 });
      return new Response(await seed(env, n), { headers: { "content-type": "text/plain" } });
    }
    const key = request.headers.get("x-bench-key");
    if (url.pathname !== "/run" || key === null) return new Response("GET /run?n=N with x-bench-key", { status: 404 });
    const n = Math.max(100, Math.min(1_000_000, Number(url.searchParams.get("n") ?? "20000") || 20_000));
    try {
      const onlyParam = url.searchParams.get("only");
      const result = await run(env, ctx, key, n, onlyParam === null ? null : new Set(onlyParam.split(",")));
      return Response.json(result);
    } catch (err) {
      return Response.json({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Bindings>;
