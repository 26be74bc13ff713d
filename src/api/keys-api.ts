import { createRoute, OpenAPIHono, z, type RouteConfig } from "@hono/zod-openapi";
import type { Context } from "hono";
import { checkAllowlist } from "../auth/cidr.ts";
import { scopesBeyond } from "../auth/scopes.ts";
import { GatewayError, successEnvelope, OWN_RESPONSE_HEADERS } from "../errors.ts";
import type { AppEnv } from "../gateway/context.ts";
import { KEY_ID_PATTERN } from "../keys/ids.ts";
import type { KeyMode } from "../keys/format.ts";
import { createKey, revokeKey, rotateKey, type KeyStore } from "../management/lifecycle.ts";
import { toKeyObject } from "../management/object.ts";
import { modeEnabled, TEST_MODE_DISABLED } from "../proxy/upstream.ts";
import { findKeyInOrg, listEvents, listKeysInOrg, renameKey, scopesOf, type KeyRow } from "../storage/records.ts";
import { callerOf } from "./caller.ts";
import { invalidRequest } from "./validation.ts";
import { decodeCursor, encodeCursor } from "./cursor.ts";
import { KEY_SECURITY, PEOPLE_SECURITY, registerSecuritySchemes } from "./security.ts";
import {
  CreatedKeySchema,
  CreateKeyBody,
  decisiveIssues,
  EventSchema,
  KeyIdParam,
  KeyObjectSchema,
  ListQuery,
  RenameKeyBody,
  RotateKeyBody,
  success,
  UsageQuery,
  UsageSchema,
} from "./schemas.ts";
import { hoursOf, toBuckets, usageRange } from "../usage/range.ts";
import { errorResponses, successHeaders } from "./responses.ts";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  headers: successHeaders("key"),
  content: { "application/json": { schema: success(schema) } },
});
const body = <T extends z.ZodType>(schema: T, required: boolean) => ({
  required,
  content: { "application/json": { schema } },
});
/** Every route needs an operationId (the name generated clients call it by) and the errors it can answer (src/api/responses.ts). */
const route = <R extends RouteConfig & { operationId: string }>(r: R) =>
  createRoute({ ...r, responses: { ...errorResponses(r.request?.params ? "key-by-id" : "key"), ...r.responses } });

/** A key, a person's access token, or the settings page's session cookie (src/api/security.ts). */
const security = PEOPLE_SECURITY;

const routes = {
  create: route({
    method: "post",
    path: "/",
    operationId: "createApiKey",
    summary: "Create a key (needs api_keys:write; only scopes the caller holds)",
    security,
    request: { body: body(CreateKeyBody, true) },
    responses: { 201: json(CreatedKeySchema, "The new key; `key` is shown only here") },
  }),
  list: route({
    method: "get",
    path: "/",
    operationId: "listApiKeys",
    summary: "List the organization's keys, newest first (needs api_keys:read)",
    security,
    request: { query: ListQuery },
    responses: {
      200: json(z.object({ items: z.array(KeyObjectSchema), next_cursor: z.string().nullable() }), "A page of keys"),
    },
  }),
  self: route({
    method: "get",
    path: "/self",
    operationId: "getCallingApiKey",
    summary: "The calling key (needs no scope; API keys only)",
    security: KEY_SECURITY,
    responses: { 200: json(KeyObjectSchema, "The calling key") },
  }),
  show: route({
    method: "get",
    path: "/{id}",
    operationId: "getApiKey",
    summary: "One key (needs api_keys:read)",
    security,
    request: { params: KeyIdParam },
    responses: { 200: json(KeyObjectSchema, "The key") },
  }),
  rename: route({
    method: "patch",
    path: "/{id}",
    operationId: "renameApiKey",
    summary: "Rename a key; scopes are immutable (needs api_keys:write)",
    security,
    request: { params: KeyIdParam, body: body(RenameKeyBody, true) },
    responses: { 200: json(KeyObjectSchema, "The renamed key") },
  }),
  revoke: route({
    method: "delete",
    path: "/{id}",
    operationId: "revokeApiKey",
    summary: "Revoke a key at once; repeating it is harmless (needs api_keys:write)",
    security,
    request: { params: KeyIdParam },
    responses: { 200: json(KeyObjectSchema, "The revoked key") },
  }),
  rotate: route({
    method: "post",
    path: "/{id}/rotate",
    operationId: "rotateApiKey",
    summary: "Replace a key with a new one; the old one stops now or after a grace period (needs api_keys:write)",
    security,
    request: { params: KeyIdParam, body: body(RotateKeyBody, false) },
    responses: { 201: json(CreatedKeySchema, "The successor; `key` is shown only here") },
  }),
  events: route({
    method: "get",
    path: "/{id}/events",
    operationId: "listApiKeyEvents",
    summary: "The key's audit trail (needs api_keys:read)",
    security,
    request: { params: KeyIdParam },
    responses: { 200: json(z.object({ items: z.array(EventSchema) }), "Events, oldest first") },
  }),
  usage: route({
    method: "get",
    path: "/{id}/usage",
    operationId: "getApiKeyUsage",
    summary:
      "Requests made with the key (proxied or refused once the key was known), by status class per hour or day (needs api_keys:read)",
    security,
    request: { params: KeyIdParam, query: UsageQuery },
    responses: { 200: json(UsageSchema, "Counts per bucket") },
  }),
};

