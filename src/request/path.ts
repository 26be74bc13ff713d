import { escapedByte, KeyPrefixWatch, Utf8State } from "./escapes.ts";

/**
 * docs/design.md §4 path rules. The path is accepted only in one canonical spelling
 * that every origin reads the same way, decoding or not: then the route the
 * gateway matched is the route the origin serves (CVE-2019-9901 `..`,
 * CVE-2021-29492 `%2F` / `%5C` / `//`, Tomcat `..;`, `%252e`, `%c0%ae`, NFKC).
 */
export const PATH_PROBLEMS = {
  not_absolute: "The path must start with /",
  control: "Control characters (raw or encoded, such as %00) are not allowed in the request line",
  backslash: "Backslashes (\\ or %5C) are not allowed in the path",
  encoded_slash: "Encoded slashes (%2F) are not allowed in the path",
  semicolon: "Path parameters (; or %3B) are not allowed",
  double_encoding: "Double percent-encoding (%25) is not allowed in the path",
  encoded_unreserved:
    "Percent-encoded letters, digits and -._~ (such as %61 or %2e) are not allowed in the path; send them as plain characters",
  dot_segment: "Dot segments (. and ..) are not allowed in the path",
  empty_segment: "Empty path segments (//) are not allowed",
  not_rfc3986: "Characters outside RFC 3986 are not allowed in the path; percent-encode them",
  malformed_escape: "Malformed percent-encoding in the request line",
  invalid_utf8: "The request line is not valid UTF-8",
  unicode_syntax: "Characters that Unicode normalisation turns into path syntax (such as ．or ／) are not allowed in the path",
  key_in_url: "API keys are not accepted in the URL; send them in the Authorization header: Bearer <key>",
} as const;
export type PathProblem = keyof typeof PATH_PROBLEMS;

type CharRule = PathProblem | null;

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
// RFC 3986 pchar minus `;`: what may appear raw in a path segment.
const PCHAR_RAW = /^[A-Za-z0-9\-._~!$&'()*+,=:@]$/;

/** What a raw ASCII character in a path means; `/` and `%` are handled by the scanner. */
const RAW_RULE: readonly CharRule[] = Array.from({ length: 128 }, (_, c): CharRule => {
  const ch = String.fromCharCode(c);
  if (c < 0x20 || c === 0x7f) return "control";
  if (ch === "\\") return "backslash";
  if (ch === ";") return "semicolon";
  return PCHAR_RAW.test(ch) || ch === "/" || ch === "%" ? null : "not_rfc3986";
});

/** What an escaped byte below 0x80 means in a path (`%2F`, `%5C`, `%25`, `%3B`, `%61`, `%00`, ...). */
const ESCAPED_RULE: readonly CharRule[] = Array.from({ length: 128 }, (_, b): CharRule => {
  const ch = String.fromCharCode(b);
  if (b < 0x20 || b === 0x7f) return "control";
  if (ch === "/") return "encoded_slash";
  if (ch === "\\") return "backslash";
  if (ch === "%") return "double_encoding";
  if (ch === ";") return "semicolon";
  return UNRESERVED.test(ch) ? "encoded_unreserved" : null;
});

/** Path syntax an origin might act on after Unicode normalisation (NFKC maps ．to `.`, ／ to `/`, ...). */
const SYNTAX = /[/\\;%?#.\u0000-\u001f\u007f]/g;

/** Decoded with NFKC, does the segment gain path syntax it did not have? Only runs on non-ASCII segments. */
function normalisesToSyntax(segment: string): boolean {
  const decoded = decodeURIComponent(segment);
  const nfkc = decoded.normalize("NFKC");
  if (nfkc === decoded) return false;
  return (nfkc.match(SYNTAX)?.length ?? 0) !== (decoded.match(SYNTAX)?.length ?? 0);
}

/**
 * The first rule `path` breaks, or null when it is canonical. One pass over
 * a bounded string (the request line is length-checked first).
 */
export function pathProblem(path: string): PathProblem | null {
  if (path.charCodeAt(0) !== 0x2f) return "not_absolute";
  const utf8 = new Utf8State();
  const key = new KeyPrefixWatch();
  let segStart = 1;
  let segNonAscii = false;
  for (let i = 1; i <= path.length; i++) {
    const c = i < path.length ? path.charCodeAt(i) : 0x2f; // the end closes the last segment
    if (utf8.pending > 0 && c !== 0x25) return "invalid_utf8";
    if (c === 0x2f) {
      const len = i - segStart;
      const last = i === path.length;
      if (len === 0 && !last) return "empty_segment";
      if ((len === 1 || len === 2) && isDots(path, segStart, i)) return "dot_segment";
      if (segNonAscii && normalisesToSyntax(path.slice(segStart, i))) return "unicode_syntax";
      if (!last) key.push(c);
      segStart = i + 1;
      segNonAscii = false;
      continue;
    }
    if (c === 0x25) {
      const b = escapedByte(path, i);
      if (b < 0) return "malformed_escape";
      i += 2;
      if (b >= 0x80) {
        if (!utf8.push(b)) return "invalid_utf8";
        segNonAscii = true;
      } else {
        if (utf8.pending > 0) return "invalid_utf8";
        const rule = ESCAPED_RULE[b]!;
        if (rule) return rule;
      }
      key.push(b);
      continue;
    }
    const rule = c < 0x80 ? RAW_RULE[c]! : "not_rfc3986";
    if (rule) return rule;
    key.push(c);
  }
  return key.found ? "key_in_url" : null;
}

function isDots(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (s.charCodeAt(i) !== 0x2e) return false;
  return true;
}
