import { z } from "zod";
import { RESOURCES } from "../auth/scopes-schema.ts";
import { ALL_SCOPES } from "../auth/scopes.ts";

export const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] as const;
export type Method = (typeof METHODS)[number];

/**
 * One row of the route table (docs/design.md §4). `pattern` is matched per segment,
 * case-sensitively: a literal, `*` (exactly one segment) or a final `**`
 * (any number of further segments, none included). Every listed scope is required.
 */
export const RouteSchema = z
  .object({
    methods: z.array(z.enum(METHODS)).nonempty(),
    pattern: z
      .string()
      .regex(/^(\/([A-Za-z0-9._~-]+|\*))*(\/\*\*)?$/, "segments are literals, `*`, or a final `**`")
      .refine((p) => p.length > 0, "must not be empty"),
    scopes: z.array(z.string().refine((s) => ALL_SCOPES.has(s), "unknown scope")),
    /**
     * `key`: an API key is required; `key_or_person`: an API key or, with sign-in configured, a person
     * (session cookie or the identity provider's access token: src/people/); `public`: neither.
     */
    access: z.enum(["key", "key_or_person", "public"]),
    /** `origin`: proxied upstream; `gateway`: answered by the Worker itself. */
    target: z.enum(["origin", "gateway"]),
  })
  .refine((r) => r.target === "gateway" || (r.access === "key" && r.scopes.length > 0), {
    message: "a proxied route needs a key and at least one scope (deny by default)",
  });
export type Route = z.output<typeof RouteSchema>;

type RouteInput = z.input<typeof RouteSchema>;

const READ: Method[] = ["GET", "HEAD"];
const WRITE: Method[] = ["POST", "PUT", "PATCH", "DELETE"];

const row = (methods: Method[], pattern: string, scopes: string[], target: Route["target"] = "origin"): RouteInput => ({
  methods: methods as RouteInput["methods"],
  pattern,
  scopes,
  access: "key",
  target,
});

/** A management route people may use too. Never proxied: the schema's refinement keeps people off the origin's routes. */
const managed = (methods: Method[], pattern: string, scopes: string[]): RouteInput => ({
  ...row(methods, pattern, scopes, "gateway"),
  access: "key_or_person",
});

const publicRoute = (methods: Method[], pattern: string): RouteInput => ({
  methods: methods as RouteInput["methods"],
  pattern,
  scopes: [],
  access: "public",
  target: "gateway",
});

/** GET|HEAD need R:read, writes need R:write; a resource lacking an action answers 405 to its methods. */
function resourceRoutes(): RouteInput[] {
  return RESOURCES.filter((r) => !r.gatewayServed && r.name !== "bulk").flatMap((r) => [
    ...(r.read ? [row(READ, `/api/v1/${r.name}/**`, [`${r.name}:read`])] : []),
    ...(r.write ? [row(WRITE, `/api/v1/${r.name}/**`, [`${r.name}:write`])] : []),
  ]);
}

/** `POST /api/v1/bulk/R/**` needs bulk:write and R:write. */
function bulkRoutes(): RouteInput[] {
  return RESOURCES.filter((r) => r.write && !r.explicitOnly && r.name !== "bulk").map((r) =>
    row(["POST"], `/api/v1/bulk/${r.name}/**`, ["bulk:write", `${r.name}:write`]),
  );
}

/** The default table, derived from the scope catalog so the two cannot drift. */
export const DEFAULT_ROUTES: readonly Route[] = z.array(RouteSchema).parse([
  { methods: READ, pattern: "/healthz", scopes: [], access: "public", target: "gateway" },
  { methods: READ, pattern: "/openapi.json", scopes: [], access: "public", target: "gateway" },
  { methods: READ, pattern: "/.well-known/jwks.json", scopes: [], access: "public", target: "gateway" },
  { methods: READ, pattern: "/settings/api-keys", scopes: [], access: "public", target: "gateway" },
  { methods: READ, pattern: "/settings/api-keys/app.js", scopes: [], access: "public", target: "gateway" },
  { methods: READ, pattern: "/settings/api-keys/app.css", scopes: [], access: "public", target: "gateway" },
  // Sign-in (src/people/, docs/sign-in.md): answered 404 while OIDC_ISSUER is unset.
  publicRoute(READ, "/settings/login"),
  publicRoute(READ, "/settings/callback"),
  publicRoute(["POST"], "/settings/logout"),
  managed(READ, "/api/v1/session", []),
  managed(READ, "/api/v1/api-keys", ["api_keys:read"]),
  managed(["POST"], "/api/v1/api-keys", ["api_keys:write"]),
  // "The calling key": a key's own record, so keys only.
  row(READ, "/api/v1/api-keys/self", [], "gateway"),
  managed(READ, "/api/v1/api-keys/*", ["api_keys:read"]),
  managed(["PATCH", "DELETE"], "/api/v1/api-keys/*", ["api_keys:write"]),
  managed(["POST"], "/api/v1/api-keys/*/rotate", ["api_keys:write"]),
  managed(READ, "/api/v1/api-keys/*/events", ["api_keys:read"]),
  // Leaked-key reports: public (no API key), authenticated by the scanner's signature instead.
  { methods: ["POST"], pattern: "/api/v1/secret-scanning/report", scopes: [], access: "public", target: "gateway" },
  managed(READ, "/api/v1/api-keys/*/usage", ["api_keys:read"]),
  ...resourceRoutes(),
  ...bulkRoutes(),
]);
