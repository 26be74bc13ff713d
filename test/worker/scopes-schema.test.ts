import { describe, expect, it } from "vitest";
import { RESOURCES as VALIDATED, ResourceSchema } from "../../src/auth/scopes-schema.ts";
import { RESOURCES } from "../../src/auth/scopes.ts";
import { DEFAULT_ROUTES } from "../../src/routes/table.ts";

/**
 * The scope catalog imports nothing (the settings page's client bundles it);
 * src/auth/scopes-schema.ts checks it with zod when the route table loads.
 */
describe("the scope catalog's zod check", () => {
  it("passes the catalog through unchanged, defaults filled in, and the route table is built from it", () => {
    expect(VALIDATED).toEqual(RESOURCES);
    expect(RESOURCES.find((r) => r.name === "jobs")).toMatchObject({ explicitOnly: false, gatewayServed: false });
    expect(RESOURCES.find((r) => r.name === "api_keys")).toMatchObject({ explicitOnly: true, gatewayServed: true });
    expect(DEFAULT_ROUTES.some((r) => r.pattern === "/api/v1/jobs/**")).toBe(true);
  });

  it("refuses a malformed row", () => {
    const good = { name: "jobs", read: "Read jobs", write: null, explicitOnly: false, gatewayServed: false };
    expect(ResourceSchema.safeParse(good).success).toBe(true);
    for (const bad of [
      { ...good, name: "Jobs" },
      { ...good, name: "jobs:read" },
      { ...good, read: "" },
      { ...good, explicitOnly: undefined },
      { ...good, extra: true },
    ]) {
      expect(ResourceSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
