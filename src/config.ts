import { z } from "zod";
import { OrgRateLimitsSetting, RateLimitSetting } from "./limits/policy.ts";
import { isP256PublicKeyPem } from "./crypto/pem.ts";
import { ALL_SCOPES } from "./auth/scopes.ts";

const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const int = (min: number, max: number) =>
  z.string().regex(/^\d+$/, "must be a whole number").transform(Number).pipe(z.number().int().min(min).max(max));

/** An http(s) URL with no query, fragment or credentials. */
const plainUrl = (message: string) =>
  z.url({ protocol: /^https?$/ }).refine((s) => {
    const u = new URL(s);
    return !u.search && !u.hash && !u.username && !u.password;
  }, message);

/**
 * A plain http(s) URL with no query, fragment or credentials; a path prefix is
 * allowed. Kept in the URL parser's own spelling (lower-case host, no default
 * port), so that base + validated path re-parses to exactly itself.
 */
const originUrl = plainUrl("must be http(s)://host[:port][/prefix] without query, fragment or credentials").transform((s) => {
  const u = new URL(s);
  return (u.origin + u.pathname).replace(/\/+$/, "");
});

/**
 * The example files' placeholders (`replace-with-…`, `REPLACE-ME`, `REPLACE_WITH_…`): long enough to
 * pass a length check, so refused by name, or a copied example would run with a published secret.
 */
const PLACEHOLDER = /replace[-_ ]?(?:with|me)\b|change[-_ ]?me\b|\bplaceholder\b/i;
export const isPlaceholder = (value: string): boolean => PLACEHOLDER.test(value);

const secret = z
  .string({ error: "is required (a secret of at least 32 bytes)" })
  .refine((s) => !isPlaceholder(s), "is still the example's placeholder: put a random secret there (e.g. openssl rand -base64 48)")
  .refine((s) => new TextEncoder().encode(s).length >= 32, "must be at least 32 bytes");

/** A setting holding JSON: parsed, or one issue with `message` (never the text: it may be a secret). */
function parseJson(message: string) {
  return (text: string, ctx: z.RefinementCtx): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
  };
}

/**
 * `{"<key identifier>": "-----BEGIN PUBLIC KEY-----…"}`: the signers of leaked-key reports.
 * Checked here as far as a synchronous parse can (an ECDSA P-256 SubjectPublicKeyInfo), so a
 * wrong key type is a configuration error rather than a report that can never verify.
 */
const scanningKeys = z
  .string()
  .transform(parseJson("must be a JSON object of key identifier → PEM public key"))
  .pipe(
    z
      .record(
        z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, "key identifiers are 1-128 letters, digits, '.', '_', ':' or '-'"),
        z.string().refine(isP256PublicKeyPem, "must be an ECDSA P-256 public key in PEM (SPKI)"),
      )
      .refine((r) => Object.keys(r).length > 0, "must name at least one public key"),
  );

/**
 * Every configuration value, with its default (docs/design.md §8b). Vars arrive as
 * strings from wrangler.toml; secrets from `wrangler secret put` or `.dev.vars`.
 */
