import { describe, expect, it } from "vitest";
import { SCOPE_CATALOG } from "../../src/auth/scopes.ts";
import { STATUS_OF_CODE } from "../../src/errors.ts";
import { call } from "./helpers.ts";
import { MANAGEMENT_ROUTES } from "../support/management-routes.ts";

/**
 * GET /openapi.json through the Worker: the management API with every error
 * status of DESIGN §5, generated from the zod schemas that validate requests.
 * (test/node/openapi.test.ts runs the npm OpenAPI validator on the same document.)
 */

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
interface Document {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, Record<string, unknown>> };
}


const ERROR_STATUSES = [...new Set(Object.values(STATUS_OF_CODE))].map(String).sort();

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
    expect(documented.filter((d) => d.includes("/api/v1/api-keys")).sort()).toEqual(MANAGEMENT_ROUTES.map(([m, p]) => `${m} ${p}`).sort());
    // Hono's `:id` never leaks into the document.
    expect(Object.keys(doc.paths).filter((p) => p.includes(":"))).toEqual([]);
  });

  it("documents the error envelope for every status of DESIGN §5 on every management route", async () => {
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
      for (const status of ERROR_STATUSES) {
        expect(responses[status]?.content?.["application/json"]?.schema, `${method} ${path} ${status}`).toEqual({
          $ref: "#/components/schemas/Error",
        });
      }
    }
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
