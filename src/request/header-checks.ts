import { GatewayError } from "../errors.ts";

/**
 * Request-header rules checked before routing (docs/design.md §4): frameworks behind
 * the gateway honour these to run another method than the one authorized.
 */
export const METHOD_OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"] as const;

/** `name: value\r\n` framing counted per header, as on the wire. */
const PER_HEADER_OVERHEAD = 4;

/**
 * Refuses method overrides and header sets larger than `maxBytes`: the
 * gateway forwards headers, so it bounds what it will copy and send on.
 */
export function checkRequestHeaders(headers: Headers, maxBytes: number): void {
  // forEach rather than for … of: no iterator result and [name, value] array per header (half the CPU).
  let bytes = 0;
  headers.forEach((value, name) => {
    bytes += name.length + value.length + PER_HEADER_OVERHEAD;
  });
  if (bytes > maxBytes) {
    throw new GatewayError("invalid_request", `The request headers are larger than ${maxBytes} bytes`);
  }
  for (const h of METHOD_OVERRIDE_HEADERS) {
    if (headers.has(h)) {
      throw new GatewayError("invalid_request", `Method override headers (${h}) are not allowed; send the real HTTP method`);
    }
  }
}
