import { z } from "@hono/zod-openapi";
import { ALL_SCOPES, SCOPE_CATALOG } from "../auth/scopes.ts";
import { ErrorCode } from "../errors.ts";
import { KEY_MODES } from "../keys/format.ts";
import { KEY_ID_PATTERN } from "../keys/ids.ts";

/**
 * The management API's inputs and outputs (DESIGN §8): the same schemas
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

export const KeyModeSchema = z.enum(KEY_MODES, { error: 'mode must be "live" or "test"' }).openapi({
  description: "`live` (pk_live_…): requests go to the origin. `test` (pk_test_…): requests go to the test origin.",
  example: "live",
});

const IsoTime = z.iso.datetime({ offset: true, error: "must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z" });

export const CreateKeyBody = z
  .strictObject({
    name: KeyName,
    scopes: z
      .array(Scope)
      .min(1, "scopes must hold at least one scope")
      .max(SCOPE_CATALOG.length)
      .refine((a) => new Set(a).size === a.length, "scopes must not repeat"),
    expires_at: IsoTime.nullable()
      .optional()
      .openapi({ description: "When the key stops working (UTC). Omit or null: it never expires." }),
    mode: KeyModeSchema.optional().openapi({
      description: "`live` (default) or `test`. A test-mode key can only create test-mode keys; test keys need TEST_ORIGIN_URL.",
    }),
  })
  .openapi("CreateKeyRequest");

export const SCOPES_IMMUTABLE =
  "scopes are immutable: create a new key with the scopes you want, then revoke this one";

export const RenameKeyBody = z
  .looseObject({ name: KeyName })
  .superRefine((body, ctx) => {
    for (const k of Object.keys(body)) {
      if (k === "name") continue;
      ctx.addIssue({ code: "custom", path: [k], message: k === "scopes" ? SCOPES_IMMUTABLE : `unknown field "${k}"; only name can change` });
    }
  })
  .openapi("RenameKeyRequest");

export const RotateKeyBody = z
  .strictObject({
    grace_seconds: z
      .int("grace_seconds must be a whole number of seconds")
      .min(0)
      .max(MAX_GRACE_SECONDS, `grace_seconds must be at most ${MAX_GRACE_SECONDS} (7 days)`)
      .default(0)
      .openapi({ description: "How long the old key keeps working; 0 (default) stops it at once." }),
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

export const KeyObjectSchema = z
  .object({
    id: z.string().regex(KEY_ID_PATTERN),
    name: z.string(),
    organization_id: z.string(),
    display: z.string().openapi({ example: "pk_live_abcd…wxyz", description: "pk_live_… or pk_test_…" }),
    scopes: z.array(z.string()),
    state: z.enum(["active", "expired", "revoked"]),
    created_at: z.string(),
    created_by: z.string().openapi({ description: 'The key id that created it, or "cli"' }),
    last_used_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable().openapi({ description: "In the future while a rotation grace period runs" }),
    rotated_from: z.string().nullable(),
    mode: KeyModeSchema,
  })
  .openapi("ApiKey");

export const CreatedKeySchema = KeyObjectSchema.extend({
  key: z.string().openapi({ description: "The secret key. Shown in this response only: store it now." }),
}).openapi("CreatedApiKey");

export const EventSchema = z
  .object({ type: z.enum(["created", "renamed", "rotated", "revoked"]), actor: z.string(), at: z.string() })
  .openapi("ApiKeyEvent");

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
