import { GatewayError } from "../errors.ts";
import type { People } from "./people.ts";
import { personFromClaims, type Person } from "./person.ts";

/**
 * `Authorization: Bearer <JWT>`: an access token the identity provider issued
 * for OIDC_AUDIENCE. Told apart from an API key by its shape (three base64url
 * parts; a key is pk_…) before anything else runs on it, hashing included.
 */
const JWT_BEARER = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/i;
/** Longer than any access token a provider issues; a longer header is not read at all. */
const MAX_JWT_LENGTH = 16_384;

export function bearerJwt(authorization: string | null): string | null {
  if (authorization === null || authorization.length > MAX_JWT_LENGTH) return null;
  return JWT_BEARER.exec(authorization)?.[1] ?? null;
}

const invalid = () =>
  new GatewayError("unauthorized", "Invalid access token", { "www-authenticate": 'Bearer realm="api", error="invalid_token"' });

export async function personFromAccessToken(people: People, token: string, now: number): Promise<Person> {
  const p = await people.provider.get();
  let claims: Record<string, unknown>;
  try {
    claims = await p.keys.verify(token, { issuer: p.as.issuer, audience: people.config.OIDC_AUDIENCE }, now);
  } catch (err) {
    if (err instanceof GatewayError && err.code === "service_unavailable") throw err;
    throw invalid();
  }
  // An ID token carries the nonce of its sign-in; it identifies a person to this client but grants nothing.
  if (claims.nonce !== undefined) throw invalid();
  return personFromClaims(claims, people.config);
}
