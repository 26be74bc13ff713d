/**
 * The floors the gateway is compared with (docs/performance.md, rows 2–2k): one module, bundled once per row, the row chosen by the FLOOR
 * var, so every floor runs the same code but for the one piece it adds. The log line is the gateway's own fields (docs/design.md §10) built
 * the plain way.
 */
import { forward } from "../../src/proxy/forward.ts";
import { originRequestHeaders } from "../../src/proxy/origin-headers.ts";
import { validateRequestLine } from "../../src/request/line.ts";

export interface FloorEnv {
  FLOOR: "pass" | "pass-log" | "hello" | "hello-log" | "pass-kv" | "forward-log";
  ORIGIN_URL: string;
  KEYS_CACHE?: KVNamespace;
}

/** The KV entry row 2k reads: a copy of a key's cached record (scripts/bench/seed.ts). A module may export handlers only. */
const FLOOR_KV_KEY = "bench:floor";

const BODY = JSON.stringify({ success: true, data: { status: "ok" }, errors: [] });
const HEADERS = { "content-type": "application/json; charset=utf-8" };

export function logLine(proxied: boolean, method: string, status: number, started: number): void {
  console.log(
    JSON.stringify({
      request_id: crypto.randomUUID(),
      key_id: proxied ? "key_0123456789abcdefghij" : null,
      organization_id: proxied ? "bench" : null,
      method,
      route: "/api/v1/candidates/**",
      scopes_required: ["candidates:read"],
      outcome: proxied ? "proxied" : "unauthorized",
      status,
      cache_tier: proxied ? "memory" : null,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
    }),
  );
}

/** fetch(origin) with the incoming request as it is: method, headers, streamed body (`send`: an in-isolate origin for --ab). */
export async function passThrough(request: Request, originUrl: string, log: boolean, send = fetch): Promise<Response> {
  const started = performance.now();
  const url = request.url;
  const res = await send(originUrl + url.slice(url.indexOf("/", url.indexOf("//") + 2)), request);
  if (log) logLine(true, request.method, res.status, started);
  return res;
}

const KEY = { id: "key_0123456789abcdefghij", organization_id: "bench", scopes: ["candidates:read"], mode: "live" as const };
const FORWARDED = { key: { ...KEY, hash: "", expires_at: null, revoked_at: null, allowed_cidrs: null }, clientIp: "198.51.100.2" };
// identityToken: as long as the bench key's signed identity (src/identity/signer.ts); the forwarding cost depends on its length only.
const IDENTITY = { proto: "http", host: "bench", forwardAuthorization: false, originToken: undefined, identityToken: "e".repeat(460) };

/** Row 2F: pass-through the gateway's way (src/proxy/): its headers for the origin, the timeout, X-Request-Id back; no decisions. */
async function forwardLog(request: Request, originUrl: string): Promise<Response> {
  const started = performance.now();
  const requestId = crypto.randomUUID();
  const headers = originRequestHeaders(request.headers, { ...FORWARDED, ...IDENTITY, requestId });
  const upstream = { baseUrl: originUrl, fetcher: undefined, timeoutMs: 30_000 };
  const res = await forward(upstream, validateRequestLine(request.method, request.url, 8192), headers, request.body);
  res.headers.set("x-request-id", requestId);
  logLine(true, request.method, res.status, started);
  return res;
}

export function hello(request: Request, log: boolean): Response {
  const started = performance.now();
  const res = new Response(BODY, { headers: HEADERS });
  if (log) logLine(false, request.method, res.status, started);
  return res;
}

export default {
  async fetch(request: Request, env: FloorEnv): Promise<Response> {
    switch (env.FLOOR) {
      case "hello":
      case "hello-log":
        return hello(request, env.FLOOR === "hello-log");
      case "forward-log":
        return forwardLog(request, env.ORIGIN_URL);
      case "pass-kv":
        if ((await env.KEYS_CACHE?.get(FLOOR_KV_KEY, { type: "json", cacheTtl: 30 })) == null)
          return new Response("no floor record in KV", { status: 500 });
        return passThrough(request, env.ORIGIN_URL, false);
      default:
        return passThrough(request, env.ORIGIN_URL, env.FLOOR === "pass-log");
    }
  },
} satisfies ExportedHandler<FloorEnv>;
