/**
 * Bench-only variant (`npm run bench -- --profile`, worker `gw-fastpath`):
 * the same pipeline as src/gateway/pipeline.ts, step for step, but run as
 * plain functions for every request the gateway proxies or refuses; Hono only
 * serves the gateway's own endpoints (route target "gateway"). Measures what
 * the framework costs on the hot path. Not a proposal to copy verbatim: a
 * src/ change would keep one pipeline and call it from both places.
 */
import { createApp } from "../../src/app.ts";
import { authenticate, type Authenticated } from "../../src/auth/authenticate.ts";
import { insufficientScope } from "../../src/auth/challenges.ts";
import { clientAddress } from "../../src/auth/client-ip.ts";
import { errorText, type Tier } from "../../src/auth/lookup.ts";
import { missingScopes } from "../../src/auth/scopes.ts";
import { sharedCounterOf } from "../../src/auth/shared-limit.ts";
import type { Bindings } from "../../src/env.ts";
import { errorResponse, GatewayError, type ErrorCode } from "../../src/errors.ts";
import { requestIdFrom } from "../../src/gateway/request-id.ts";
import { runtimeFor, type Runtime } from "../../src/gateway/runtime.ts";
import { logLine } from "../../src/log.ts";
import { forward } from "../../src/proxy/forward.ts";
import { originRequestHeaders } from "../../src/proxy/headers.ts";
import { checkRequestHeaders } from "../../src/request/headers.ts";
import { validateRequestLine } from "../../src/request/line.ts";
import type { Route } from "../../src/routes/table.ts";
import { touchLastUsed } from "../../src/storage/records.ts";

const app = createApp();

interface Seen {
  route: Route | null;
  routePattern: string | null;
  auth: Authenticated | null;
  cacheTier: Tier | null;
  outcome: ErrorCode | "proxied" | "ok";
}

function noteLastUsed(rt: Runtime, env: Bindings, ctx: ExecutionContext, keyId: string, now: number): void {
  if (rt.lastUsedWrites.get(keyId, now)) return;
  rt.lastUsedWrites.set(keyId, true, now);
  const notBefore = new Date(now - rt.config.LAST_USED_WRITE_INTERVAL_S * 1000).toISOString();
  ctx.waitUntil(
    touchLastUsed(env.DB, keyId, new Date(now).toISOString(), notBefore).catch((err: unknown) =>
      logLine({ level: "warn", event: "last_used_write_failed", message: errorText(err) }),
    ),
  );
}

/** Returns null when the request is for the gateway's own endpoints (Hono serves those). */
async function pipeline(request: Request, env: Bindings, ctx: ExecutionContext, requestId: string, seen: Seen): Promise<Response | null> {
  const rt = runtimeFor(env);
  const line = validateRequestLine(request.method, request.url, rt.config.MAX_REQUEST_LINE_BYTES);
  checkRequestHeaders(request.headers, rt.config.MAX_HEADER_BYTES);
  const match = rt.routes.match(line.method, line.path);
  if (match.kind === "not_found") throw new GatewayError("not_found", "No such route");
  seen.routePattern = match.pattern;
  if (match.kind === "method_not_allowed") {
    throw new GatewayError("method_not_allowed", `Method ${line.method} is not allowed here`, { allow: match.allow });
  }
  const route = match.route;
  if (route.target === "gateway") return null;
  seen.route = route;
  const client = clientAddress(request.headers.get("cf-connecting-ip"));
  let auth: Authenticated | null = null;
  if (route.access === "key") {
    const now = Date.now();
    const stores = { db: env.DB, kv: env.KEYS_CACHE, waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) };
    const outcome = await authenticate(
      rt,
      stores,
      request.headers.get("authorization"),
      { limiterKey: client.limiterKey, shared: sharedCounterOf(env) },
      now,
    );
    seen.cacheTier = outcome.tier;
    if (!outcome.ok) throw outcome.error;
    auth = outcome;
    seen.auth = auth;
    const missing = missingScopes(auth.key.scopes, route.scopes);
    if (missing.length > 0) throw insufficientScope(missing);
    noteLastUsed(rt, env, ctx, auth.key.id, now);
  }
  if (!auth) throw new GatewayError("internal_error", "public origin routes are not part of this variant");
  seen.outcome = "proxied";
  const url = new URL(request.url);
  const headers = originRequestHeaders(request.headers, {
    key: auth.key,
    requestId,
    clientIp: client.ip,
    proto: url.protocol.slice(0, -1),
    host: url.host,
    forwardAuthorization: rt.config.FORWARD_AUTHORIZATION,
    originToken: rt.config.ORIGIN_TOKEN,
  });
  return forward(
    { baseUrl: rt.config.ORIGIN_URL, fetcher: env.ORIGIN, timeoutMs: rt.config.ORIGIN_TIMEOUT_MS },
    line,
    headers,
    request.body,
  );
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    const started = performance.now();
    const requestId = requestIdFrom(request.headers);
    const seen: Seen = { route: null, routePattern: null, auth: null, cacheTier: null, outcome: "ok" };
    let res: Response;
    try {
      const proxied = await pipeline(request, env, ctx, requestId, seen);
      if (proxied === null) return app.fetch(request, env, ctx);
      res = proxied;
    } catch (err) {
      seen.outcome = err instanceof GatewayError ? err.code : "internal_error";
      if (!(err instanceof GatewayError)) {
        console.error(JSON.stringify({ level: "error", event: "unhandled", request_id: requestId, error: err instanceof Error ? err.name : "unknown" }));
      }
      res = errorResponse(err);
    }
    res.headers.set("x-request-id", requestId);
    logLine({
      request_id: requestId,
      key_id: seen.auth?.key.id ?? null,
      organization_id: seen.auth?.key.organization_id ?? null,
      method: request.method,
      route: seen.routePattern,
      scopes_required: seen.route?.scopes ?? null,
      outcome: seen.outcome,
      status: res.status,
      cache_tier: seen.cacheTier,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
    });
    return res;
  },
} satisfies ExportedHandler<Bindings>;
