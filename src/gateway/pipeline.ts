import { assertClientAllowed } from "../auth/allowlist.ts";
import { authenticate, type Authenticated } from "../auth/authenticate.ts";
import { insufficientScope } from "../auth/challenges.ts";
import { clientAddress } from "../auth/client-ip.ts";
import { missingScopes } from "../auth/scopes.ts";
import type { Bindings } from "../env.ts";
import { errorResponse, GatewayError } from "../errors.ts";
import { errorText, logLine, logRequestLine } from "../log.ts";
import { meter } from "../limits/meter.ts";
import { limitsFor, meterIdOf } from "../limits/policy.ts";
import { originRequestHeaders } from "../proxy/origin-headers.ts";
import { forward } from "../proxy/forward.ts";
import { upstreamFor } from "../proxy/upstream.ts";
import { checkRequestHeaders } from "../request/header-checks.ts";
import { validateRequestLine } from "../request/line.ts";
import { touchLastUsed, type AuthRecord } from "../storage/records.ts";
import { authenticatePerson } from "../people/authenticate.ts";
import { statusClass } from "../usage/classes.ts";
import type { AdmittedState, RequestState } from "./context.ts";
import { requestIdFrom } from "./request-id.ts";
import { isHealthCheck, misconfiguredHealth } from "./health.ts";
import { misconfiguredSettings, runtimeFor, signerOf, type Runtime } from "./runtime.ts";

/** The gateway's own endpoints (a Hono app), for requests the pipeline admitted to them. */
export type GatewayHandler = (request: Request, env: Bindings, ctx: ExecutionContext, state: AdmittedState) => Promise<Response>;

/**
 * One request, end to end: docs/design.md §1 as plain functions (the hot path, proxied
 * or refused, never enters a router framework), then the request id on the
 * response and one log line (docs/design.md §10), whatever happened.
 */
export async function handleRequest(
  request: Request,
  env: Bindings,
  ctx: ExecutionContext,
  gatewayHandler: GatewayHandler,
): Promise<Response> {
  const state: RequestState = { requestId: requestIdFrom(request.headers), started: performance.now(), cacheTier: null, outcome: "ok" };
  let res: Response;
  try {
    const admitted = await admit(request, env, ctx, state);
    res = admitted instanceof Response ? admitted : await gatewayHandler(request, env, ctx, admitted);
    res.headers.set("x-request-id", state.requestId);
  } catch (err) {
    state.outcome = err instanceof GatewayError ? err.code : "internal_error";
    if (!(err instanceof GatewayError)) logLine({ level: "error", event: "unhandled", request_id: state.requestId, error: errorText(err) });
    const settings = state.outcome === "internal_error" && isHealthCheck(request) ? await misconfiguredSettings(env) : null;
    // The envelope is built with X-Request-Id among its headers.
    res = settings ? misconfiguredHealth(settings, state.requestId) : errorResponse(err, state.requestId);
  }
  // Every response to a limited key, proxied or the gateway's own, says where its limits stand.
  if (state.limitHeaders) for (const [name, value] of state.limitHeaders) res.headers.set(name, value);
  // A person's session renewed on the way in (src/people/session.ts) goes back with any answer, a refusal
  // included: the provider may have rotated the refresh token, and the old cookie's would no longer work.
  if (state.person?.setCookie) res.headers.append("set-cookie", state.person.setCookie);
  if (state.identified) countUsage(env, ctx, state.identified, state.routePattern ?? "", res.status);
  logRequest(request.method, state, res.status);
  return res;
}

/** Every request of an identified key, proxied or refused, by status class; the store writes after the response. */
function countUsage(env: Bindings, ctx: ExecutionContext, key: AuthRecord, route: string, status: number): void {
  try {
    const event = { keyId: key.id, organizationId: key.organization_id, statusClass: statusClass(status), route, at: Date.now() };
    runtimeFor(env).usage.sink.record(event, (p) => ctx.waitUntil(p));
  } catch (err) {
    // Counting must never turn an answered request into an error.
    logLine({ level: "warn", event: "usage_record_failed", message: errorText(err) });
  }
}

function logRequest(method: string, state: RequestState, status: number): void {
  logRequestLine({
    request_id: state.requestId,
    key_id: state.auth?.key.id ?? null,
    organization_id: state.auth?.key.organization_id ?? null,
    method,
    route: state.routePattern ?? null,
    scopes_required: state.route?.scopes ?? null,
    outcome: state.outcome,
    status,
    cache_tier: state.cacheTier,
    duration_ms: Math.round((performance.now() - state.started) * 100) / 100,
  });
}

/**
 * Validate the request line, route, limit, authenticate and check scopes;
 * then the origin's response, or the state for the gateway's own handler.
 */