export const ConfigSchema = z
  .object({
    ORIGIN_URL: originUrl,
    KEY_HASH_SECRET: secret,
    FORWARD_AUTHORIZATION: bool.default(false),
    ORIGIN_TIMEOUT_MS: int(1, 600_000).default(30_000),
    ORIGIN_TOKEN: z
      .string()
      .min(16, "must be at least 16 characters")
      .refine((s) => !isPlaceholder(s), "is still the example's placeholder")
      .optional(),
    MEMORY_CACHE_TTL_MS: int(0, 60_000).default(2_000),
    MEMORY_CACHE_MAX_ENTRIES: int(1, 1_000_000).default(10_000),
    NEGATIVE_CACHE_MAX_ENTRIES: int(1, 1_000_000).default(10_000),
    // Cloudflare rejects expirationTtl below 60 s and cacheTtl below 30 s.
    KV_CACHE_TTL_S: int(60, 86_400).default(300),
    KV_READ_CACHE_TTL_S: int(30, 3_600).default(30),
    TOMBSTONE_REWRITE_DELAY_MS: int(0, 60_000).default(5_000),
    AUTH_FAIL_LIMIT: int(1, 1_000_000).default(60),
    AUTH_FAIL_WINDOW_S: int(1, 86_400).default(60),
    AUTH_FAIL_MAX_TRACKED_IPS: int(1, 1_000_000).default(10_000),
    LAST_USED_WRITE_INTERVAL_S: int(1, 86_400).default(60),
    MAX_REQUEST_LINE_BYTES: int(256, 65_536).default(8_192),
    // All request headers, names and values, as the gateway would copy them to the origin.
    MAX_HEADER_BYTES: int(1_024, 131_072).default(32_768),
    // Per-key rate limits (docs/keys-and-scopes.md "Rate limits and quotas"): applied to keys without their own.
    DEFAULT_RATE_LIMIT: RateLimitSetting.default(null),
    ORG_RATE_LIMITS: OrgRateLimitsSetting.default(() => new Map()),
    // Revocation within seconds (src/auth/revocation-feed.ts): how often an isolate reads the feed in the
    // background, how old its last read may be before a request awaits a fresh one, and how many recent
    // revocations it remembers (each one overrides cached records for longer than KV can be stale).
    REVOCATION_POLL_INTERVAL_MS: int(100, 60_000).default(1_000),
    REVOCATION_MAX_STALENESS_MS: int(100, 300_000).default(3_000),
    REVOCATION_SET_MAX_ENTRIES: int(1, 1_000_000).default(10_000),
    // KEY_HASH_SECRET rotation (src/auth/rehash.ts): the version stored with each hash, and the secret
    // it replaced, tried second until every active key has been re-hashed on use.
    KEY_HASH_SECRET_VERSION: int(1, 1_000_000).default(1),
    KEY_HASH_SECRET_PREVIOUS: secret.optional(),
    KEY_HASH_SECRET_PREVIOUS_VERSION: int(1, 1_000_000).optional(),
    // Leaked-key reports (src/api/secret-scanning.ts): key identifier → ECDSA P-256 public key (PEM).
    SECRET_SCANNING_PUBLIC_KEYS: scanningKeys.optional(),
    SECRET_SCANNING_MAX_BODY_BYTES: int(1_024, 1_048_576).default(65_536),
    SECRET_SCANNING_MAX_TOKENS: int(1, 1_000).default(100),
    // Usage counting (src/usage/): where counts are written and read.
    USAGE_STORE: z.enum(["d1", "analytics_engine"]).default("d1"),
    // D1 store: the least time between two batched writes of one isolate's counts.
    USAGE_FLUSH_INTERVAL_MS: int(0, 60_000).default(1_000),
    // Analytics Engine store: the dataset the USAGE binding writes, for the SQL API's FROM.
    USAGE_DATASET: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "must be a dataset name (letters, digits, _)")
      .default("gateway_usage"),
    ANALYTICS_ACCOUNT_ID: z
      .string()
      .regex(/^[0-9a-f]{32}$/, "must be a 32-character Cloudflare account id")
      .optional(),
    ANALYTICS_API_TOKEN: z
      .string()
      .min(20, "must be at least 20 characters")
      .refine((s) => !isPlaceholder(s), "is still the example's placeholder")
      .optional(),
    // Overrides the SQL API address built from ANALYTICS_ACCOUNT_ID (tests point it at a local stand-in).
    ANALYTICS_SQL_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** Where `pk_test_` keys' requests go; unset, the gateway refuses to create or serve test keys. */
    TEST_ORIGIN_URL: originUrl.optional(),
  })
  .superRefine((c, ctx) => {
    if (c.REVOCATION_MAX_STALENESS_MS < c.REVOCATION_POLL_INTERVAL_MS) {
      ctx.addIssue({ code: "custom", path: ["REVOCATION_MAX_STALENESS_MS"], message: "must be at least REVOCATION_POLL_INTERVAL_MS" });
    }
    const previous = c.KEY_HASH_SECRET_PREVIOUS !== undefined;
    if (previous !== (c.KEY_HASH_SECRET_PREVIOUS_VERSION !== undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["KEY_HASH_SECRET_PREVIOUS_VERSION"],
        message: "must be set together with KEY_HASH_SECRET_PREVIOUS",
      });
    } else if (previous && c.KEY_HASH_SECRET_PREVIOUS_VERSION === c.KEY_HASH_SECRET_VERSION) {
      ctx.addIssue({ code: "custom", path: ["KEY_HASH_SECRET_PREVIOUS_VERSION"], message: "must differ from KEY_HASH_SECRET_VERSION" });
    }
    if (previous && c.KEY_HASH_SECRET_PREVIOUS === c.KEY_HASH_SECRET) {
      ctx.addIssue({ code: "custom", path: ["KEY_HASH_SECRET_PREVIOUS"], message: "must differ from KEY_HASH_SECRET" });
    }
  });

