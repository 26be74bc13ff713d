import { parseConfig } from "../../src/config.ts";
import { importHashKey } from "../../src/keys/hash.ts";
import type { KeyStore } from "../../src/management/lifecycle.ts";
import type { LocalBindings } from "./local-state.ts";

/**
 * The key lifecycle's storage for command-line tools: no isolate to evict and
 * no waitUntil, so each write is awaited. Config comes from the same vars and
 * secrets `wrangler dev` reads, parsed by the Worker's own schema.
 */
export async function localKeyStore(bindings: LocalBindings): Promise<KeyStore> {
  const config = parseConfig(bindings.vars);
  // No second tombstone write locally: it would hold every revoke and rotate for
  // TOMBSTONE_REWRITE_DELAY_MS (5 s), and the one local `wrangler dev` reads the
  // revocation feed (src/auth/revocation-feed.ts), which overrides a record that a
  // racing read-through cached. `--remote` keeps it (many isolates, a bounded set).
  return keyStore(bindings.db, bindings.kv, config.KEY_HASH_SECRET, config.KV_CACHE_TTL_S, 0, config.KEY_HASH_SECRET_VERSION);
}

/** With no waitUntil, a revocation waits `tombstoneRewriteDelayMs` to write its tombstone again. */
export async function keyStore(
  db: KeyStore["db"],
  kv: KeyStore["kv"],
  secret: string,
  kvTtlSeconds: number,
  tombstoneRewriteDelayMs: number,
  hashSecretVersion = 1,
): Promise<KeyStore> {
  return {
    db,
    kv,
    hashSecret: await importHashKey(secret),
    hashSecretVersion,
    kvTtlSeconds,
    tombstoneRewriteDelayMs,
    now: () => new Date(),
  };
}
