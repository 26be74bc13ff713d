import { z } from "zod";

/**
 * Per-key rate limits and monthly quotas: the shapes, their bounds and which
 * one applies to a key (docs/keys-and-scopes.md "Rate limits and quotas").
 */
export interface RateLimit {
  limit: number;
  period_s: number;
}

/** What a request of one key is metered against; null parts do not apply. */
export interface Limits {
  rate: RateLimit | null;
  quota: number | null;
}

/** Bounds, the same for the API, the command line and the configuration. */
export const RATE_LIMIT_MAX = 1_000_000;
export const RATE_PERIOD_MIN_S = 1;
export const RATE_PERIOD_MAX_S = 86_400;
export const MONTHLY_QUOTA_MAX = 1_000_000_000;

export const RateLimitSchema = z.strictObject({
  limit: z
    .int("rate_limit.limit must be a whole number")
    .min(1, "rate_limit.limit must be at least 1")
    .max(RATE_LIMIT_MAX, `rate_limit.limit must be at most ${RATE_LIMIT_MAX}`),
  period_s: z
    .int("rate_limit.period_s must be a whole number of seconds")
    .min(RATE_PERIOD_MIN_S, `rate_limit.period_s must be at least ${RATE_PERIOD_MIN_S}`)
    .max(RATE_PERIOD_MAX_S, `rate_limit.period_s must be at most ${RATE_PERIOD_MAX_S} (one day)`),
});

export const MonthlyQuotaSchema = z
  .int("monthly_quota must be a whole number")
  .min(1, "monthly_quota must be at least 1")
  .max(MONTHLY_QUOTA_MAX, `monthly_quota must be at most ${MONTHLY_QUOTA_MAX}`);

const SHORT_FORM = /^(\d{1,10})\/(\d{1,10})$/;

/** "100/60" (100 requests per 60 s) → a validated rate limit; throws a message naming `what`. */
export function parseRateLimit(text: string, what: string): RateLimit {
  const m = SHORT_FORM.exec(text.trim());
  if (!m) throw new Error(`${what} must look like LIMIT/PERIOD_SECONDS, e.g. 100/60`);
  const r = RateLimitSchema.safeParse({ limit: Number(m[1]), period_s: Number(m[2]) });
  if (!r.success) throw new Error(`${what}: ${r.error.issues.map((i) => i.message).join("; ")}`);
  return r.data;
}

/** Config form: "100/60", or "none" / "" for no limit. */
export const RateLimitSetting = z.string().transform((s, ctx): RateLimit | null => {
  if (s.trim() === "" || s.trim() === "none") return null;
  try {
    return parseRateLimit(s, "value");
  } catch (err) {
    ctx.addIssue({ code: "custom", message: err instanceof Error ? err.message : "invalid rate limit" });
    return z.NEVER;
  }
});

/** Config form: a JSON object of organization id → "100/60" or "none" (opts the org out of the default). */
export const OrgRateLimitsSetting = z.string().transform((s, ctx): ReadonlyMap<string, RateLimit | null> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    ctx.addIssue({ code: "custom", message: 'must be a JSON object like {"acme": "1000/60", "beta": "none"}' });
    return z.NEVER;
  }
  const shape = z.record(z.string().min(1), z.string()).safeParse(parsed);
  if (!shape.success) {
    ctx.addIssue({ code: "custom", message: 'must be a JSON object of organization id → "LIMIT/PERIOD" or "none"' });
    return z.NEVER;
  }
  const out = new Map<string, RateLimit | null>();
  for (const [org, v] of Object.entries(shape.data)) {
    const r = RateLimitSetting.safeParse(v);
    if (!r.success) {
      ctx.addIssue({ code: "custom", message: `organization "${org}": ${r.error.issues.map((i) => i.message).join("; ")}` });
      return z.NEVER;
    }
    out.set(org, r.data);
  }
  return out;
});

export interface LimitDefaults {
  DEFAULT_RATE_LIMIT: RateLimit | null;
  ORG_RATE_LIMITS: ReadonlyMap<string, RateLimit | null>;
}

/** The parts of a key record that limits read; absent fields (records cached before limits existed) mean none. */
export interface LimitedRecord {
  id: string;
  organization_id: string;
  rate_limit?: RateLimit | null | undefined;
  monthly_quota?: number | null | undefined;
  meter_id?: string | null | undefined;
}

/**
 * Precedence for the rate limit: the key's own, else its organization's entry
 * in ORG_RATE_LIMITS (which may be "none"), else DEFAULT_RATE_LIMIT, else none.
 * The quota is the key's own only. Null: the key is not metered at all.
 */
export function limitsFor(record: LimitedRecord, defaults: LimitDefaults): Limits | null {
  const orgLimit = defaults.ORG_RATE_LIMITS.get(record.organization_id);
  const rate = record.rate_limit ?? (orgLimit === undefined ? defaults.DEFAULT_RATE_LIMIT : orgLimit);
  const quota = record.monthly_quota ?? null;
  return rate === null && quota === null ? null : { rate, quota };
}

/** The Durable Object name a key is metered under: rotated keys share their predecessor's. */
export const meterIdOf = (record: LimitedRecord): string => record.meter_id ?? record.id;