export type Config = z.output<typeof ConfigSchema>;

const base64Url32 = (part: string) =>
  z.string({ error: `needs "${part}"` }).regex(/^[A-Za-z0-9_-]{43}$/, `"${part}" must be 32 bytes, base64url without padding`);

/** An Ed25519 JWK (RFC 8037); other members (kid, alg, use) are allowed and ignored. */
const ed25519Jwk = (withPrivate: boolean) =>
  z.object({
    kty: z.literal("OKP", { error: 'kty must be "OKP"' }),
    crv: z.literal("Ed25519", { error: 'crv must be "Ed25519"' }),
    x: base64Url32("x"),
    d: withPrivate ? base64Url32("d") : base64Url32("d").optional(),
  });

/** A JWK as one line of JSON (a secret: never echoed, not even in parse errors). */
const jwkJson = (withPrivate: boolean) =>
  z
    .string({ error: withPrivate ? "is required (an Ed25519 private key as a JWK, JSON)" : "must be a string" })
    .refine(
      (s) => !isPlaceholder(s),
      "is still the example's placeholder: delete the line and run `npm start` (or the build) to get a random key",
    )
    .transform(parseJson("must be a JWK as JSON"))
    .pipe(ed25519Jwk(withPrivate));

export type Ed25519Jwk = z.output<ReturnType<typeof ed25519Jwk>>;

/**
 * The signed identity the origin receives (X-Gateway-Identity). Apart from
 * ConfigSchema because only the Worker signs: the key command line parses
 * ConfigSchema alone and needs no signing key.
 */
export const IdentityConfigSchema = z.object({
  IDENTITY_SIGNING_KEY: jwkJson(true),
  /** During a signing-key rotation: the old key, still published in the JWKS (its public part only). */
  IDENTITY_SIGNING_KEY_PREVIOUS: jwkJson(false).optional(),
  IDENTITY_ISSUER: z.string().min(1).max(256).default("ats-edge-gateway"),
  IDENTITY_AUDIENCE: z.string().min(1).max(256).default("ats-origin"),
  /**
   * Off (the default): one token per key, signed once per isolate and reused for half its lifetime.
   * On: a token per request that also carries its method, path and request id (docs/origin.md), at one
   * Ed25519 signature per proxied request (docs/performance.md).
   */
  IDENTITY_BIND_REQUEST: bool.default(false),
});

export type IdentityConfig = z.output<typeof IdentityConfigSchema>;

/** Loopback hosts, where an http issuer is allowed (the local IdP of scripts/local-idp.ts). */
const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** An OpenID Provider's issuer identifier: https, or http on loopback only; no query or fragment. */
const issuerUrl = plainUrl("must be an issuer URL without query, fragment or credentials").refine((s) => {
  const u = new URL(s);
  return u.protocol === "https:" || LOOPBACK_HOSTS.has(u.hostname);
}, "must be https (http only on localhost / 127.0.0.1)");

const claimName = z.string().min(1).max(256);

/** `{"<role>": ["<scope>", …]}`: every scope from the catalog (src/auth/scopes.ts). */
const roleScopes = z
  .string()
  .transform(parseJson("must be a JSON object of role → array of scopes"))
  .pipe(
    z.record(
      z.string().min(1).max(256),
      z.array(z.string().refine((s) => ALL_SCOPES.has(s), "unknown scope")).min(1, "a role must map to at least one scope"),
    ),
  );

export const DEFAULT_ROLE_SCOPES = { admin: ["api_keys:read", "api_keys:write"], viewer: ["api_keys:read"] };

