/**
 * The scope catalog (docs/design.md §3): the union of both product documents. One row
 * per resource; the actions it has decide both its scopes and which methods
 * its routes allow (a read-only resource answers 405 to writes).
 *
 * Free of imports (zod included) because the settings page's client bundles
 * it too; src/auth/scopes-schema.ts validates the table with zod when the
 * Worker loads the route table.
 */
export interface Resource {
  name: string;
  read: string | null;
  write: string | null;
  /** Not reachable through legacy `read` / `write`, only by name or `*`. */
  explicitOnly: boolean;
  /** Served by the gateway itself rather than proxied. */
  gatewayServed: boolean;
}

type ResourceRow = Pick<Resource, "name" | "read" | "write"> & Partial<Resource>;
const withDefaults = (r: ResourceRow): Resource => ({ explicitOnly: false, gatewayServed: false, ...r });

export const RESOURCES: readonly Resource[] = (
  [
    { name: "candidates", read: "Read candidate profiles", write: "Create, update and delete candidates" },
    { name: "jobs", read: "Read job postings", write: "Create and manage job postings" },
    { name: "applications", read: "Read applications", write: "Create, update and manage applications" },
    { name: "interviews", read: "Read interviews and their details", write: "Schedule, update and cancel interviews" },
    { name: "campaigns", read: "Read hiring processes", write: "Create and manage hiring processes" },
    { name: "stages", read: "Read pipeline stages", write: "Manage pipeline stages" },
    { name: "tests", read: "Read technical tests", write: "Create and manage technical tests" },
    { name: "agents", read: "Read AI agents (config, voice, tone)", write: "Create and update AI agents" },
    { name: "webhooks", read: "Read webhook endpoints", write: "Manage webhook endpoints" },
    { name: "offers", read: "Read offers", write: "Create and manage offers" },
    { name: "reports", read: "Read results of tests and interviews", write: null },
    { name: "analytics", read: "Read analytics", write: null },
    { name: "bulk", read: null, write: "Bulk operations (also needs the target resource's write scope)" },
    {
      name: "api_keys",
      read: "List and inspect API keys",
      write: "Create, rename, rotate and revoke API keys",
      explicitOnly: true,
      gatewayServed: true,
    },
  ] satisfies ResourceRow[]
).map(withDefaults);

export const LEGACY_SCOPES = {
  read: "Read all data (legacy broad scope; excludes api_keys)",
  write: "Write all data (legacy broad scope; excludes api_keys)",
  "*": "Full access (every scope, including api_keys)",
} as const;

export interface ScopeInfo {
  scope: string;
  description: string;
}

/** Every scope a key may hold, in catalog order. */
export const SCOPE_CATALOG: readonly ScopeInfo[] = [
  ...RESOURCES.flatMap((r) => [
    ...(r.read ? [{ scope: `${r.name}:read`, description: r.read }] : []),
    ...(r.write ? [{ scope: `${r.name}:write`, description: r.write }] : []),
  ]),
  ...Object.entries(LEGACY_SCOPES).map(([scope, description]) => ({ scope, description })),
];

export const ALL_SCOPES: ReadonlySet<string> = new Set(SCOPE_CATALOG.map((s) => s.scope));

const EXPLICIT_ONLY = new Set(RESOURCES.filter((r) => r.explicitOnly).map((r) => r.name));

/** Does a key holding `held` satisfy the single scope `required`? (docs/design.md §3 grants) */
export function grants(held: readonly string[], required: string): boolean {
  if (held.includes("*") || held.includes(required)) return true;
  const colon = required.indexOf(":");
  const resource = required.slice(0, colon);
  const action = required.slice(colon + 1);
  if (colon < 0 || EXPLICIT_ONLY.has(resource)) return false;
  return (action === "read" || action === "write") && held.includes(action);
}

/** The required scopes `held` does not grant, in the order required. */
export function missingScopes(held: readonly string[], required: readonly string[]): string[] {
  return required.filter((r) => !grants(held, r));
}

/**
 * The wanted scopes a key holding `held` may not hand out: a key creates or
 * rotates keys only with scopes it holds itself (docs/design.md §3).
 */
export function scopesBeyond(held: readonly string[], wanted: readonly string[]): string[] {
  return wanted.filter((w) => !coversScope(held, w));
}

function coversScope(held: readonly string[], wanted: string): boolean {
  if (held.includes("*")) return true;
  if (wanted === "*") return false;
  if (wanted === "read" || wanted === "write") {
    return held.includes(wanted) || legacyExpansion(wanted).every((s) => grants(held, s));
  }
  return grants(held, wanted);
}

function legacyExpansion(action: "read" | "write"): string[] {
  return RESOURCES.filter((r) => !r.explicitOnly && r[action]).map((r) => `${r.name}:${action}`);
}
