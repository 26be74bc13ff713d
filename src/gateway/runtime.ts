import { ConfigError, parseConfig, parseIdentityConfig, parseOidcConfig, type Config, type IdentityConfig } from "../config.ts";
import type { AuthContext } from "../auth/context.ts";
import { peopleFor, type People } from "../people/people.ts";
import { FailureLimiter } from "../auth/failure-limiter.ts";
import { sharedCounterOf, type SharedFailureCounter } from "../auth/shared-limit.ts";
import { RevocationFeed, revocationRetentionMs } from "../auth/revocation-feed.ts";
import { TtlCache } from "../memory/ttl-cache.ts";
import { GatewayError } from "../errors.ts";
import { createSigner, type IdentitySigner } from "../identity/signer.ts";
import { IdentityTokens } from "../identity/tokens.ts";
import { importHashKey } from "../keys/hash.ts";
import type { AuthRecord } from "../storage/records.ts";
import { compileRoutes, type RouteMatcher } from "../routes/match.ts";
import { DEFAULT_ROUTES } from "../routes/table.ts";
import type { Bindings } from "../env.ts";
import { errorText, logLine } from "../log.ts";
import { BlockList } from "../limits/blocks.ts";
import { usageStoreFor, type UsageStore } from "../usage/store.ts";

/**
 * Everything derived from the environment once per isolate: parsed config,
 * imported HMAC key, compiled routes and the bounded in-memory state.
 */
export interface Runtime extends AuthContext {
  config: Config;
  routes: RouteMatcher;
  /** The Rate Limiting binding sharing failure counts across isolates, when deployed with one. */
  sharedFailures: SharedFailureCounter | undefined;
  /** Key ids whose last_used_at this isolate wrote within the interval. */
  lastUsedWrites: TtlCache<true>;
  /** Meters their Durable Object refused, until they admit again (the local pre-check). */
  meterBlocks: BlockList;
  /** Where requests of known keys are counted, and read back (USAGE_STORE). */
  usage: UsageStore;
  /**
   * Signs X-Gateway-Identity. Importing a key is asynchronous, so a key that
   * parses but does not work resolves to the same 500 as any invalid config
   * (`signerOf` awaits it on every request); it never rejects.
   */
  identity: Promise<IdentitySigner | Misconfiguration>;
  /** X-Gateway-Identity per key, reused for half its lifetime (or per request: IDENTITY_BIND_REQUEST). */
  identityTokens: IdentityTokens;
  /** Signing people in (OIDC_*); null without OIDC_ISSUER. Only `key_or_person` routes touch it. */
  people: People | null;
}

/** A re-hash that failed is tried again by the key's next request after this long. */
const REHASH_RETRY_MS = 60_000;

/** Why the configuration was refused: the settings by name and the parser's message (which never holds a value). */
export interface Misconfiguration {
  settings: readonly string[];
  message: string;
}

// Keyed by the env object: one per isolate in production; a test that passes
// its own env gets a cold runtime of its own.
const runtimes = new WeakMap<object, Runtime | Misconfiguration>();
const routes = compileRoutes(DEFAULT_ROUTES);

const MISCONFIGURED = "The gateway is misconfigured";

/**
 * Every misconfiguration 500 logs its reason, not only the first: the first
 * request's line scrolls away, and a reader of any later one needs the names.
 */
function refuse(problem: Misconfiguration): GatewayError {
  logLine({ level: "error", event: "config_invalid", settings: problem.settings, message: problem.message });
  return new GatewayError("internal_error", MISCONFIGURED);
}

/** A signing key that parses but cannot sign: the same misconfiguration, found asynchronously. */
function signerFor(config: IdentityConfig): Promise<IdentitySigner | Misconfiguration> {
  return createSigner(config).catch((err: unknown) => ({
    settings: ["IDENTITY_SIGNING_KEY"],
    // errorText, not the raw error: WebCrypto messages name the problem, never the key.
    message: `Invalid configuration: IDENTITY_SIGNING_KEY cannot sign (${errorText(err)})`,
  }));
}

