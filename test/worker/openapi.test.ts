import { describe, expect, it } from "vitest";
import { SCOPE_CATALOG } from "../../src/auth/scopes.ts";
import { STATUS_OF_CODE } from "../../src/errors.ts";
import { BASE, call } from "./helpers.ts";
import { MANAGEMENT_ROUTES } from "../support/management-routes.ts";

/**
 * GET /openapi.json through the Worker: the management API with every error
 * status of docs/design.md §5, generated from the zod schemas that validate requests.
 * (test/node/openapi.test.ts runs the npm OpenAPI validator on the same document.)
 */

interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { headers?: Record<string, { $ref: string }>; content?: Record<string, { schema: unknown }> }>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string; license?: { name: string; identifier?: string } };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, unknown>;
    schemas: Record<string, Record<string, unknown>>;
    headers: Record<string, unknown>;
  };
}

/** What each management operation can answer besides its success: see src/api/responses.ts. */
const KEY_ERRORS = ["400", "401", "403", "414", "429", "500", "503"];
const KEY_BY_ID_ERRORS = [...KEY_ERRORS, "404"].sort();
const header = (name: string) => ({ $ref: `#/components/headers/${name}` });
const withHeads = (routes: readonly (readonly [string, string])[]) =>
  routes.flatMap(([m, p]) => (m === "get" ? [`get ${p}`, `head ${p}`] : [`${m} ${p}`]));

async function fetchDocument(): Promise<{ res: Response; doc: Document }> {
  const res = await call("/openapi.json");
  expect(res.status, await res.clone().text()).toBe(200);
  return { res, doc: (await res.json()) as Document };
}

