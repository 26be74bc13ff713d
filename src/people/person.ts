import type { OidcConfig } from "../config.ts";
import { GatewayError } from "../errors.ts";
import type { UserActor } from "../storage/actors.ts";

/**
 * A person signed in through the identity provider, as the management API
 * sees them: their organization and management scopes come from two claims of
 * their ID token or access token, mapped through OIDC_ROLE_SCOPES.
 */
export interface Person {
  sub: string;
  email: string | null;
  name: string | null;
  organization_id: string;
  roles: string[];
  scopes: string[];
}

/** The organization ids keys carry elsewhere (the key command line, the identity header) are plain tokens. */
const ORG_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

const text = (v: unknown, max: number): string | null => (typeof v === "string" && v.length > 0 && v.length <= max ? v : null);

/** A roles claim is an array of strings (most providers) or one string (some send a single role). */
function rolesOf(v: unknown): string[] {
  if (typeof v === "string") return v.split(" ").filter(Boolean);
  if (Array.isArray(v)) return v.filter((r): r is string => typeof r === "string");
  return [];
}

/**
 * Claims → person, or a 403 naming what is missing: never a person without an
 * organization (whose keys would they see?) or without a mapped role.
 */
export function personFromClaims(claims: Readonly<Record<string, unknown>>, config: OidcConfig): Person {
  const sub = text(claims.sub, 255);
  if (sub === null) throw new GatewayError("forbidden", "The identity provider's token names no subject");
  const org = claims[config.OIDC_ORG_CLAIM];
  const organization = typeof org === "string" && ORG_ID.test(org) ? org : null;
  if (organization === null) {
    throw new GatewayError(
      "forbidden",
      `Your account belongs to no organization: its token has no usable "${config.OIDC_ORG_CLAIM}" claim`,
    );
  }
  const roles = rolesOf(claims[config.OIDC_ROLES_CLAIM]);
  const scopes = new Set<string>();
  for (const role of roles) {
    if (Object.hasOwn(config.OIDC_ROLE_SCOPES, role)) for (const s of config.OIDC_ROLE_SCOPES[role] ?? []) scopes.add(s);
  }
  if (scopes.size === 0) {
    throw new GatewayError(
      "forbidden",
      `Your account has no role that may manage API keys (its "${config.OIDC_ROLES_CLAIM}" claim names none of: ${Object.keys(config.OIDC_ROLE_SCOPES).join(", ")})`,
    );
  }
  return {
    sub,
    email: text(claims.email, 320),
    name: text(claims.name, 256),
    organization_id: organization,
    roles,
    scopes: [...scopes],
  };
}

/** How the audit trail records the person (src/storage/actors.ts). */
export const actorOf = (p: Person): UserActor => ({ type: "user", id: p.sub, email: p.email });
