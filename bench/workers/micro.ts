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
import { authenticate } from "../../src/auth/authenticate.ts";
import { clientAddress } from "../../src/auth/client-ip.ts";
import { readCredential } from "../../src/auth/bearer.ts";
import { missingScopes } from "../../src/auth/scopes.ts";
import { TtlCache } from "../../src/auth/ttl-cache.ts";
import type { Bindings } from "../../src/env.ts";
import { requestIdFrom } from "../../src/gateway/request-id.ts";
import { runtimeFor } from "../../src/gateway/runtime.ts";
import { generateKey, isWellFormedKey } from "../../src/keys/format.ts";
import { hashKey } from "../../src/keys/hash.ts";
import { mintKey } from "../../src/keys/issue.ts";
import { keyState } from "../../src/keys/state.ts";
import { originUrl } from "../../src/proxy/forward.ts";
import { originRequestHeaders } from "../../src/proxy/headers.ts";
import { checkRequestHeaders } from "../../src/request/headers.ts";
import { validateRequestLine } from "../../src/request/line.ts";
import type { SqlDatabase } from "../../src/storage/ports.ts";
import { insertKeyStatements, type AuthRecord } from "../../src/storage/records.ts";

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
 * Microseconds per call of a synchronous function. A step that throws (src/
 * changed under the bench) reports its error instead of a number.
 */
function timeSync(n: number, fn: (i: number) => unknown): number | string {
  try {
    for (let i = 0; i < Math.min(1000, n); i++) consume(fn(i));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) consume(fn(i));
    return ((performance.now() - t0) * 1000) / n;
  } catch (err) {
    return `error: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Microseconds per call of an async function, awaited one at a time. */
async function timeAsync(n: number, fn: (i: number) => Promise<unknown>): Promise<number | string> {
  try {
    for (let i = 0; i < Math.min(200, n); i++) consume(await fn(i));
    const t0 = performance.now();
    for (let i = 0; i < n; i++) consume(await fn(i));
    return ((performance.now() - t0) * 1000) / n;
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

async function run(env: Bindings, ctx: ExecutionContext, key: string, n: number): Promise<Record<string, unknown>> {
  const clocks = clocksAdvance();
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
  steps.validateRequestLine = timeSync(n, () => validateRequestLine("GET", URL_GET, 8192));
  steps.checkRequestHeaders = timeSync(n, () => checkRequestHeaders(headers, 32_768));
  steps.routeMatch = timeSync(n, () => routes.match("GET", PATH));
  steps.readCredential = timeSync(n, () => readCredential(authorization));
  steps.isWellFormedKey = timeSync(n, () => isWellFormedKey(key));
  steps.hmacSha256 = await timeAsync(n, () => hashKey(secret, key));
  steps.memoryCacheGet = timeSync(n, () => cache.get(hash, now));
  steps.clientAddress = timeSync(n, () => clientAddress("203.0.113.7"));
  steps.failureLimiterCheck = timeSync(n, () => rt.failures.retryAfter("198.51.100.1", now));
  steps.keyStateNoDates = timeSync(n, () => keyState(record, now));
  steps.keyStateTwoDates = timeSync(n, () => keyState(expiring, now));
  steps.scopeCheck = timeSync(n, () => missingScopes(record.scopes, ["candidates:read"]));
  steps.authenticateMemoryHit = await timeAsync(n, () => authenticate(rt, stores, authorization, client, Date.now()));
  steps.requestIdGenerate = timeSync(n, () => requestIdFrom(emptyHeaders));
  steps.newUrl = timeSync(n, () => new URL(URL_GET));
  steps.originUrl = timeSync(n, () => originUrl("http://127.0.0.1:8788", validateRequestLine("GET", URL_GET, 8192)));
  steps.originRequestHeaders = timeSync(n, () =>
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
  steps.responseRewrap = timeSync(n, () => new Response(originResponse.body, originResponse));
  steps.logLineStringify = timeSync(n, () => JSON.stringify(logFields));
  steps.dateNow = timeSync(n, () => Date.now());
  // What a refusal's envelope costs against hello-world's bare Response: the difference is header work in the runtime.
  steps.errorEnvelopeResponse = timeSync(n, () => errorResponse(missingKey()));
  steps.helloResponse = timeSync(n, () => new Response("hello"));
  steps.isoTimestamp = timeSync(n, () => new Date(now).toISOString());

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
    pipeline[name] = await timeAsync(pipelineN, async () => {
      const res = await fetchApp(path, auth);
      await res.arrayBuffer();
      return res.status;
    });
  }
  const logN = Math.max(200, Math.floor(n / 10));
  const consoleLog = timeSync(logN, () => console.log(JSON.stringify(logFields)));

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
      const result = await run(env, ctx, key, n);
      return Response.json(result);
    } catch (err) {
      return Response.json({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Bindings>;
