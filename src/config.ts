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
  // Usage counting (src/usage/): where counts are written and read.
  USAGE_STORE: z.enum(["d1", "analytics_engine"]).default("d1"),
  // D1 store: the least time between two batched writes of one isolate's counts.
  USAGE_FLUSH_INTERVAL_MS: int(0, 60_000).default(1_000),
  // Analytics Engine store: the dataset the USAGE binding writes, for the SQL API's FROM.
  USAGE_DATASET: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "must be a dataset name (letters, digits, _)").default("gateway_usage"),
  ANALYTICS_ACCOUNT_ID: z.string().regex(/^[0-9a-f]{32}$/, "must be a 32-character Cloudflare account id").optional(),
  ANALYTICS_API_TOKEN: z.string().min(20, "must be at least 20 characters").optional(),
  // Overrides the SQL API address built from ANALYTICS_ACCOUNT_ID (tests point it at a local stand-in).
  ANALYTICS_SQL_URL: z.url({ protocol: /^https?$/ }).optional(),
});

export type Config = z.output<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Names the offending settings but never echoes a value: some are secrets. */
export function parseConfig(env: object): Config {
  const source = env as Readonly<Record<string, unknown>>;
  const input = Object.fromEntries(Object.keys(ConfigSchema.shape).map((k) => [k, source[k]]));
  const result = ConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join(".") || "config"} ${i.message}`);
  throw new ConfigError(`Invalid configuration: ${problems.join("; ")}`);
}
