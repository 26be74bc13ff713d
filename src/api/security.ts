import type { OpenAPIHono } from "@hono/zod-openapi";

type OpenAPIRegistry = OpenAPIHono["openAPIRegistry"];

/**
 * How the management API can be called, as OpenAPI security schemes: an API
 * key; with sign-in configured (docs/sign-in.md) also the identity provider's
 * access token for OIDC_AUDIENCE, or the settings page's session cookie.
 */
type Requirement = Record<string, string[]>;
export const KEY_SECURITY: Requirement[] = [{ bearer: [] }];
export const PEOPLE_SECURITY: Requirement[] = [{ bearer: [] }, { bearerJwt: [] }, { sessionCookie: [] }];

export function registerSecuritySchemes(registry: OpenAPIRegistry): void {
  registry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "An API key: Authorization: Bearer pk_live_… (or pk_test_… for a test-mode key)",
  });
  registry.registerComponent("securitySchemes", "bearerJwt", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description:
      "With sign-in configured: an access token the identity provider (OIDC_ISSUER) issued for OIDC_AUDIENCE, " +
      "signed with a key of its JWKS. Its organization claim (OIDC_ORG_CLAIM) picks the organization, its roles " +
      "claim (OIDC_ROLES_CLAIM) the scopes, through OIDC_ROLE_SCOPES.",
  });
  registry.registerComponent("securitySchemes", "sessionCookie", {
    type: "apiKey",
    in: "cookie",
    name: "__Host-gw_session",
    description:
      "With sign-in configured: the settings page's session (gw_session on plain http), set by GET /settings/callback. " +
      "Same-origin requests only: a request whose Origin or Sec-Fetch-Site names another site is refused (403), and a " +
      "POST, PATCH or DELETE must carry one of them.",
  });
}