describe("GET /openapi.json", () => {
  it("is public JSON, cacheable, readable cross-origin", async () => {
    const { res, doc } = await fetchDocument();
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("cache-control")).toBe("public, max-age=300");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBeTruthy();
    const head = await call("/openapi.json", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect((await call("/openapi.json", { method: "POST" })).status).toBe(405);
  });

  it("has every management route with its full path, behind the bearer scheme (and, for people, the access token and session cookie)", async () => {
    const { doc } = await fetchDocument();
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.bearerJwt).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: "apiKey", in: "cookie", name: "__Host-gw_session" });
    for (const [method, path] of MANAGEMENT_ROUTES) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path}`).toBeDefined();
      // GET /self is the calling key's own record: keys only.
      expect(op!.security).toEqual(path.endsWith("/self") ? [{ bearer: [] }] : [{ bearer: [] }, { bearerJwt: [] }, { sessionCookie: [] }]);
      if (path.includes("{id}")) expect(op!.parameters).toContainEqual(expect.objectContaining({ name: "id", in: "path", required: true }));
    }
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(documented.filter((d) => d.includes("/api/v1/api-keys")).sort()).toEqual(withHeads(MANAGEMENT_ROUTES).sort());
    // Hono's `:id` never leaks into the document.
    expect(Object.keys(doc.paths).filter((p) => p.includes(":"))).toEqual([]);
  });

  it("documents on each management operation exactly the error statuses it can answer, with the envelope and its headers", async () => {
    const { doc } = await fetchDocument();
    expect(doc.components.schemas.Error).toMatchObject({
      type: "object",
      required: expect.arrayContaining(["success", "data", "errors"]),
    });
    const codes = (doc.components.schemas.Error as { properties: { errors: { items: { properties: { code: { enum: string[] } } } } } })
      .properties.errors.items.properties.code.enum;
    expect([...codes].sort()).toEqual(Object.keys(STATUS_OF_CODE).sort());
    for (const [method, path] of MANAGEMENT_ROUTES) {
      const responses = doc.paths[path]![method]!.responses;
      const errors = Object.keys(responses)
        .filter((s) => Number(s) >= 400)
        .sort();
      expect(errors, `${method} ${path}`).toEqual(path.includes("{id}") ? KEY_BY_ID_ERRORS : KEY_ERRORS);
      for (const status of errors) {
        expect(responses[status]?.content?.["application/json"]?.schema, `${method} ${path} ${status}`).toEqual({
          $ref: "#/components/schemas/Error",
        });
        expect(responses[status]!.headers?.["X-Request-Id"], `${method} ${path} ${status}`).toEqual(header("X-Request-Id"));
      }
      expect(responses["401"]!.headers?.["WWW-Authenticate"]).toEqual(header("WWW-Authenticate"));
      expect(responses["403"]!.headers?.["WWW-Authenticate"]).toEqual(header("WWW-Authenticate"));
      expect(responses["429"]!.headers?.["Retry-After"]).toEqual(header("Retry-After"));
      const success = responses["200"] ?? responses["201"];
      expect(Object.keys(success!.headers ?? {}).sort()).toEqual(["RateLimit", "RateLimit-Policy", "X-Request-Id"]);
    }
    expect(Object.keys(doc.components.headers).sort()).toEqual([
      "RateLimit",
      "RateLimit-Policy",
      "Retry-After",
      "WWW-Authenticate",
      "X-Request-Id",
    ]);
  });

  it("names every operation (a unique operationId) and documents HEAD wherever GET is served", async () => {
    const { doc } = await fetchDocument();
    const ops = Object.entries(doc.paths).flatMap(([p, item]) => Object.entries(item).map(([m, op]) => ({ m, p, op })));
    const ids = ops.map(({ op }) => op.operationId);
    expect(ids.filter((id) => !id)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { m, p, op } of ops) {
      if (m !== "get") continue;
      expect(doc.paths[p]!.head?.operationId, p).toBe(`${op.operationId}Head`);
      const head = await call(p.replace("{id}", "key_AAAAAAAAAAAAAAAAAAAA"), { method: "HEAD" });
      expect(head.status, `HEAD ${p}`).not.toBe(405);
      expect(await head.text()).toBe("");
    }
  });

  it("names the server it was fetched from, a licence, date-time timestamps, strict request bodies", async () => {
    const { doc } = await fetchDocument();
    expect(doc.servers).toEqual([{ url: BASE, description: "The gateway this document was fetched from" }]);
    expect(doc.info.license).toEqual({ name: "Proprietary", identifier: "LicenseRef-Proprietary" });
    const key = doc.components.schemas.ApiKey as { properties: Record<string, { format?: string; anyOf?: { format?: string }[] }> };
    for (const field of ["created_at", "last_used_at", "expires_at", "revoked_at"]) {
      const schema = key.properties[field]!;
      expect(schema.format ?? schema.anyOf?.find((s) => s.format)?.format, field).toBe("date-time");
    }
    for (const name of ["CreateKeyRequest", "RenameKeyRequest", "RotateKeyRequest"]) {
      expect(doc.components.schemas[name]!.additionalProperties, name).toBe(false);
    }
    const rotate = doc.components.schemas.RotateKeyRequest as { required?: string[]; properties: { grace_seconds: { default?: number } } };
    expect(rotate.required ?? []).not.toContain("grace_seconds");
    expect(rotate.properties.grace_seconds.default).toBeUndefined();
  });

  it("comes from the request-validating zod schemas (the scope enum is the catalog)", async () => {
    const { doc } = await fetchDocument();
    const create = doc.paths["/api/v1/api-keys"]!.post!;
    expect(create.requestBody!.content["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/CreateKeyRequest" });
    const body = doc.components.schemas.CreateKeyRequest as { properties: { scopes: { items: { enum: string[] } } }; required: string[] };
    expect(body.properties.scopes.items.enum).toEqual(SCOPE_CATALOG.map((s) => s.scope));
    expect(body.required).toEqual(expect.arrayContaining(["name", "scopes"]));
    expect(doc.components.schemas.ApiKey).toMatchObject({
      properties: expect.objectContaining({ state: expect.objectContaining({ enum: ["active", "expired", "revoked"] }) }),
    });
    expect(create.responses["201"]).toBeDefined();
    expect(doc.paths["/api/v1/api-keys/{id}/rotate"]!.post!.responses["201"]).toBeDefined();
    expect(doc.paths["/api/v1/api-keys"]!.get!.parameters!.map((p) => p.name).sort()).toEqual(["cursor", "limit"]);
  });

  it("documents the public JWKS for X-Gateway-Identity, without the bearer scheme", async () => {
    const { doc } = await fetchDocument();
    const op = doc.paths["/.well-known/jwks.json"]?.get;
    expect(op).toBeDefined();
    expect(op!.security).toEqual([]);
    expect(Object.keys(op!.responses["200"]!.content!)).toEqual(["application/jwk-set+json"]);
    expect(doc.components.schemas.IdentityPublicKey).toBeDefined();
  });

  it("is the same document on every request", async () => {
    const a = await (await call("/openapi.json")).text();
    const b = await (await call("/openapi.json")).text();
    expect(a).toBe(b);
  });
});
