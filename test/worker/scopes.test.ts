import { describe, expect, it } from "vitest";
import { ALL_SCOPES, grants, missingScopes, RESOURCES, scopesBeyond } from "../../src/auth/scopes.ts";

describe("the scope catalog", () => {
  it("holds every scope of both product documents, plus legacy and *", () => {
    const seeds = [
      ...["interviews", "candidates", "jobs", "campaigns", "stages", "tests", "agents"].flatMap((r) => [`${r}:read`, `${r}:write`]),
      "reports:read",
      ...["applications", "webhooks", "offers"].flatMap((r) => [`${r}:read`, `${r}:write`]),
      "analytics:read",
      "bulk:write",
      "read",
      "write",
      "*",
    ];
    for (const s of seeds) expect(ALL_SCOPES.has(s), s).toBe(true);
    expect(ALL_SCOPES.has("api_keys:read") && ALL_SCOPES.has("api_keys:write")).toBe(true);
  });

  it("has no write scope for read-only resources nor read scope for bulk", () => {
    expect(ALL_SCOPES.has("reports:write")).toBe(false);
    expect(ALL_SCOPES.has("analytics:write")).toBe(false);
    expect(ALL_SCOPES.has("bulk:read")).toBe(false);
  });
});

// held, required, granted?
const GRANTS: [string[], string, boolean][] = [
  [["candidates:read"], "candidates:read", true],
  [["candidates:read"], "candidates:write", false],
  [["candidates:write"], "candidates:read", false], // write does not imply read
  [["candidates:read"], "jobs:read", false],
  [["read"], "candidates:read", true],
  [["read"], "reports:read", true],
  [["read"], "candidates:write", false],
  [["write"], "jobs:write", true],
  [["write"], "bulk:write", true],
  [["write"], "jobs:read", false],
  [["read"], "api_keys:read", false], // api_keys only explicitly or by *
  [["write"], "api_keys:write", false],
  [["read", "write"], "api_keys:read", false],
  [["api_keys:read"], "api_keys:read", true],
  [["api_keys:write"], "api_keys:read", false],
  [["*"], "api_keys:write", true],
  [["*"], "candidates:read", true],
  [["*"], "bulk:write", true],
  [[], "candidates:read", false],
];

describe("grants", () => {
  it.each(GRANTS)("%j grants %s: %s", (held, required, expected) => {
    expect(grants(held, required)).toBe(expected);
  });

  it.each(RESOURCES.flatMap((r) => [r.read && `${r.name}:read`, r.write && `${r.name}:write`].filter((s): s is string => !!s)))(
    "%s is granted by itself and by *, and by no other resource's scope",
    (scope) => {
      expect(grants([scope], scope)).toBe(true);
      expect(grants(["*"], scope)).toBe(true);
      const others = [...ALL_SCOPES].filter((s) => s.includes(":") && s !== scope);
      expect(others.filter((o) => grants([o], scope))).toEqual([]);
    },
  );

  it("missingScopes lists every required scope not granted, in order", () => {
    expect(missingScopes(["candidates:read"], ["bulk:write", "candidates:write"])).toEqual(["bulk:write", "candidates:write"]);
    expect(missingScopes(["write"], ["bulk:write", "candidates:write"])).toEqual([]);
  });
});

describe("delegation: a key hands out only what it holds", () => {
  const BEYOND: [string[], string[], string[]][] = [
    [["*"], ["*", "read", "api_keys:write"], []],
    [["read"], ["candidates:read", "read"], []],
    [["read"], ["*"], ["*"]],
    [["read"], ["write", "candidates:write"], ["write", "candidates:write"]],
    [["candidates:read"], ["read"], ["read"]],
    [["read"], ["api_keys:read"], ["api_keys:read"]],
    [["api_keys:write", "jobs:read"], ["jobs:read", "jobs:write"], ["jobs:write"]],
  ];
  it.each(BEYOND)("%j creating %j is refused for %j", (held, wanted, refused) => {
    expect(scopesBeyond(held, wanted)).toEqual(refused);
  });
});