async function admit(request: Request, env: Bindings, ctx: ExecutionContext, state: RequestState): Promise<Response | AdmittedState> {
  const rt = runtimeFor(env);
  const signer = await signerOf(rt);
  const line = validateRequestLine(request.method, request.url, rt.config.MAX_REQUEST_LINE_BYTES);
  checkRequestHeaders(request.headers, rt.config.MAX_HEADER_BYTES);
  state.line = line;

  const match = rt.routes.match(line.method, line.path);
  if (match.kind === "not_found") throw new GatewayError("not_found", "No such route");
  state.routePattern = match.pattern;
  if (match.kind === "method_not_allowed") {
    throw new GatewayError("method_not_allowed", `Method ${line.method} is not allowed here`, { allow: match.allow });
  }
  const route = match.route;
  state.route = route;

  // CF-Connecting-IP, never X-Forwarded-For (client-written): see client-ip.ts.
  const client = clientAddress(request.headers.get("cf-connecting-ip"));
  // Management routes only (the route table never lets a person reach a proxied route).
  if (route.access === "key_or_person" && rt.people !== null) {
    const person = await authenticatePerson(rt.people, request, Date.now());
    if (person !== null) {
      state.person = person;
      const missing = missingScopes(person.person.scopes, route.scopes);
      if (missing.length > 0) throw insufficientScope(missing);
      return Object.assign(state, { runtime: rt });
    }
  }
  if (route.access !== "public") {
    const now = Date.now();
    const stores = { db: env.DB, kv: env.KEYS_CACHE, waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) };
    const auth = await authenticate(
      rt,
      stores,
      request.headers.get("authorization"),
      { limiterKey: client.limiterKey, shared: rt.sharedFailures },
      now,
    );
    state.cacheTier = auth.tier;
    state.identified = auth.key;
    if (!auth.ok) throw auth.error;
    state.auth = auth;
    // A request from outside the key's allowlist is refused before it can spend the key's limits.
    assertClientAllowed(auth.key, client.ip);
    await meterKey(rt, env, state, auth.key, now);
    const missing = missingScopes(auth.key.scopes, route.scopes);
    if (missing.length > 0) throw insufficientScope(missing);
    noteLastUsed(rt, env, ctx, auth.key.id, now);
  }

  if (route.target === "gateway") return Object.assign(state, { runtime: rt });
  if (!state.auth) throw new GatewayError("internal_error", "A proxied route must require a key");
  const key = state.auth.key;
  const upstream = upstreamFor(key.mode, rt.config, env.ORIGIN);
  const identity = { key_id: key.id, org: key.organization_id, scopes: key.scopes, mode: key.mode };
  const pending = rt.identityTokens.tokenFor(
    signer,
    identity,
    { request_id: state.requestId, method: line.method, path: line.path },
    Date.now(),
  );
  const identityToken = typeof pending === "string" ? pending : await pending;
  state.outcome = "proxied";
  return forward(upstream, line, originHeaders(request, rt, key, state.requestId, client.ip, identityToken), request.body);
}

function originHeaders(
  request: Request,
  rt: Runtime,
  key: NonNullable<RequestState["auth"]>["key"],
  requestId: string,
  clientIp: string,
  identityToken: string,
): Headers {
  const { proto, host } = schemeAndHost(request.url);
  return originRequestHeaders(request.headers, {
    identityToken,
    key,
    requestId,
    clientIp,
    proto,
    host,
    forwardAuthorization: rt.config.FORWARD_AUTHORIZATION,
    originToken: rt.config.ORIGIN_TOKEN,
  });
}

/**
 * Per-key rate limit and quota, before the scope check: every authenticated
 * request counts. A key with no limit of its own and no organization default
 * costs one map lookup here, nothing more.
 */
async function meterKey(rt: Runtime, env: Bindings, state: RequestState, key: Authenticated["key"], now: number): Promise<void> {
  const limits = limitsFor(key, rt.config);
  if (limits === null) return;
  const metered = await meter(rt.meterBlocks, env.KEY_METER, meterIdOf(key), limits, now);
  state.limitHeaders = metered.headers;
  if (metered.refusal) throw metered.refusal;
}

/**
 * `new URL(url)`'s protocol (without ":") and host, read off the string: the
 * runtime hands the Worker `request.url` already parsed and serialized, so
 * scheme and host are its first two parts. Anything else (userinfo) takes the parser.
 */
function schemeAndHost(url: string): { proto: string; host: string } {
  const colon = url.indexOf("://");
  const hostEnd = url.indexOf("/", colon + 3);
  const host = url.slice(colon + 3, hostEnd === -1 ? url.length : hostEnd);
  if (colon > 0 && !host.includes("@")) return { proto: url.slice(0, colon), host };
  const parsed = new URL(url);
  return { proto: parsed.protocol.slice(0, -1), host: parsed.host };
}

/** At most once per interval per key and isolate, after the response: never on the hot path. */
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
