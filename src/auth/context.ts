import type { Config } from "../config.ts";
import type { AuthRecord } from "../storage/records.ts";
import type { FailureLimiter } from "./failure-limiter.ts";
import type { RevocationFeed } from "./revocation-feed.ts";
import type { TtlCache } from "../memory/ttl-cache.ts";

/**
 * What authentication needs from the isolate: the hash keys, the cache tiers'
 * in-memory state and the revocation feed. The gateway's runtime
 * (src/gateway/runtime.ts) provides it; auth/ never sees the rest.
 */
export interface AuthContext {
  config: Pick<Config, "KEY_HASH_SECRET_VERSION" | "KV_CACHE_TTL_S" | "KV_READ_CACHE_TTL_S">;
  /** HMAC key of KEY_HASH_SECRET (version KEY_HASH_SECRET_VERSION). */
  hashKey: Promise<CryptoKey>;
  /** HMAC key of KEY_HASH_SECRET_PREVIOUS, tried second while keys are re-hashed on use. */
  previousHashKey: Promise<CryptoKey> | null;
  /** Key ids this isolate recently started re-hashing (once per key, not once per request). */
  rehashes: TtlCache<true>;
  /** Known key hashes → record (positive cache). */
  keys: TtlCache<AuthRecord>;
  /** Well-formed key hashes storage did not know (negative cache). */
  unknownKeys: TtlCache<true>;
  failures: FailureLimiter;
  /** D1's revocation feed as this isolate last read it (revocation within seconds). */
  revocations: RevocationFeed;
}
