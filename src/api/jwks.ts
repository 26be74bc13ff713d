import type { Context } from "hono";
import type { AppEnv } from "../gateway/context.ts";
import { signerOf } from "../gateway/runtime.ts";

/** Where origins fetch the keys that verify X-Gateway-Identity (RFC 8414 / OIDC convention). */
export const JWKS_PATH = "/.well-known/jwks.json";

/**
 * GET /.well-known/jwks.json: a plain JWK Set (RFC 7517 §5), not the gateway's
 * envelope, because that is what JWT libraries fetch. Public and cacheable:
 * five minutes, short enough for a signing-key rotation that keeps the old key
 * published (IDENTITY_SIGNING_KEY_PREVIOUS) for longer than that.
 */
export async function jwksHandler(c: Context<AppEnv>): Promise<Response> {
  const signer = await signerOf(c.get("state").runtime);
  return new Response(signer.jwks, {
    status: 200,
    headers: {
      "content-type": "application/jwk-set+json",
      "cache-control": "public, max-age=300",
      "access-control-allow-origin": "*",
      "x-content-type-options": "nosniff",
    },
  });
}
