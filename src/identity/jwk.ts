import type { Ed25519Jwk } from "../config.ts";
import { encodeBase64Url } from "../crypto/encoding.ts";

/** A public key as the JWKS publishes it. */
export interface PublicJwk {
  kty: "OKP";
  crv: "Ed25519";
  x: string;
  kid: string;
  alg: "EdDSA";
  use: "sig";
}

const encoder = new TextEncoder();

/**
 * RFC 7638 thumbprint: SHA-256 over the required members in lexicographic
 * order with no whitespace, base64url. Any origin can recompute it from the
 * JWKS entry, so the `kid` needs no registry.
 */
export async function thumbprint(jwk: Pick<Ed25519Jwk, "crv" | "kty" | "x">): Promise<string> {
  const canonical = `{"crv":"${jwk.crv}","kty":"${jwk.kty}","x":"${jwk.x}"}`;
  return encodeBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(canonical))));
}

export async function publicJwk(jwk: Ed25519Jwk): Promise<PublicJwk> {
  return { kty: "OKP", crv: "Ed25519", x: jwk.x, kid: await thumbprint(jwk), alg: "EdDSA", use: "sig" };
}
