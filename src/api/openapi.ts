import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { STATUS_OF_CODE } from "../errors.ts";
import type { AppEnv } from "../gateway/context.ts";
import { JWKS_PATH } from "./jwks.ts";
import { errorResponses, RESPONSE_HEADERS, successHeaders } from "./responses.ts";
import { ErrorEnvelopeSchema, success } from "./schemas.ts";
import { REPORT_PATH, ReportBody, ReportResult, SIGNATURE_HEADER, SIGNATURE_KEY_ID_HEADER } from "./secret-scanning.ts";

/**
 * GET /openapi.json: the management API as OpenAPI 3.1, generated from the
 * same zod schemas that validate its requests (src/api/schemas.ts, wired in
 * src/api/keys-api.ts), so the document cannot drift from the code.
 */
export const OPENAPI_PATH = "/openapi.json";

const DESCRIPTION = `The gateway in front of the hiring API: it checks a scoped API key on every request, then forwards it to the hiring API.
This document describes what the gateway answers itself: API key management under \`/api/v1/api-keys\`, leaked-key reports at \`/api/v1/secret-scanning/report\`, \`/healthz\`
and \`${JWKS_PATH}\`, the public keys that verify the signed identity (\`X-Gateway-Identity\`, an EdDSA JWT) the origin receives.

**Authentication.** Send a key as \`Authorization: Bearer pk_live_…\` (or \`pk_test_…\`: a test-mode key, whose requests go to the test origin
and which manages only test-mode keys). Keys are secrets (the \`pk_\` prefix does not mean publishable).
A key is shown once, when it is created or rotated; the gateway stores only its HMAC.

**Scopes.** Each route needs the scopes named in its summary. \`*\` holds every scope; the broad \`read\` and \`write\` scopes hold
every \`…:read\` / \`…:write\` scope except \`api_keys\`. A key creates or rotates keys only with scopes it holds itself.

**Rate limits and quotas.** A key may have a \`rate_limit\` (\`{limit, period_s}\`, a fixed window opening at its first request)
and a \`monthly_quota\` (per UTC calendar month), both fixed at creation. Every response to a limited key carries
\`RateLimit-Policy\` and \`RateLimit\` (draft-ietf-httpapi-ratelimit-headers); over the limit it is 429 \`rate_limited\` or
\`quota_exceeded\`, with \`Retry-After\`.

**Envelope.** Every response the gateway writes is \`{"success": true, "data": …, "errors": []}\` or
\`{"success": false, "data": null, "errors": [{"code": …, "message": …}]}\`, with \`cache-control: no-store\` and an \`X-Request-Id\`.
A method a path does not list is 405 \`method_not_allowed\` with \`Allow\` naming the methods it does; a path the gateway does not know is 404.
Error codes: ${Object.entries(STATUS_OF_CODE)
  .map(([code, status]) => `${status} \`${code}\``)
  .join(", ")}.`;

/**
 * OpenAPI 3.1's `identifier` (an SPDX expression; the generator's types know only 3.0's `url`): the
 * project publishes no licence, so a LicenseRef says "all rights reserved".
 */
const LICENSE = { name: "Proprietary", identifier: "LicenseRef-Proprietary" };

export const OPENAPI_CONFIG: Parameters<OpenAPIHono["getOpenAPI31Document"]>[0] = {
  openapi: "3.1.0",
  info: {
    title: "Hiring API gateway: API keys",
    version: "1.0.0",
    description: DESCRIPTION,
    license: LICENSE,
  },
  // The local gateway of `npm start` and `wrangler dev`; served, the document names the host it was fetched from instead (serverFor).
  servers: [{ url: "http://127.0.0.1:8787", description: "The local gateway (npm start, npx wrangler dev)" }],
};

type Registry = OpenAPIHono<AppEnv>["openAPIRegistry"];

/** Gateway routes defined outside the management API, documented here. */
export function documentGatewayRoutes(registry: Registry): void {
  for (const [name, header] of Object.entries(RESPONSE_HEADERS)) registry.registerComponent("headers", name, header);
  const ok = (description: string, content: object) => ({ description, headers: successHeaders("public"), content });
  const misconfigured = z
    .object({
      success: z.literal(false),
      data: z
        .object({
          status: z.literal("misconfigured"),
          settings: z.array(z.string()).openapi({ description: "The settings at fault, by name (never their values)" }),
        })
        .nullable(),
      errors: ErrorEnvelopeSchema.shape.errors,
    })
    .openapi("HealthMisconfigured");
  registry.registerPath({
    method: "get",
    path: "/healthz",
    operationId: "getHealth",
    summary: "Liveness check; public, never touches the origin",
    security: [],
    responses: {
      ...errorResponses("public"),
      200: ok("The gateway is up", { "application/json": { schema: success(z.object({ status: z.literal("ok") })) } }),
      500: {
        description: "The gateway is misconfigured: `data.settings` names the settings to fix (the log line of every 500 names them too)",
        headers: successHeaders("public"),
        content: { "application/json": { schema: misconfigured } },
      },
    },
  });
  registry.registerPath({
    method: "post",
    path: REPORT_PATH,
    operationId: "reportLeakedKeys",
    summary: "Report leaked API keys (secret scanners); every reported key that exists is revoked at once",
    description: `For secret scanners such as GitHub's secret scanning partner program, in its format. Public (no API key): the raw body must be signed with ECDSA P-256 / SHA-256 by a key configured in \`SECRET_SCANNING_PUBLIC_KEYS\`, its identifier in \`Github-Public-Key-Identifier\` and the base64 DER signature in \`Github-Public-Key-Signature\`. A bad or missing signature is 401 and a malformed body 400; either way nothing is revoked. The 200 answer is the scanner's own format (a bare array, not the envelope): per token, whether it is one of this gateway's keys, never which organization's. Each revoked key gets a \`revoked_leaked\` event with the URL.`,
    security: [],
    request: {
      headers: z.object({
        [SIGNATURE_KEY_ID_HEADER]: z.string().openapi({ description: "Which configured public key signed the body" }),
        [SIGNATURE_HEADER]: z.string().openapi({ description: "Base64 DER ECDSA P-256 SHA-256 signature of the raw body" }),
      }),
      body: { required: true, content: { "application/json": { schema: ReportBody } } },
    },
    responses: {
      // 401: a bad or missing signature; 429: too many of those from one address; 503: D1 down.
      ...errorResponses("public", [401, 429, 503]),
      200: ok("One result per reported token, in order", { "application/json": { schema: ReportResult } }),
    },
  });
  const publicJwk = z
    .object({
      kty: z.literal("OKP"),
      crv: z.literal("Ed25519"),
      x: z.string().openapi({ description: "The public key, base64url" }),
      kid: z.string().openapi({ description: "RFC 7638 thumbprint; the `kid` of the JWS header" }),
      alg: z.literal("EdDSA"),
      use: z.literal("sig"),
    })
    .openapi("IdentityPublicKey");
  registry.registerPath({
    method: "get",
    path: JWKS_PATH,
    operationId: "getIdentityJwks",
    summary: "Public keys that verify X-Gateway-Identity (a JWK Set, not the envelope); public, cacheable for 5 minutes",
    description:
      "The origin verifies the `X-Gateway-Identity` header of every proxied request against these keys: a compact JWS " +
      "(`alg` EdDSA, `typ` JWT, `kid`) whose claims are `iss`, `aud`, `key_id`, `org`, `scopes`, `mode`, `request_id`, " +
      "`method`, `path`, `iat` and `exp` (`iat` + 60 s). During a signing-key rotation the set also holds the previous key.",
    security: [],
    responses: {
      ...errorResponses("public"),
      200: ok("The JWK Set: the current signing key first", {
        "application/jwk-set+json": { schema: z.object({ keys: z.array(publicJwk).min(1) }).openapi("IdentityJwks") },
      }),
    },
  });
}