/** Bindings every request may need (wrangler.toml): one missing is a start-up error naming it, not a 500 found later. */
const REQUIRED_BINDINGS = ["DB", "KEYS_CACHE", "KEY_METER"] as const;

function assertBindings(env: Bindings): void {
  const missing = REQUIRED_BINDINGS.filter((name) => !env[name]);
  if (missing.length > 0)
    throw new ConfigError(`Invalid configuration: missing binding ${missing.join(", ")} (see wrangler.toml)`, missing);
}

function build(env: Bindings): Runtime {
  assertBindings(env);
  const config = parseConfig(env);
  const identityConfig = parseIdentityConfig(env);
  const keys = new TtlCache<AuthRecord>(config.MEMORY_CACHE_MAX_ENTRIES, config.MEMORY_CACHE_TTL_MS);
  const identityTokens = new IdentityTokens(config.MEMORY_CACHE_MAX_ENTRIES, identityConfig.IDENTITY_BIND_REQUEST);
  const revocations = new RevocationFeed(
    {
      pollIntervalMs: config.REVOCATION_POLL_INTERVAL_MS,
      maxStalenessMs: config.REVOCATION_MAX_STALENESS_MS,
      maxEntries: config.REVOCATION_SET_MAX_ENTRIES,
      retentionMs: revocationRetentionMs(config),
    },
    (row) => {
      keys.delete(row.hash);
      identityTokens.drop(row.key_id);
    },
  );
  return {
    config,
    hashKey: importHashKey(config.KEY_HASH_SECRET),
    previousHashKey: config.KEY_HASH_SECRET_PREVIOUS === undefined ? null : importHashKey(config.KEY_HASH_SECRET_PREVIOUS),
    rehashes: new TtlCache(config.MEMORY_CACHE_MAX_ENTRIES, REHASH_RETRY_MS),
    routes,
    keys,
    unknownKeys: new TtlCache(config.NEGATIVE_CACHE_MAX_ENTRIES, config.MEMORY_CACHE_TTL_MS),
    failures: new FailureLimiter(config.AUTH_FAIL_LIMIT, config.AUTH_FAIL_WINDOW_S * 1000, config.AUTH_FAIL_MAX_TRACKED_IPS),
    sharedFailures: sharedCounterOf(env),
    lastUsedWrites: new TtlCache(config.MEMORY_CACHE_MAX_ENTRIES, config.LAST_USED_WRITE_INTERVAL_S * 1000),
    meterBlocks: new BlockList(config.MEMORY_CACHE_MAX_ENTRIES),
    revocations,
    usage: usageStoreFor(config, env),
    identity: signerFor(identityConfig),
    identityTokens,
    people: peopleFor(parseOidcConfig(env)),
  };
}

/** What building the isolate's runtime from `env` found wrong, or null when it builds. */
function problemOf(err: unknown): Misconfiguration {
  if (err instanceof ConfigError) return { settings: err.settings, message: err.message };
  return { settings: [], message: errorText(err) };
}

/** The isolate's runtime; an invalid configuration is a 500 on every request, each with a log line naming the settings. */
export function runtimeFor(env: Bindings): Runtime {
  let rt = runtimes.get(env);
  if (!rt) {
    try {
      rt = build(env);
    } catch (err) {
      rt = problemOf(err);
    }
    runtimes.set(env, rt);
  }
  if (!("config" in rt)) throw refuse(rt);
  return rt;
}

/** The identity signer, or the misconfiguration 500: awaited once per request, before anything else. */
export async function signerOf(rt: Runtime): Promise<IdentitySigner> {
  const signer = await rt.identity;
  if ("settings" in signer) throw refuse(signer);
  return signer;
}

/**
 * The settings at fault for /healthz, or null when the runtime works. Never
 * throws and logs nothing itself: the request that asks is answered by the pipeline.
 */
export async function misconfiguredSettings(env: Bindings): Promise<readonly string[] | null> {
  const rt = runtimes.get(env);
  if (!rt) return null;
  if (!("config" in rt)) return rt.settings;
  const signer = await rt.identity;
  return "settings" in signer ? signer.settings : null;
}
