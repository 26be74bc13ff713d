import { z } from "zod";

/** Every error code the gateway itself can answer with (DESIGN §5). */
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

/** The one error type: thrown anywhere, turned into the envelope by one onError. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: ErrorStatus;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
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
 * Any thrown value becomes an envelope. Unknown errors are 500 with a fixed
 * message: their text may hold a stack, a query or a secret.
 */
export function errorResponse(err: unknown): Response {
  const e = err instanceof GatewayError ? err : new GatewayError("internal_error", "Internal error");
  return new Response(JSON.stringify(errorEnvelope(e.code, e.message)), {
    status: e.status,
    headers: { ...OWN_RESPONSE_HEADERS, ...e.headers },
  });
}