/**
 * Signing people in with OpenID Connect (docs/sign-in.md). Apart from
 * ConfigSchema because it is optional as a whole: without OIDC_ISSUER none of
 * it applies, and the key command line never needs it.
 */
export const OidcConfigSchema = z
  .object({
    OIDC_ISSUER: issuerUrl,
    OIDC_CLIENT_ID: z.string({ error: "is required with OIDC_ISSUER" }).min(1).max(256),
    OIDC_CLIENT_SECRET: z
      .string({ error: "is required with OIDC_ISSUER" })
      .min(1)
      .refine((s) => !isPlaceholder(s), "is still the example's placeholder: set the client secret the identity provider issued"),
    /** How the gateway authenticates at the token endpoint (RFC 6749 §2.3.1's default is basic). */
    OIDC_TOKEN_AUTH_METHOD: z.enum(["client_secret_basic", "client_secret_post"]).default("client_secret_basic"),
    SESSION_SECRET: secret,
    OIDC_ORG_CLAIM: claimName.default("org_id"),
    OIDC_ROLES_CLAIM: claimName.default("roles"),
    OIDC_ROLE_SCOPES: roleScopes.default(() => DEFAULT_ROLE_SCOPES),
    /** The `aud` bearer access tokens must carry; absent: the client id. */
    OIDC_AUDIENCE: z.string().min(1).max(256).optional(),
    OIDC_DISPLAY_NAME: z.string().min(1).max(64).default("your account"),
    /** Asked for at sign-in; offline_access is how most providers hand out a refresh token. */
    OIDC_SCOPES: z
      .string()
      .regex(/^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$/, "must be space-separated scope tokens")
      .refine((s) => s.split(" ").includes("openid"), "must include openid")
      .default("openid email profile offline_access"),
    // How often a session goes back to the provider with its refresh token: a person disabled there loses
    // access within this interval (src/people/session.ts). The session ends SESSION_LIFETIME_S after sign-in.
    SESSION_REFRESH_INTERVAL_S: int(1, 86_400).default(300),
    SESSION_LIFETIME_S: int(60, 30 * 86_400).default(8 * 3600),
  })
  .superRefine((c, ctx) => {
    if (c.SESSION_LIFETIME_S < c.SESSION_REFRESH_INTERVAL_S) {
      ctx.addIssue({ code: "custom", path: ["SESSION_LIFETIME_S"], message: "must be at least SESSION_REFRESH_INTERVAL_S" });
    }
  })
  .transform((c) => ({ ...c, OIDC_AUDIENCE: c.OIDC_AUDIENCE ?? c.OIDC_CLIENT_ID }));

export type OidcConfig = z.output<typeof OidcConfigSchema>;

export class ConfigError extends Error {
  /** The settings at fault, by name (never a value): what logs and /healthz may show. */
  readonly settings: readonly string[];
  constructor(message: string, settings: readonly string[] = []) {
    super(message);
    this.name = "ConfigError";
    this.settings = settings;
  }
}

/** Names the offending settings but never echoes a value: some are secrets. */
export function parseConfig(env: object): Config {
  return parseWith(ConfigSchema, env);
}

export function parseIdentityConfig(env: object): IdentityConfig {
  return parseWith(IdentityConfigSchema, env);
}

/**
 * The sign-in settings, or null when OIDC_ISSUER is unset: then the settings
 * page and the management API take API keys only, exactly as without them.
 */
export function parseOidcConfig(env: object): OidcConfig | null {
  const issuer = (env as Readonly<Record<string, unknown>>).OIDC_ISSUER;
  if (issuer === undefined || issuer === "") return null;
  return parseWith(OidcConfigSchema, env, Object.keys(OidcConfigSchema.in.shape));
}

function parseWith<S extends z.ZodType>(schema: S, env: object, names?: readonly string[]): z.output<S> {
  const source = env as Readonly<Record<string, unknown>>;
  const keys = names ?? (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []);
  const input = Object.fromEntries(keys.map((k) => [k, source[k]]));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "config"} ${i.message}`);
  const settings = [...new Set(result.error.issues.map((i) => String(i.path[0] ?? "config")))];
  throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`, settings);
}
