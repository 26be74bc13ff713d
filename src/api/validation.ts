import type { z } from "@hono/zod-openapi";
import { GatewayError } from "../errors.ts";

/** A request body or parameter that failed its schema: one 400 naming each problem by its field path. */
export function invalidRequest(issues: readonly Pick<z.core.$ZodIssue, "path" | "message">[]): GatewayError {
  const messages = issues.map((i) => (i.path.length ? `${i.path.join(".")}: ${i.message}` : i.message));
  return new GatewayError("invalid_request", messages.join("; "));
}
