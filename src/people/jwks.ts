import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWK, type JWTPayload } from "jose";
import { GatewayError } from "../errors.ts";

/**
 * The identity provider's signing keys (its jwks_uri), fetched once and kept
 * for KEEP_MS; a token signed by a key not in the set fetches it again (key
 * rotation), at most once per REFETCH_MIN_MS.
 *
 * The accepted algorithms are pinned to what the keys themselves declare (or
 * imply, for keys without `alg`): never `none`, never an HMAC, so a token
 * "signed" with the provider's public key as an HMAC secret is refused.
 */
const KEEP_MS = 10 * 60_000;
const REFETCH_MIN_MS = 30_000;

interface Loaded {
  set: ReturnType<typeof createLocalJWKSet>;
  algorithms: string[];
  fetchedAt: number;
}

export interface Expected {
  issuer: string;
  audience: string;
}

export class ProviderKeys {
  private loaded: Promise<Loaded> | null = null;

  constructor(
    private readonly url: string,
    private readonly fetchJson: (url: string) => Promise<unknown>,
  ) {}

  private load(now: number, force: boolean): Promise<Loaded> {
    const current = this.loaded;
    if (current && !force) return current.then((l) => (now - l.fetchedAt < KEEP_MS ? l : this.load(now, true)));
    // Unreachable keys are the provider's outage (503), never the token's fault (401).
    const unreachable = () => new GatewayError("service_unavailable", "The identity provider's keys could not be fetched");
    const next = this.fetchJson(this.url)
      .catch((): never => {
        throw unreachable();
      })
      .then((body) => {
        const jwks = body as JSONWebKeySet;
        if (!jwks || !Array.isArray(jwks.keys)) throw unreachable();
        return { set: createLocalJWKSet(jwks), algorithms: signingAlgorithms(jwks.keys), fetchedAt: now };
      });
    // A failed fetch is not kept: the next request tries again.
    next.catch(() => {
      if (this.loaded === next) this.loaded = null;
    });
    this.loaded = next;
    return next;
  }

  /** The verified payload; a bad token is a thrown jose error (the caller decides the answer). */
  async verify(token: string, expected: Expected, now: number): Promise<JWTPayload> {
    let keys = await this.load(now, false);
    const options = () => ({
      issuer: expected.issuer,
      audience: expected.audience,
      algorithms: keys.algorithms,
      requiredClaims: ["exp", "iat"],
      currentDate: new Date(now),
      clockTolerance: 30,
    });
    try {
      return (await jwtVerify(token, keys.set, options())).payload;
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || now - keys.fetchedAt < REFETCH_MIN_MS) throw err;
      keys = await this.load(now, true);
      return (await jwtVerify(token, keys.set, options())).payload;
    }
  }
}

const EC_ALG: Readonly<Record<string, string>> = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };
const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$|^ES256K$/;

/** What the signing keys allow: their own `alg`, or the one their type implies; never none or HS*. */
export function signingAlgorithms(keys: readonly JWK[]): string[] {
  const algs = new Set<string>();
  for (const k of keys) {
    if (k.use !== undefined && k.use !== "sig") continue;
    const alg =
      k.alg ??
      (k.kty === "RSA" ? "RS256" : k.kty === "EC" ? EC_ALG[k.crv ?? ""] : k.kty === "OKP" && k.crv === "Ed25519" ? "EdDSA" : undefined);
    if (alg !== undefined && ASYMMETRIC.test(alg)) algs.add(alg);
  }
  return [...algs];
}
