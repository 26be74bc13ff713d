import { escapedByte, KeyPrefixWatch, Utf8State } from "./escapes.ts";

/**
 * docs/design.md §4 query rules. The gateway does not route on the query, so it is
 * forwarded as sent, except what would let a client change the method the
 * origin runs (`_method`) or leak a key into the origin's access logs.
 */
export const QUERY_PROBLEMS = {
  control: "Control characters (raw or encoded, such as %00) are not allowed in the request line",
  malformed_escape: "Malformed percent-encoding in the request line",
  invalid_utf8: "The request line is not valid UTF-8",
  fragment: "Fragments (#) are not allowed in the request line",
  method_override: "Method override (_method) is not allowed; send the real HTTP method",
  key_in_query: "API keys are not accepted in the query string; send them in the Authorization header: Bearer <key>",
} as const;
export type QueryProblem = keyof typeof QUERY_PROBLEMS;

/** Parameter names (decoded, lower-cased) that refuse the request. */
const FORBIDDEN_NAMES: ReadonlyMap<string, QueryProblem> = new Map([
  ["_method", "method_override"],
  ["api_key", "key_in_query"],
  ["apikey", "key_in_query"],
  ["api-key", "key_in_query"],
  ["x-api-key", "key_in_query"],
  ["access_token", "key_in_query"],
  ["key", "key_in_query"],
]);
/** Longer raw names cannot decode to a forbidden one (3 characters per escape at most). */
const MAX_CHECKED_NAME = 3 * Math.max(...[...FORBIDDEN_NAMES.keys()].map((n) => n.length));

/** `&` and, for parsers that still honour it, `;` separate parameters. */
const isSeparator = (c: number) => c === 0x26 || c === 0x3b;

function nameProblem(search: string, from: number, to: number): QueryProblem | null {
  if (to - from > MAX_CHECKED_NAME || to === from) return null;
  let name = search.slice(from, to).replaceAll("+", " ");
  try {
    name = decodeURIComponent(name);
  } catch {
    return null; // the byte scan reports malformed escapes and bad UTF-8
  }
  return FORBIDDEN_NAMES.get(name.toLowerCase()) ?? null;
}

/** The first rule `search` (with its `?`, or "") breaks, or null. */
export function queryProblem(search: string): QueryProblem | null {
  const utf8 = new Utf8State();
  const key = new KeyPrefixWatch();
  let nameStart = 1;
  let nameEnd = -1; // index of the first `=` of the current parameter, once seen
  for (let i = 1; i <= search.length; i++) {
    const c = i < search.length ? search.charCodeAt(i) : 0x26; // the end closes the last parameter
    if (utf8.pending > 0 && c !== 0x25) return "invalid_utf8";
    if (isSeparator(c)) {
      const problem = nameProblem(search, nameStart, nameEnd === -1 ? i : nameEnd);
      if (problem) return problem;
      nameStart = i + 1;
      nameEnd = -1;
      if (i < search.length) key.push(c);
      continue;
    }
    if (c === 0x3d && nameEnd === -1) nameEnd = i;
    if (c === 0x25) {
      const b = escapedByte(search, i);
      if (b < 0) return "malformed_escape";
      i += 2;
      if (b >= 0x80) {
        if (!utf8.push(b)) return "invalid_utf8";
      } else if (utf8.pending > 0) {
        return "invalid_utf8";
      } else if (b < 0x20 || b === 0x7f) {
        return "control";
      }
      key.push(b);
      continue;
    }
    if (c < 0x20 || c === 0x7f) return "control";
    if (c === 0x23) return "fragment"; // the runtime drops fragments; one still here would not reach the origin
    key.push(c);
  }
  return key.found ? "key_in_query" : null;
}
