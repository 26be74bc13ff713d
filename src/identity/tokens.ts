import { TtlCache } from "../memory/ttl-cache.ts";
import { IDENTITY_TTL_S, type IdentitySigner, type KeyIdentity, type RequestBinding } from "./signer.ts";

/** A cached token is reused until half its lifetime has passed: an origin always gets one valid for 29 s or more. */
export const IDENTITY_REUSE_MS = (IDENTITY_TTL_S * 1000) / 2;

const MODES = ["live", "test"] as const;

/**
 * X-Gateway-Identity says who is calling, not which request (the pattern of
 * Cloudflare Access's and Google IAP's assertion headers), so it is signed
 * once per key per isolate and reused (docs/design.md §6). Cached by the
 * key's mode and id and checked against the signing key's kid: never reused
 * across keys, modes or signing keys; bounded like the key cache; dropped
 * when the revocation feed reports the key. With `bindRequest`, every request
 * gets its own token with its method, path and request id, and nothing is cached.
 */
export class IdentityTokens {
  readonly #cache: TtlCache<{ kid: string; token: string }>;
  readonly #bindRequest: boolean;

  constructor(maxEntries: number, bindRequest: boolean) {
    this.#cache = new TtlCache(maxEntries, IDENTITY_REUSE_MS);
    this.#bindRequest = bindRequest;
  }

  /** The token for a request of `key`: the cached one while fresh (no promise), else a new signature. */
  tokenFor(signer: IdentitySigner, key: KeyIdentity, request: RequestBinding, now: number): string | Promise<string> {
    if (this.#bindRequest) return signer.sign({ ...key, ...request }, now);
    const slot = `${key.mode} ${key.key_id}`;
    const cached = this.#cache.get(slot, now);
    if (cached !== undefined && cached.kid === signer.kid) return cached.token;
    return signer.sign(key, now).then((token) => {
      this.#cache.set(slot, { kid: signer.kid, token }, now);
      return token;
    });
  }

  /** A revoked key's tokens go with it. */
  drop(keyId: string): void {
    for (const mode of MODES) this.#cache.delete(`${mode} ${keyId}`);
  }
}
