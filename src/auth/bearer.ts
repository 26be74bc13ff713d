/**
 * What the Authorization header holds. Exactly `Bearer <one token>` counts
 * (scheme case-insensitive, one space); two headers arrive joined by ", "
 * and so fail the pattern, like any other shape.
 */
export type Credential = { kind: "missing" } | { kind: "malformed" } | { kind: "token"; token: string };

// RFC 6750 b64token.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

export function readCredential(header: string | null): Credential {
  if (header === null || header.trim() === "") return { kind: "missing" };
  const m = BEARER.exec(header);
  return m ? { kind: "token", token: m[1]! } : { kind: "malformed" };
}
