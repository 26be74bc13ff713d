import { grants, LEGACY_SCOPES, RESOURCES, SCOPE_CATALOG, scopesBeyond } from "../auth/scopes.ts";

/**
 * The scope catalog as the settings page shows it: one row per resource with
 * its read and write scopes, then the broad legacy scopes. Derived from
 * src/auth/scopes.ts when the page is rendered, so the page cannot drift from
 * what the API accepts.
 *
 * grantedBy / allOf become the choices' data-granted-by / data-all-of
 * attributes (a resource's Read / Write radios, the broad scopes' checkboxes),
 * which state the hand-out rule in the markup; the client does not read them
 * but applies the rule itself (scopesBeyond, imported from the same catalog)
 * to the scopes each choice grants (data-grants), so the two cannot disagree.
 */
export interface ScopeChoice {
  scope: string;
  description: string;
  /** Single scopes any one of which lets a key hand this scope out (docs/design.md §3). */
  grantedBy: string[];
  /** For `read` / `write`: holding every one of these also lets a key hand it out. */
  allOf: string[];
}

export interface ResourceGroup {
  resource: string;
  read: ScopeChoice | null;
  write: ScopeChoice | null;
  explicitOnly: boolean;
}

const ALL = SCOPE_CATALOG.map((s) => s.scope);

function choice(scope: string, description: string): ScopeChoice {
  const grantedBy = ALL.filter((held) => scopesBeyond([held], [scope]).length === 0);
  // `read` / `write` can also be handed out by a key that holds each scope they expand to.
  const allOf =
    scope === "read" || scope === "write"
      ? RESOURCES.flatMap((r) => (r[scope] ? [`${r.name}:${scope}`] : [])).filter((s) => grants([scope], s))
      : [];
  return { scope, description, grantedBy, allOf };
}

export function resourceGroups(): ResourceGroup[] {
  return RESOURCES.map((r) => ({
    resource: r.name,
    read: r.read ? choice(`${r.name}:read`, r.read) : null,
    write: r.write ? choice(`${r.name}:write`, r.write) : null,
    explicitOnly: r.explicitOnly,
  }));
}

export function legacyChoices(): ScopeChoice[] {
  return Object.entries(LEGACY_SCOPES).map(([scope, description]) => choice(scope, description));
}
