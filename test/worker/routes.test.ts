import { describe, expect, it } from "vitest";
import { z } from "zod";
import { compileRoutes } from "../../src/routes/match.ts";
import { DEFAULT_ROUTES, RouteSchema } from "../../src/routes/table.ts";

const routes = compileRoutes(DEFAULT_ROUTES);

// method, path → required scopes, or the status the gateway answers instead.
const TABLE: [string, string, string[] | 404 | 405][] = [
  ["GET", "/api/v1/candidates", ["candidates:read"]],
  ["HEAD", "/api/v1/candidates", ["candidates:read"]],
  ["GET", "/api/v1/candidates/", ["candidates:read"]],
  ["GET", "/api/v1/candidates/c_1/notes/n_2", ["candidates:read"]],
  ["POST", "/api/v1/candidates", ["candidates:write"]],
  ["PUT", "/api/v1/jobs/j_1", ["jobs:write"]],
  ["PATCH", "/api/v1/applications/a_1", ["applications:write"]],
  ["DELETE", "/api/v1/interviews/i_1", ["interviews:write"]],
  ["GET", "/api/v1/reports/r_1", ["reports:read"]],
  ["POST", "/api/v1/reports", 405],
  ["GET", "/api/v1/analytics", ["analytics:read"]],
  ["DELETE", "/api/v1/analytics", 405],
  ["POST", "/api/v1/bulk/candidates", ["bulk:write", "candidates:write"]],
  ["POST", "/api/v1/bulk/jobs/import", ["bulk:write", "jobs:write"]],
  ["GET", "/api/v1/bulk/jobs", 405],
  ["POST", "/api/v1/bulk/reports", 404],
  ["POST", "/api/v1/bulk/api_keys", 404],
  ["POST", "/api/v1/bulk", 404],
  ["GET", "/api/v1/api-keys", ["api_keys:read"]],
  ["POST", "/api/v1/api-keys", ["api_keys:write"]],
  ["GET", "/api/v1/api-keys/self", []],
  ["DELETE", "/api/v1/api-keys/self", 405],
  ["GET", "/api/v1/api-keys/key_x", ["api_keys:read"]],
  ["PATCH", "/api/v1/api-keys/key_x", ["api_keys:write"]],
  ["POST", "/api/v1/api-keys/key_x/rotate", ["api_keys:write"]],
  ["GET", "/api/v1/api-keys/key_x/events", ["api_keys:read"]],
  ["GET", "/api/v1/api-keys/key_x/other", 404],
  ["GET", "/api/v1/Candidates", 404],
  ["GET", "/API/V1/JOBS", 404],
  ["GET", "/api/v1", 404],
  ["GET", "/", 404],
  ["GET", "/healthz", []],
  ["OPTIONS", "/api/v1/jobs", 405],
];

describe("route table", () => {
  it.each(TABLE)("%s %s → %j", (method, path, expected) => {
    const m = routes.match(method, path);
    if (expected === 404) expect(m.kind).toBe("not_found");
    else if (expected === 405) expect(m.kind).toBe("method_not_allowed");
    else {
      expect(m.kind).toBe("route");
      if (m.kind === "route") expect(m.route.scopes).toEqual(expected);
    }
  });

  it("every proxied route needs at least one scope; only gateway routes may need none", () => {
    for (const r of DEFAULT_ROUTES.filter((r) => r.target === "origin")) expect(r.scopes.length).toBeGreaterThan(0);
  });

  it("is validated: unknown scopes, bad patterns and duplicate methods are refused at start-up", () => {
    const bad = [
      { methods: ["GET"], pattern: "/x", scopes: ["nope:read"], access: "key", target: "origin" },
      { methods: ["GET"], pattern: "/x/**/y", scopes: [], access: "key", target: "origin" },
      { methods: ["OPTIONS"], pattern: "/x", scopes: [], access: "key", target: "origin" },
      { methods: [], pattern: "/x", scopes: [], access: "key", target: "origin" },
      { methods: ["GET"], pattern: "/x", scopes: ["jobs:read"], access: "public", target: "origin" },
      { methods: ["GET"], pattern: "/x", scopes: [], access: "key", target: "origin" },
    ];
    for (const row of bad) expect(RouteSchema.safeParse(row).success, JSON.stringify(row)).toBe(false);
    const dup = z.array(RouteSchema).parse([
      { methods: ["GET"], pattern: "/x", scopes: [], access: "public", target: "gateway" },
      { methods: ["GET"], pattern: "/x", scopes: [], access: "public", target: "gateway" },
    ]);
    expect(() => compileRoutes(dup)).toThrow(/listed twice/);
  });
});
