import { z } from "zod";

/** Every error code the gateway itself can answer with (docs/design.md §5). */
export const ErrorCode = z.enum([
  "invalid_request",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "uri_too_long",
  "rate_limited",
  "internal_error",
  "bad_gateway",
  "service_unavailable",
  "gateway_timeout",
  "quota_exceeded",
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

/** Exhaustive: adding a code without a status is a type error. */
export const STATUS_OF_CODE = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  uri_too_long: 414,
  rate_limited: 429,
  internal_error: 500,
  bad_gateway: 502,
  service_unavailable: 503,
  gateway_timeout: 504,
  quota_exceeded: 429,
} as const satisfies Record<ErrorCode, number>;

export type ErrorStatus = (typeof STATUS_OF_CODE)[ErrorCode];

/** V8's stack depth (workerd runs V8); absent elsewhere, where setting it is harmless. */
const V8Error = Error as ErrorConstructor & { stackTraceLimit?: number };

/** The one error type: thrown anywhere, turned into the envelope by one onError. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    // A GatewayError is an expected outcome (a refusal), and its stack is never shown or logged:
    // capturing one cost more CPU than the rest of a refusal (bench --cpu-profile 6a: 11% of the isolate).
    const depth = V8Error.stackTraceLimit;
    V8Error.stackTraceLimit = 0;
    super(message);
    V8Error.stackTraceLimit = depth;
    this.name = "GatewayError";
    this.code = code;
    this.status = STATUS_OF_CODE[code];
    this.headers = headers;
  }
}

export interface ErrorEnvelope {
  success: false;
  data: null;
  errors: { code: ErrorCode; message: string }[];
}

export interface SuccessEnvelope<T> {
  success: true;
  data: T;
  errors: [];
}

export function errorEnvelope(code: ErrorCode, message: string): ErrorEnvelope {
  return { success: false, data: null, errors: [{ code, message }] };
}

export function successEnvelope<T>(data: T): SuccessEnvelope<T> {
  return { success: true, data, errors: [] };
}

/** Headers every response the gateway writes itself carries. */
export const OWN_RESPONSE_HEADERS = {
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
} as const;

/**
 * Serialized envelopes by code and message, built once per isolate: the same
 * few refusals answer most requests. Bounded, because some messages carry
 * request data (a method, zod issues); past the bound a body is built per call.
 */
const ENVELOPE_BODIES = new Map<ErrorCode, Map<string, string>>();
const MAX_ENVELOPE_BODIES_PER_CODE = 64;

// Keyed by code, then by the message string itself: no key string to build and hash per call.
function envelopeBody(code: ErrorCode, message: string): string {
  let byMessage = ENVELOPE_BODIES.get(code);
  if (byMessage === undefined) ENVELOPE_BODIES.set(code, (byMessage = new Map()));
  let body = byMessage.get(message);
  if (body === undefined) {
    body = JSON.stringify(errorEnvelope(code, message));
    if (byMessage.size < MAX_ENVELOPE_BODIES_PER_CODE) byMessage.set(message, body);
  }
  return body;
}

const INTERNAL_ERROR = new GatewayError("internal_error", "Internal error");

/**
 * Any thrown value becomes an envelope. Unknown errors are 500 with a fixed
 * message: their text may hold a stack, a query or a secret. With
 * `requestId`, X-Request-Id is part of the headers the Response is built
 * with (one header list for the runtime to take, instead of a later set).
 */
export function errorResponse(err: unknown, requestId?: string): Response {
  const e = err instanceof GatewayError ? err : INTERNAL_ERROR;
  const headers: Record<string, string> = { ...OWN_RESPONSE_HEADERS, ...e.headers };
  if (requestId !== undefined) headers["x-request-id"] = requestId;
  return new Response(envelopeBody(e.code, e.message), { status: e.status, headers });
}
