import type { Ed25519Jwk, IdentityConfig } from "../config.ts";
import { base64UrlOfBytes, base64UrlOfText } from "./base64url.ts";
import { publicJwk, type PublicJwk } from "./jwk.ts";

/** How long an identity token is good for: long enough for clock skew, short enough to be useless if logged. */
export const IDENTITY_TTL_S = 60;

/** The claims of X-Gateway-Identity (docs/origin.md "Signed identity for the origin"). */
export interface IdentityClaims {
  iss: string;
  aud: string;
  key_id: string;
  org: string;
  scopes: string[];
  mode: "live" | "test";
  request_id: string;
  method: string;
  path: string;
  iat: number;
  exp: number;
}

export type RequestIdentity = Omit<IdentityClaims, "iss" | "aud" | "iat" | "exp">;

export interface IdentitySigner {
  kid: string;
  /** The JWKS document, serialized once: the current key, then the previous one during a rotation. */
  jwks: string;
  sign(identity: RequestIdentity, nowMs: number): Promise<string>;
}

const encoder = new TextEncoder();
const ALGORITHM = { name: "Ed25519" } as const;

/**
 * Imports the signing key and proves it whole: workerd accepts a JWK whose
 * `x` does not belong to its `d`, and such a key would sign tokens no origin
 * can verify. Everything per-isolate (protected header, JWKS) is built here,
 * so a request pays for one JSON.stringify, one base64url and one signature.
 */
export async function createSigner(config: IdentityConfig): Promise<IdentitySigner> {
  const jwk = config.IDENTITY_SIGNING_KEY;
  const [privateKey, publicKey] = await Promise.all([
    crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x, d: jwk.d }, ALGORITHM, false, ["sign"]),
    importPublic(jwk),
  ]);
  const probe = encoder.encode("identity signing key self-check");
  const ok = await crypto.subtle.verify(ALGORITHM, publicKey, await crypto.subtle.sign(ALGORITHM, privateKey, probe), probe);
  if (!ok) throw new Error('its "x" is not the public key of its "d"');

  const current = await publicJwk(jwk);
  const keys: PublicJwk[] = [current];
  if (config.IDENTITY_SIGNING_KEY_PREVIOUS) {
    const previous = await publicJwk(config.IDENTITY_SIGNING_KEY_PREVIOUS);
    if (previous.kid !== current.kid) keys.push(previous);
  }
  const header = base64UrlOfText(JSON.stringify({ alg: "EdDSA", typ: "JWT", kid: current.kid }));
  const { IDENTITY_ISSUER: iss, IDENTITY_AUDIENCE: aud } = config;

  return {
    kid: current.kid,
    jwks: JSON.stringify({ keys }),
    async sign(identity, nowMs) {
      const iat = Math.floor(nowMs / 1000);
      const claims: IdentityClaims = { iss, aud, ...identity, iat, exp: iat + IDENTITY_TTL_S };
      const input = `${header}.${base64UrlOfText(JSON.stringify(claims))}`;
      const signature = new Uint8Array(await crypto.subtle.sign(ALGORITHM, privateKey, encoder.encode(input)));
      return `${input}.${base64UrlOfBytes(signature)}`;
    },
  };
}

function importPublic(jwk: Ed25519Jwk): Promise<CryptoKey> {
  return crypto.subtle.importKey("jwk", { kty: jwk.kty, crv: jwk.crv, x: jwk.x }, ALGORITHM, true, ["verify"]);
}
