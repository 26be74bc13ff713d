import { z } from "zod";

const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/**
 * A plain http(s) URL with no query, fragment or credentials; a path prefix is
 * allowed. Kept in the URL parser's own spelling (lower-case host, no default
 * port), so that base + validated path re-parses to exactly itself.
 */
const originUrl = z
  .url({ protocol: /^https?$/ })
  .refine((s) => {
    const u = new URL(s);
    return !u.search && !u.hash && !u.username && !u.password;
  }, "must be http(s)://host[:port][/prefix] without query, fragment or credentials")
  .transform((s) => {
    const u = new URL(s);
    return (u.origin + u.pathname).replace(/\/+$/, "");
  });

/**
 * Every configuration value, with its default (DESIGN §8b). Vars arrive as
 * strings from wrangler.toml; secrets from `wrangler secret put` or `.dev.vars`.
 */
export const ConfigSchema = z.object({
  ORIGIN_URL: originUrl,
  KEY_HASH_SECRET: z
    .string({ error: "is required (a secret of at least 32 bytes)" })
    .refine((s) => new TextEncoder().encode(s).length >= 32, "must be at least 32 bytes"),
  FORWARD_AUTHORIZATION: bool.default(false),
  ORIGIN_TIMEOUT_MS: int(1, 600_000).default(30_000),
  ORIGIN_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
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
  /** Where `pk_test_` keys' requests go; unset, the gateway refuses to create or serve test keys. */
  TEST_ORIGIN_URL: originUrl.optional(),
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
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "must be a JWK as JSON" });
        return z.NEVER;
      }
    })
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
});

export type IdentityConfig = z.output<typeof IdentityConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Names the offending settings but never echoes a value: some are secrets. */
export function parseConfig(env: object): Config {
  return parseWith(ConfigSchema, env);
}

export function parseIdentityConfig(env: object): IdentityConfig {
  return parseWith(IdentityConfigSchema, env);
}

function parseWith<S extends z.ZodObject>(schema: S, env: object): z.output<S> {
  const source = env as Readonly<Record<string, unknown>>;
  const input = Object.fromEntries(Object.keys(schema.shape).map((k) => [k, source[k]]));
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "config"} ${i.message}`);
  throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
}
