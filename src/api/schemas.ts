import { z } from "@hono/zod-openapi";
import { checkAllowlist, MAX_ALLOWED_CIDRS } from "../auth/cidr.ts";
import { ALL_SCOPES, SCOPE_CATALOG } from "../auth/scopes.ts";
import { ErrorCode } from "../errors.ts";
import { KEY_MODES } from "../keys/format.ts";
import { KEY_ID_PATTERN } from "../keys/ids.ts";
import { MONTHLY_QUOTA_MAX, RATE_LIMIT_MAX, RATE_PERIOD_MAX_S, RATE_PERIOD_MIN_S } from "../limits/policy.ts";
import { MAX_USAGE_BUCKETS } from "../usage/range.ts";

/**
 * The management API's inputs and outputs (docs/design.md §8): the same schemas
 * validate requests and generate /openapi.json, so the two cannot drift.
 */
export const MAX_GRACE_SECONDS = 7 * 24 * 3600;
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

const VALID_SCOPES = [...ALL_SCOPES].join(", ");

export const KeyName = z
  .string()
  .trim()
  .min(1, "name must not be empty")
  .max(100, "name must be at most 100 characters")
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "name must not contain control characters")
  .openapi({ example: "Zapier integration" });

export const Scope = z
  .string()
  .refine((s) => ALL_SCOPES.has(s), { error: (i) => `unknown scope "${String(i.input)}"; valid scopes: ${VALID_SCOPES}` })
  .openapi({ enum: SCOPE_CATALOG.map((s) => s.scope), example: "candidates:read" });

/**
 * The bounds of src/limits/policy.ts, spelt again with @hono/zod-openapi's zod
 * (in Node, the plain zod schemas there lack `.openapi`), so the document shows them.
 */
const RateLimitBody = z
  .strictObject({
    limit: z
      .int("rate_limit.limit must be a whole number")
      .min(1, "rate_limit.limit must be at least 1")
      .max(RATE_LIMIT_MAX, `rate_limit.limit must be at most ${RATE_LIMIT_MAX}`)
      .openapi({ description: "Requests admitted per window", example: 100 }),
    period_s: z
      .int("rate_limit.period_s must be a whole number of seconds")
      .min(RATE_PERIOD_MIN_S, `rate_limit.period_s must be at least ${RATE_PERIOD_MIN_S}`)
      .max(RATE_PERIOD_MAX_S, `rate_limit.period_s must be at most ${RATE_PERIOD_MAX_S} (one day)`)
      .openapi({ description: "Window length in seconds; a window opens at the first request after the last one closed", example: 60 }),
  })
  .openapi("RateLimit");

const MonthlyQuota = z
  .int("monthly_quota must be a whole number")
  .min(1, "monthly_quota must be at least 1")
  .max(MONTHLY_QUOTA_MAX, `monthly_quota must be at most ${MONTHLY_QUOTA_MAX}`);
/** Validated here and canonicalised by the handler with the same checkAllowlist. */
export const AllowedCidrs = z
  .array(z.string())
  .superRefine((list, ctx) => {
    const checked = checkAllowlist(list);
    if (checked.ok) return;
    for (const issue of checked.issues)
      ctx.addIssue({ code: "custom", path: issue.index < 0 ? [] : [issue.index], message: issue.message });
  })
  .openapi({
    description: `IPv4 and IPv6 CIDR blocks (1 to ${MAX_ALLOWED_CIDRS}) the key may be used from; a bare address means /32 or /128. Host bits must be zero. Omit or null: any address. Fixed at creation.`,
    example: ["203.0.113.0/24", "2001:db8::/32"],
  });
export const KeyModeSchema = z.enum(KEY_MODES, { error: 'mode must be "live" or "test"' }).openapi({
  description: "`live` (pk_live_…): requests go to the origin. `test` (pk_test_…): requests go to the test origin.",
  example: "live",
});

/** A timestamp the gateway writes: ISO-8601 in UTC (`toISOString`). */
const Timestamp = z.string().openapi({ format: "date-time", example: "2026-12-01T09:30:00.000Z" });