type Ctx = Context<AppEnv>;

/** The lifecycle operations, wired to this isolate's caches and waitUntil. */
export async function storeFor(c: Ctx): Promise<KeyStore> {
  const rt = c.get("state").runtime;
  return {
    db: c.env.DB,
    kv: c.env.KEYS_CACHE,
    hashSecret: await rt.hashKey,
    hashSecretVersion: rt.config.KEY_HASH_SECRET_VERSION,
    kvTtlSeconds: rt.config.KV_CACHE_TTL_S,
    now: () => new Date(),
    evict: (hash) => {
      rt.keys.delete(hash);
      rt.unknownKeys.delete(hash);
    },
    later: (work) => c.executionCtx.waitUntil(work),
    tombstoneRewriteDelayMs: rt.config.TOMBSTONE_REWRITE_DELAY_MS,
  };
}

const caller = callerOf;

/** GET /self is for keys only (the route table admits no person there). */
function callingKeyId(c: Ctx): string {
  const id = caller(c).keyId;
  if (id === null) throw new GatewayError("internal_error", "GET /self was reached without a key");
  return id;
}

/** Another organization's key, or no key at all, is the same 404 (docs/design.md §8). */
async function keyInOrg(c: Ctx, id: string): Promise<KeyRow> {
  const row = KEY_ID_PATTERN.test(id) ? await findKeyInOrg(c.env.DB, caller(c).organization_id, id) : null;
  if (!row) throw new GatewayError("not_found", "No such API key");
  return row;
}

function refuseBeyond(c: Ctx, wanted: readonly string[], action: string): void {
  const beyond = scopesBeyond(caller(c).scopes, wanted);
  if (beyond.length > 0) {
    throw new GatewayError("forbidden", `You cannot ${action} a key with scopes you do not hold: ${beyond.join(" ")}`);
  }
}

/** The schema has checked the list; this gives the one spelling that is stored. */
function canonicalAllowlist(list: string[] | null | undefined): string[] | null {
  if (!list) return null;
  const checked = checkAllowlist(list);
  if (!checked.ok) throw new GatewayError("invalid_request", "allowed_cidrs: invalid");
  return checked.canonical;
}

/** A test-mode key may change only test-mode keys: a leaked test key cannot touch production keys. */
function refuseModeBeyond(c: Ctx, target: KeyMode, action: string): void {
  if (caller(c).mode === "test" && target === "live") {
    throw new GatewayError("forbidden", `A test-mode key can only ${action} test-mode keys`);
  }
}

const ok = <T>(c: Ctx, data: T, status: 200 | 201 = 200) => c.json(successEnvelope(data), status, OWN_RESPONSE_HEADERS);

