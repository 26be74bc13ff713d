/**
 * What the Authorization header holds. Exactly `Bearer <one token>` counts
 * (scheme case-insensitive, one space, RFC 6750 token characters); two
 * headers arrive joined by ", " and so fail the pattern, like Basic, an empty
 * Bearer, `Bearer a b` or a token with a tab or space in it.
 */
export type Credential = { kind: "missing" } | { kind: "malformed" } | { kind: "token"; token: string };

// RFC 6750 b64token.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Far longer than any key (`pk_live_` + 48): a longer header is malformed
 * without running the pattern over attacker-sized input.
 */
const MAX_AUTHORIZATION_LENGTH = 256;

export function readCredential(header: string | null): Credential {
  if (header !== null && header.length > MAX_AUTHORIZATION_LENGTH) return { kind: "malformed" };
  if (header === null || header.trim() === "") return { kind: "missing" };
  const m = BEARER.exec(header);
  return m ? { kind: "token", token: m[1]! } : { kind: "malformed" };
}
