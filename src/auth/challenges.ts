import { GatewayError } from "../errors.ts";

/** RFC 6750 §3: the challenge names the realm, and the error once a credential was sent. */
const REALM = 'Bearer realm="api"';

export function missingKey(): GatewayError {
  return new GatewayError("unauthorized", "Missing API key", { "www-authenticate": REALM });
}

/** Malformed and unknown keys share this message: the answer must not reveal which. */
export function invalidKey(message = "Invalid API key"): GatewayError {
  return new GatewayError("unauthorized", message, { "www-authenticate": `${REALM}, error="invalid_token"` });
}

export function insufficientScope(missing: readonly string[]): GatewayError {
  const scopes = missing.join(" ");
  return new GatewayError("forbidden", `Insufficient permissions: requires ${scopes}`, {
    "www-authenticate": `${REALM}, error="insufficient_scope", scope="${scopes}"`,
  });
}