/**
 * Signing out (src/settings/sign-in.ts), present only with OIDC_ISSUER set (404 otherwise). The sign-in
 * redirects themselves (GET /settings/login and /settings/callback) are browser navigations that only
 * ever answer 302 or an error page, not API operations: docs/sign-in.md describes them.
 */
export function documentSignOut(registry: Registry): void {
  const error = { description: "Error envelope", content: { "application/json": { schema: ErrorEnvelopeSchema } } };
  registry.registerPath({
    method: "post",
    path: "/settings/logout",
    operationId: "signOut",
    summary: "Sign out: clears the session cookie, revokes its refresh token, and names the provider's logout URL",
    description:
      "Same-origin only (Origin or Sec-Fetch-Site). `end_session_url` is the provider's end_session_endpoint for the page to visit, or null.",
    security: [],
    responses: {
      200: {
        description: "Signed out",
        content: { "application/json": { schema: success(z.object({ end_session_url: z.string().nullable() })) } },
      },
      403: error,
      404: error,
    },
  });
}

interface Operation {
  operationId?: string;
  summary?: string;
  responses?: Record<string, { description: string; headers?: unknown; content?: unknown }>;
  requestBody?: unknown;
  [field: string]: unknown;
}
type Document = { paths?: Record<string, Record<string, unknown>>; servers?: unknown; [field: string]: unknown };

/**
 * Every GET the gateway serves answers HEAD too (the route table lists both):
 * each documented GET gets its HEAD twin, same parameters, statuses and
 * headers, no body. Added to the generated document rather than registered
 * twice, so the two cannot differ.
 */
export function withHeadOperations<D extends Document>(doc: D): D {
  for (const item of Object.values(doc.paths ?? {})) {
    const get = item.get as Operation | undefined;
    if (!get || item.head) continue;
    const responses = Object.fromEntries(Object.entries(get.responses ?? {}).map(([status, { content: _, ...rest }]) => [status, rest]));
    item.head = { ...get, operationId: `${get.operationId ?? "get"}Head`, summary: `Headers only: ${get.summary ?? "as GET"}`, responses };
  }
  return doc;
}

/** The document as served from `origin`: its one server is the gateway it was fetched from. */
function serverFor(doc: Document, origin: string): Document {
  return { ...doc, servers: [{ url: origin, description: "The gateway this document was fetched from" }] };
}

/** Serves the document, generated on first request and kept for the isolate's life (one body per host it is fetched from). */
export function openApiHandler(generate: () => object) {
  let doc: Document | null = null;
  let last: { origin: string; body: string } | null = null;
  return (c: Context<AppEnv>) => {
    // The generator's PathsObject, read through the few fields this module touches.
    doc ??= withHeadOperations(generate() as Document);
    const origin = new URL(c.req.url).origin;
    if (last?.origin !== origin) last = { origin, body: JSON.stringify(serverFor(doc, origin)) };
    const body = last.body;
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "public, max-age=300",
        // Public and credential-free: tools on other origins (API explorers, code generators) may read it.
        "access-control-allow-origin": "*",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
      },
    });
  };
}
