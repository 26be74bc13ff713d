/** An error for a log line: its type and message, never a stack (which may hold request data). */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : "unknown error";
}

/** One JSON object per line (docs/design.md §10); callers never pass key material or hashes. */
export function logLine(fields: Record<string, unknown>): void {
  console.log(JSON.stringify(fields));
}

/** The per-request line's fields, in the order they are written (docs/design.md §10; docs/configuration.md shows it). */
export interface RequestLogFields {
  request_id: string;
  key_id: string | null;
  organization_id: string | null;
  method: string;
  route: string | null;
  scopes_required: readonly string[] | null;
  outcome: string;
  status: number;
  cache_tier: string | null;
  duration_ms: number;
}

/** The one line every request writes. */
export function logRequestLine(fields: RequestLogFields): void {
  console.log(requestLogLine(fields));
}

/**
 * Exactly `JSON.stringify(fields)` with the keys in RequestLogFields' order,
 * written by concatenation: strings that need no escaping (nearly all: ids,
 * methods, patterns) are quoted as they are, anything else goes through
 * JSON.stringify, so the bytes are the same whatever a field holds.
 */
export function requestLogLine(f: RequestLogFields): string {
  return (
    `{"request_id":${jsonString(f.request_id)},"key_id":${nullableString(f.key_id)},` +
    `"organization_id":${nullableString(f.organization_id)},"method":${jsonString(f.method)},` +
    `"route":${nullableString(f.route)},"scopes_required":${f.scopes_required === null ? "null" : JSON.stringify(f.scopes_required)},` +
    `"outcome":${jsonString(f.outcome)},"status":${jsonNumber(f.status)},"cache_tier":${nullableString(f.cache_tier)},` +
    `"duration_ms":${jsonNumber(f.duration_ms)}}`
  );
}

/** Printable ASCII except `"` and `\`: the characters JSON.stringify writes as they are. */
const VERBATIM = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

/** JSON.stringify(s): quoted as is when nothing needs escaping, else JSON.stringify itself. */
function jsonString(s: string): string {
  return VERBATIM.test(s) ? `"${s}"` : JSON.stringify(s);
}

function nullableString(s: string | null): string {
  return s === null ? "null" : jsonString(s);
}

/** JSON.stringify(n): a finite number prints as String(n) does; NaN and infinities as null. */
function jsonNumber(n: number): string {
  return Number.isFinite(n) ? String(n) : "null";
}
