import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { successEnvelope, OWN_RESPONSE_HEADERS } from "../errors.ts";
import type { AppEnv } from "../gateway/context.ts";
import { callerOf } from "./caller.ts";
import { ErrorEnvelopeSchema, success } from "./schemas.ts";
import { PEOPLE_SECURITY } from "./security.ts";

/** GET /api/v1/session: who the page (or an access token, or a key) is acting as. */
export const SESSION_PATH = "/api/v1/session";

export const SessionSchema = z
  .object({
    actor: z.union([
      z.object({
        type: z.literal("user"),
        id: z.string().openapi({ description: "The identity provider's subject (sub)" }),
        email: z.string().nullable(),
        name: z.string().nullable(),
      }),
      z.object({ type: z.literal("key"), id: z.string() }),
    ]),
    organization_id: z.string(),
    scopes: z
      .array(z.string())
      .openapi({ description: "Management scopes: the person's roles mapped through OIDC_ROLE_SCOPES, or the key's scopes" }),
  })
  .openapi("Session");

const route = createRoute({
  method: "get",
  path: "/",
  operationId: "getSession",
  summary: "Who is signed in: the person of the session cookie or access token, or the calling key (401 when nobody is)",
  security: PEOPLE_SECURITY,
  responses: {
    200: { description: "The caller", content: { "application/json": { schema: success(SessionSchema) } } },
    401: { description: "Nobody is signed in", content: { "application/json": { schema: ErrorEnvelopeSchema } } },
  },
});

export function sessionApi() {
  const api = new OpenAPIHono<AppEnv>({ strict: false });
  api.openapi(route, (c) => {
    const caller = callerOf(c);
    const person = c.get("state").person?.person;
    const actor = person
      ? { type: "user" as const, id: person.sub, email: person.email, name: person.name }
      : { type: "key" as const, id: caller.keyId ?? "" };
    return c.json(
      successEnvelope({ actor, organization_id: caller.organization_id, scopes: [...caller.scopes] }),
      200,
      OWN_RESPONSE_HEADERS,
    );
  });
  return api;
}
