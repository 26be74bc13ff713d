import type { ErrorStatus } from "../errors.ts";
import { ErrorEnvelopeSchema } from "./schemas.ts";

/**
 * What the OpenAPI document says about responses, as data: the headers the
 * gateway sets (declared once, as components, and referenced), and which
 * error statuses each kind of operation can really answer, so generated
 * clients neither miss a header nor handle a status that never comes.
 */

/** Header components, by name as sent. */
export const RESPONSE_HEADERS = {
  "X-Request-Id": {
    description: "The client's X-Request-Id if it matched ^[A-Za-z0-9._-]{1,128}$, else a new UUID; also in the gateway's log line",
    schema: { type: "string" },
  },
  "WWW-Authenticate": {
    description:
      'The Bearer challenge (RFC 6750): `Bearer realm="api"`, with `error="invalid_token"` or `error="insufficient_scope", scope="…"`',
    schema: { type: "string" },
  },
  "Retry-After": {
    description: "Seconds until a retry can succeed",
    schema: { type: "integer", minimum: 0 },
  },
  RateLimit: {
    description:
      'Only for a key with a rate limit or monthly quota: what is left, e.g. `"default";r=42;t=17` (draft-ietf-httpapi-ratelimit-headers)',
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description: 'Only for a key with a rate limit or monthly quota: the policy, e.g. `"default";q=100;w=60`',
    schema: { type: "string" },
  },
} as const;

type HeaderName = keyof typeof RESPONSE_HEADERS;
const ref = (name: HeaderName) => ({ $ref: `#/components/headers/${name}` });
const headersOf = (names: readonly HeaderName[]) => Object.fromEntries(names.map((n) => [n, ref(n)]));

/** Who calls the operation: with an API key (`key`, with or without an id in the path) or nobody in particular (`public`). */
export type OperationKind = "key" | "key-by-id" | "public";

/** The error statuses each kind can answer (src/errors.ts STATUS_OF_CODE), and why. */
const ERRORS_OF: Readonly<Record<OperationKind, readonly ErrorStatus[]>> = {
  // Any request: a refused request line or header block (400, 414), a misconfiguration (500).
  public: [400, 414, 500],
  // Plus the key: missing or invalid (401), scope, allowlist or mode (403), failures or limits (429), D1 down (503).
  key: [400, 401, 403, 414, 429, 500, 503],
  // Plus another organization's key, or no such key (404).
  "key-by-id": [400, 401, 403, 404, 414, 429, 500, 503],
};

/** Headers per status on a key's operation: the challenge on 401 and 403, Retry-After on 429, the limits on every response. */
function keyHeaders(status: number): readonly HeaderName[] {
  const limits: HeaderName[] = ["RateLimit", "RateLimit-Policy"];
  if (status === 401) return ["X-Request-Id", "WWW-Authenticate"];
  if (status === 403) return ["X-Request-Id", "WWW-Authenticate", ...limits];
  if (status === 429) return ["X-Request-Id", "Retry-After", ...limits];
  return ["X-Request-Id", ...limits];
}

function headersFor(kind: OperationKind, status: number) {
  if (kind === "public") return headersOf(status === 429 ? ["X-Request-Id", "Retry-After"] : ["X-Request-Id"]);
  return headersOf(keyHeaders(status));
}

/** The error responses of an operation, extra statuses included (e.g. 429 for a public route with its own limiter). */
export function errorResponses(kind: OperationKind, extra: readonly ErrorStatus[] = []) {
  const statuses = [...new Set([...ERRORS_OF[kind], ...extra])].sort();
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: "Error envelope",
        headers: headersFor(kind, status),
        content: { "application/json": { schema: ErrorEnvelopeSchema } },
      },
    ]),
  );
}

/** A success response's headers: X-Request-Id, and on a key's operation the limits. */
export function successHeaders(kind: OperationKind) {
  return headersFor(kind, 200);
}
