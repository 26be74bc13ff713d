import type { Context, MiddlewareHandler } from "hono";
import { authenticate } from "../auth/authenticate.ts";
import { insufficientScope } from "../auth/challenges.ts";
import { clientAddress, type ClientAddress } from "../auth/client-ip.ts";
import { errorText } from "../auth/lookup.ts";
import { missingScopes } from "../auth/scopes.ts";
import { sharedCounterOf } from "../auth/shared-limit.ts";
import { GatewayError } from "../errors.ts";
import { logLine } from "../log.ts";
import { originRequestHeaders } from "../proxy/headers.ts";
import { forward } from "../proxy/forward.ts";
import { checkRequestHeaders } from "../request/headers.ts";
import { validateRequestLine } from "../request/line.ts";
import { touchLastUsed } from "../storage/records.ts";
import type { AppEnv } from "./context.ts";
import { requestIdFrom } from "./request-id.ts";
import { runtimeFor } from "./runtime.ts";

/** Outermost: request id on every response and one log line per request (DESIGN §10). */
export const requestLog: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = performance.now();
  const requestId = requestIdFrom(c.req.raw.headers);
  c.set("requestId", requestId);
  await next();
  c.res.headers.set("x-request-id", requestId);
  const auth = c.get("auth");
  const route = c.get("route");
  logLine({
    request_id: requestId,
    key_id: auth?.key.id ?? null,
    organization_id: auth?.key.organization_id ?? null,
    method: c.req.method,
    route: c.get("routePattern") ?? null,
    scopes_required: route?.scopes ?? null,
    outcome: c.get("outcome") ?? "ok",
    status: c.res.status,
    cache_tier: c.get("cacheTier") ?? null,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
  });
};

/**
 * DESIGN §1: validate the request line, route, limit, authenticate, check
 * scopes, then forward to the origin or hand over to the gateway's own handlers.
 */
export const gatewayPipeline: MiddlewareHandler<AppEnv> = async (c, next) => {
  const rt = runtimeFor(c.env);
  c.set("runtime", rt);
  const line = validateRequestLine(c.req.method, c.req.url, rt.config.MAX_REQUEST_LINE_BYTES);
  checkRequestHeaders(c.req.raw.headers, rt.config.MAX_HEADER_BYTES);
  c.set("line", line);

  const match = rt.routes.match(line.method, line.path);
  if (match.kind === "not_found") throw new GatewayError("not_found", "No such route");
  c.set("routePattern", match.pattern);
  if (match.kind === "method_not_allowed") {
    throw new GatewayError("method_not_allowed", `Method ${line.method} is not allowed here`, { allow: match.allow });
  }
  const route = match.route;
  c.set("route", route);

  if (route.access === "key") {
    const now = Date.now();
    const stores = { db: c.env.DB, kv: c.env.KEYS_CACHE, waitUntil: (p: Promise<unknown>) => c.executionCtx.waitUntil(p) };
    const client = { limiterKey: clientOf(c).limiterKey, shared: sharedCounterOf(c.env) };
    const auth = await authenticate(rt, stores, c.req.header("authorization") ?? null, client, now);
    c.set("cacheTier", auth.tier);
    if (!auth.ok) throw auth.error;
    c.set("auth", auth);
    const missing = missingScopes(auth.key.scopes, route.scopes);
    if (missing.length > 0) throw insufficientScope(missing);
    noteLastUsed(c, auth.key.id, now);
  }

  if (route.target === "gateway") return next();
  c.set("outcome", "proxied");
  return forward(upstreamOf(c), line, originHeaders(c), c.req.raw.body);
};

/** CF-Connecting-IP, never X-Forwarded-For (client-written): see client-ip.ts. */
function clientOf(c: Context<AppEnv>): ClientAddress {
  return clientAddress(c.req.header("cf-connecting-ip") ?? null);
}

function upstreamOf(c: Context<AppEnv>) {
  const { config } = c.get("runtime");
  return { baseUrl: config.ORIGIN_URL, fetcher: c.env.ORIGIN, timeoutMs: config.ORIGIN_TIMEOUT_MS };
}

function originHeaders(c: Context<AppEnv>): Headers {
  const { config } = c.get("runtime");
  const url = new URL(c.req.url);
  return originRequestHeaders(c.req.raw.headers, {
    key: c.get("auth").key,
    requestId: c.get("requestId"),
    clientIp: clientOf(c).ip,
    proto: url.protocol.slice(0, -1),
    host: url.host,
    forwardAuthorization: config.FORWARD_AUTHORIZATION,
    originToken: config.ORIGIN_TOKEN,
  });
}

/** At most once per interval per key and isolate, after the response: never on the hot path. */
function noteLastUsed(c: Context<AppEnv>, keyId: string, now: number): void {
  const rt = c.get("runtime");
  if (rt.lastUsedWrites.get(keyId, now)) return;
  rt.lastUsedWrites.set(keyId, true, now);
  const notBefore = new Date(now - rt.config.LAST_USED_WRITE_INTERVAL_S * 1000).toISOString();
  c.executionCtx.waitUntil(
    touchLastUsed(c.env.DB, keyId, new Date(now).toISOString(), notBefore).catch((err: unknown) =>
      logLine({ level: "warn", event: "last_used_write_failed", message: errorText(err) }),
    ),
  );
}
