import { parseConfig, type Config } from "../config.ts";
import { FailureLimiter } from "../auth/failure-limiter.ts";
import { sharedCounterOf, type SharedFailureCounter } from "../auth/shared-limit.ts";
import { TtlCache } from "../auth/ttl-cache.ts";
import { GatewayError } from "../errors.ts";
import { importHashKey } from "../keys/hash.ts";
import type { AuthRecord } from "../storage/records.ts";
import { compileRoutes, type RouteMatcher } from "../routes/match.ts";
import { DEFAULT_ROUTES } from "../routes/table.ts";
import type { Bindings } from "../env.ts";
import { logLine } from "../log.ts";
import { usageStoreFor, type UsageStore } from "../usage/store.ts";

/**
 * Everything derived from the environment once per isolate: parsed config,
 * imported HMAC key, compiled routes and the bounded in-memory state.
 */
export interface Runtime {
  config: Config;
  hashKey: Promise<CryptoKey>;
  routes: RouteMatcher;
  /** Known key hashes → record (positive cache). */
  keys: TtlCache<AuthRecord>;
  /** Well-formed key hashes storage did not know (negative cache). */
  unknownKeys: TtlCache<true>;
  failures: FailureLimiter;
  /** The Rate Limiting binding sharing failure counts across isolates, when deployed with one. */
  sharedFailures: SharedFailureCounter | undefined;
  /** Key ids whose last_used_at this isolate wrote within the interval. */
  lastUsedWrites: TtlCache<true>;
  /** Where requests of known keys are counted, and read back (USAGE_STORE). */
  usage: UsageStore;
}

// Keyed by the env object: one per isolate in production; a test that passes
// its own env gets a cold runtime of its own.
const runtimes = new WeakMap<object, Runtime | GatewayError>();
const routes = compileRoutes(DEFAULT_ROUTES);

function build(env: Bindings): Runtime {
  const config = parseConfig(env);
  return {
    config,
    hashKey: importHashKey(config.KEY_HASH_SECRET),
    routes,
    keys: new TtlCache(config.MEMORY_CACHE_MAX_ENTRIES, config.MEMORY_CACHE_TTL_MS),
    unknownKeys: new TtlCache(config.NEGATIVE_CACHE_MAX_ENTRIES, config.MEMORY_CACHE_TTL_MS),
    failures: new FailureLimiter(config.AUTH_FAIL_LIMIT, config.AUTH_FAIL_WINDOW_S * 1000, config.AUTH_FAIL_MAX_TRACKED_IPS),
    sharedFailures: sharedCounterOf(env),
    lastUsedWrites: new TtlCache(config.MEMORY_CACHE_MAX_ENTRIES, config.LAST_USED_WRITE_INTERVAL_S * 1000),
    usage: usageStoreFor(config, env),
  };
}

/** The isolate's runtime; an invalid configuration is a 500 on every request and one log line. */
export function runtimeFor(env: Bindings): Runtime {
  let rt = runtimes.get(env);
  if (!rt) {
    try {
      rt = build(env);
    } catch (err) {
      logLine({ level: "error", event: "config_invalid", message: err instanceof Error ? err.message : String(err) });
      rt = new GatewayError("internal_error", "The gateway is misconfigured");
    }
    runtimes.set(env, rt);
  }
  if (rt instanceof GatewayError) throw rt;
  return rt;
}
