import type { OidcConfig } from "../config.ts";

/**
 * The claims a session keeps of the ID token: who (sub, email, name) and the
 * two that decide access (the organization and roles claims, whatever they
 * are called at this provider). Re-read into a person on every request, so a
 * change of OIDC_ROLE_SCOPES applies at once.
 */
export type KeptClaims = Record<string, unknown>;

export function keptClaims(claims: Readonly<Record<string, unknown>>, config: OidcConfig): KeptClaims {
  const kept: KeptClaims = {};
  for (const name of ["sub", "email", "name", config.OIDC_ORG_CLAIM, config.OIDC_ROLES_CLAIM]) {
    if (claims[name] !== undefined) kept[name] = claims[name];
  }
  return kept;
}