const IsoTime = z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z" });

export const CreateKeyBody = z
  .strictObject({
    name: KeyName,
    scopes: z
      .array(Scope)
      .min(1, "scopes must hold at least one scope")
      .max(SCOPE_CATALOG.length)
      .refine((a) => new Set(a).size === a.length, "scopes must not repeat"),
    expires_at: IsoTime.nullable().optional().openapi({ description: "When the key stops working (UTC). Omit or null: it never expires." }),
    rate_limit: RateLimitBody.nullable()
      .optional()
      .openapi({ description: "Omit or null: the organization default (configuration) applies, if any. Immutable." }),
    monthly_quota: MonthlyQuota.nullable()
      .optional()
      .openapi({ description: "Requests per UTC calendar month; omit or null: no quota. Immutable.", example: 100000 }),
    allowed_cidrs: AllowedCidrs.nullable().optional(),
    mode: KeyModeSchema.optional().openapi({
      description: "`live` (default) or `test`. A test-mode key can only create test-mode keys; test keys need TEST_ORIGIN_URL.",
    }),
  })
  .openapi("CreateKeyRequest");

export const SCOPES_IMMUTABLE = "scopes are immutable: create a new key with the scopes you want, then revoke this one";

export const LIMITS_IMMUTABLE = "rate limits and quotas are immutable: create a new key with the limits you want, then revoke this one";

export const ALLOWED_CIDRS_IMMUTABLE = "allowed_cidrs is immutable: create a new key with the allowlist you want, then revoke this one";

/** Fields a key has but PATCH cannot change, and why. */
const IMMUTABLE: Readonly<Record<string, string>> = {
  scopes: SCOPES_IMMUTABLE,
  rate_limit: LIMITS_IMMUTABLE,
  monthly_quota: LIMITS_IMMUTABLE,
  allowed_cidrs: ALLOWED_CIDRS_IMMUTABLE,
};

/** Why a PATCH field cannot be sent: immutable, or unknown. */
const unchangeable = (k: string) =>
  `${k}: ${(Object.hasOwn(IMMUTABLE, k) ? IMMUTABLE[k] : undefined) ?? `unknown field "${k}"; only name can change`}`;

/**
 * Strict (a generated client sees `additionalProperties: false`); a field
 * that cannot change is answered with why, and before anything else (see
 * `decisiveIssues`): `{"rate_limit": null}` is about the limits, not a missing name.
 */
export const RenameKeyBody = z
  .strictObject(
    { name: KeyName },
    { error: (issue) => (issue.code === "unrecognized_keys" ? issue.keys.map(unchangeable).join("; ") : undefined) },
  )
  .openapi("RenameKeyRequest");

/**
 * The issues worth reporting: a field the schema does not take says more
 * about the request than what is missing beside it, so when there is one,
 * only those are reported.
 */
export function decisiveIssues<I extends { code: string }>(issues: readonly I[]): readonly I[] {
  const unknown = issues.filter((i) => i.code === "unrecognized_keys");
  return unknown.length > 0 ? unknown : issues;
}

export const RotateKeyBody = z
  .strictObject({
    grace_seconds: z
      .int("grace_seconds must be a whole number of seconds")
      .min(0)
      .max(MAX_GRACE_SECONDS, `grace_seconds must be at most ${MAX_GRACE_SECONDS} (7 days)`)
      // Optional without a schema default: a default would make generated clients require it.
      .optional()
      .openapi({ description: "How long the old key keeps working; omitted or 0, it stops at once." }),
  })
  .openapi("RotateKeyRequest");

export const ListQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE, `limit must be at most ${MAX_PAGE_SIZE}`)
    .default(DEFAULT_PAGE_SIZE)
    .openapi({ example: 20 }),
  cursor: z.string().max(512).optional().openapi({ description: "next_cursor of the previous page" }),
});

export const KeyIdParam = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, example: "key_0123456789ABCDEFabcd" }),
});