export function keysApi() {
  const api = new OpenAPIHono<AppEnv>({
    strict: false,
    defaultHook: (result) => {
      if (result.success) return;
      throw invalidRequest(decisiveIssues(result.error.issues));
    },
  });

  api.openapi(routes.create, async (c) => {
    const input = c.req.valid("json");
    // A test key's default is its own mode: whatever it creates stays in test.
    const mode = input.mode ?? caller(c).mode ?? "live";
    refuseModeBeyond(c, mode, "create");
    refuseBeyond(c, input.scopes, "create");
    if (!modeEnabled(mode, c.get("state").runtime.config))
      throw new GatewayError("invalid_request", `${TEST_MODE_DISABLED}: mode "test" is unavailable`);
    const now = Date.now();
    if (input.expires_at && Date.parse(input.expires_at) <= now) {
      throw new GatewayError("invalid_request", "expires_at: must be in the future");
    }
    const created = await createKey(await storeFor(c), {
      organizationId: caller(c).organization_id,
      name: input.name,
      scopes: input.scopes,
      expiresAt: input.expires_at ? new Date(input.expires_at).toISOString() : null,
      actor: caller(c).actor,
      rateLimit: input.rate_limit ?? null,
      monthlyQuota: input.monthly_quota ?? null,
      allowedCidrs: canonicalAllowlist(input.allowed_cidrs),
      mode,
    });
    return ok(c, created, 201);
  });

  api.openapi(routes.list, async (c) => {
    const { limit, cursor } = c.req.valid("query");
    const after = cursor === undefined ? null : decodeCursor(cursor);
    const rows = await listKeysInOrg(c.env.DB, caller(c).organization_id, limit + 1, after);
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const now = Date.now();
    return ok(c, {
      items: page.map((r) => toKeyObject(r, now)),
      next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
    });
  });

  api.openapi(routes.self, async (c) => ok(c, toKeyObject(await keyInOrg(c, callingKeyId(c)), Date.now())));

  api.openapi(routes.show, async (c) => ok(c, toKeyObject(await keyInOrg(c, c.req.valid("param").id), Date.now())));

  api.openapi(routes.rename, async (c) => {
    const row = await keyInOrg(c, c.req.valid("param").id);
    const { name } = c.req.valid("json");
    refuseModeBeyond(c, row.mode, "rename");
    const now = new Date();
    await renameKey(c.env.DB, row, name, caller(c).actor, now.toISOString());
    return ok(c, toKeyObject({ ...row, name }, now.getTime()));
  });

  api.openapi(routes.revoke, async (c) => {
    const row = await keyInOrg(c, c.req.valid("param").id);
    refuseModeBeyond(c, row.mode, "revoke");
    return ok(c, await revokeKey(await storeFor(c), row, caller(c).actor));
  });

  api.openapi(routes.rotate, async (c) => {
    const row = await keyInOrg(c, c.req.valid("param").id);
    // An absent body skips validation: no body, like an omitted grace_seconds, means no grace.
    const grace = (c.req.valid("json") as { grace_seconds?: number }).grace_seconds ?? 0;
    refuseModeBeyond(c, row.mode, "rotate");
    refuseBeyond(c, scopesOf(row), "rotate");
    return ok(c, await rotateKey(await storeFor(c), row, grace, caller(c).actor), 201);
  });

  api.openapi(routes.events, async (c) => {
    const row = await keyInOrg(c, c.req.valid("param").id);
    return ok(c, { items: await listEvents(c.env.DB, row.id) });
  });

  api.openapi(routes.usage, async (c) => {
    const row = await keyInOrg(c, c.req.valid("param").id);
    const range = usageRange(c.req.valid("query"), Date.now());
    const { fromHour, toHour } = hoursOf(range);
    const counts = range.buckets === 0 ? [] : await c.get("state").runtime.usage.source.hourly(row.id, fromHour, toHour);
    return ok(c, {
      key_id: row.id,
      granularity: range.granularity,
      from: new Date(range.start).toISOString(),
      to: new Date(range.end).toISOString(),
      buckets: toBuckets(range, counts),
    });
  });

  registerSecuritySchemes(api.openAPIRegistry);
  return api;
}
