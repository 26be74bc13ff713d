import { z } from "zod";
import { RESOURCES as CATALOG, type Resource } from "./scopes.ts";

/**
 * The scope catalog's rows, checked with zod. The catalog itself
 * (src/auth/scopes.ts) imports nothing so that the settings page's client can
 * bundle it without zod; the Worker validates it here, once, when the route
 * table that is derived from it loads.
 */
export const ResourceSchema = z.strictObject({
  name: z.string().regex(/^[a-z][a-z_]*$/),
  read: z.string().min(1).nullable(),
  write: z.string().min(1).nullable(),
  explicitOnly: z.boolean(),
  gatewayServed: z.boolean(),
}) satisfies z.ZodType<Resource>;

export const RESOURCES: readonly Resource[] = z
  .array(ResourceSchema)
  .refine((rows) => new Set(rows.map((r) => r.name)).size === rows.length, "resource names must not repeat")
  .parse(CATALOG);