/** A person as an actor (src/storage/actors.ts): who signed in through the identity provider. */
export const UserActorSchema = z
  .object({
    type: z.literal("user"),
    id: z.string().openapi({ description: "The identity provider's subject (sub)" }),
    email: z.string().nullable(),
  })
  .openapi("UserActor");

const ActorSchema = z.union([z.string(), UserActorSchema]);

export const KeyObjectSchema = z
  .object({
    id: z.string().regex(KEY_ID_PATTERN),
    name: z.string(),
    organization_id: z.string(),
    display: z.string().openapi({ example: "pk_live_abcd…wxyz", description: "pk_live_… or pk_test_…" }),
    scopes: z.array(z.string()),
    state: z.enum(["active", "expired", "revoked"]),
    created_at: Timestamp,
    created_by: ActorSchema.openapi({
      description: 'The key id that created it, "cli", or the person who did (signed in through the identity provider)',
    }),
    last_used_at: Timestamp.nullable(),
    expires_at: Timestamp.nullable(),
    revoked_at: Timestamp.nullable().openapi({ description: "In the future while a rotation grace period runs" }),
    rotated_from: z.string().nullable(),
    rate_limit: RateLimitBody.nullable().openapi({
      description: "The key's own rate limit; null: the organization default applies, if any",
    }),
    monthly_quota: z.int().nullable().openapi({ description: "Requests per UTC calendar month; null: no quota" }),
    allowed_cidrs: z
      .array(z.string())
      .nullable()
      .openapi({ description: "CIDR blocks the key may be used from (canonical form); null: any address" }),
    mode: KeyModeSchema,
  })
  .openapi("ApiKey");

export const CreatedKeySchema = KeyObjectSchema.extend({
  key: z.string().openapi({ description: "The secret key. Shown in this response only: store it now." }),
}).openapi("CreatedApiKey");

export const EventSchema = z
  .object({
    type: z.enum(["created", "renamed", "rotated", "revoked", "revoked_leaked"]),
    actor: ActorSchema.openapi({
      description: 'The acting key id, "cli", "secret-scanning" for a leaked-key report, or the person who acted',
    }),
    at: Timestamp,
    url: z.string().nullable().openapi({ description: "revoked_leaked: where the key was found; null otherwise" }),
  })
  .openapi("ApiKeyEvent");

export const UsageQuery = z.object({
  from: IsoTime.optional().openapi({
    description: "Start (ISO-8601), rounded down to a whole UTC hour or day. Default: 24 hours (hour) or 30 days (day) before `to`.",
  }),
  to: IsoTime.optional().openapi({ description: "End (ISO-8601), exclusive. Default: now." }),
  granularity: z
    .enum(["hour", "day"], { error: 'granularity must be "hour" or "day"' })
    .default("hour")
    .openapi({ description: `Bucket size (UTC). At most ${MAX_USAGE_BUCKETS} buckets per answer.` }),
});

export const UsageBucketSchema = z
  .object({ start: Timestamp, "2xx": z.number().int(), "3xx": z.number().int(), "4xx": z.number().int(), "5xx": z.number().int() })
  .openapi("UsageBucket");

export const UsageSchema = z
  .object({
    key_id: z.string(),
    granularity: z.enum(["hour", "day"]),
    from: Timestamp.openapi({ description: "Start of the first bucket" }),
    to: Timestamp.openapi({ description: "End of the range (exclusive), as asked or now" }),
    buckets: z.array(UsageBucketSchema).openapi({ description: "Every bucket of the range, oldest first, zero-filled" }),
  })
  .openapi("ApiKeyUsage");

export function success<T extends z.ZodType>(data: T) {
  // zod-to-openapi cannot describe z.never(): the document says what it means instead.
  return z.object({ success: z.literal(true), data, errors: z.array(z.never()).max(0).openapi({ type: "array", maxItems: 0 }) });
}

export const ErrorEnvelopeSchema = z
  .object({
    success: z.literal(false),
    data: z.null(),
    errors: z.array(z.object({ code: ErrorCode, message: z.string() })).min(1),
  })
  .openapi("Error");
