import { GatewayError } from "../errors.ts";

/**
 * The request line the gateway checked, routed and will forward. Only
 * `validateRequestLine` makes one, so the proxy cannot forward a path that
 * skipped these rules (DESIGN §1: the path matched is the path forwarded).
 */
export interface RequestLine {
  readonly method: string;
  /** Raw path as received, e.g. `/api/v1/candidates/c_1/`. */
  readonly path: string;
  /** Raw query including `?`, or "". */
  readonly search: string;
  readonly [validated]: true;
}
declare const validated: unique symbol;

export const METHOD_OVERRIDE_HEADERS = ["x-http-method-override", "x-http-method", "x-method-override"] as const;
const OVERRIDE_PARAM = "_method";
const KEY_PARAMS = new Set(["api_key", "access_token", "key"]);

const bad = (message: string) => new GatewayError("invalid_request", message);

const HEX = /^[0-9A-Fa-f]{2}$/;
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** Checks each `%XX` in `part`; `strictPath` adds the path-only rules. */
function checkEscapes(part: string, strictPath: boolean): void {
  for (let i = part.indexOf("%"); i !== -1; i = part.indexOf("%", i + 1)) {
    const hex = part.slice(i + 1, i + 3);
    if (!HEX.test(hex)) throw bad("Malformed percent-encoding in the request line");
    const byte = parseInt(hex, 16);
    if (byte < 0x20 || byte === 0x7f) throw bad("Control characters are not allowed in the request line");
    if (!strictPath) continue;
    if (byte === 0x2f || byte === 0x5c) throw bad("Encoded slashes and backslashes are not allowed in the path");
    if (byte === 0x25) throw bad("Double percent-encoding is not allowed in the path");
    if (UNRESERVED.test(String.fromCharCode(byte))) {
      throw bad("Percent-encoded letters, digits and `-._~` are not allowed in the path; send them as plain characters");
    }
  }
}

function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function decodes(part: string): boolean {
  try {
    decodeURIComponent(part);
    return true;
  } catch {
    return false;
  }
}

function checkPath(path: string): void {
  if (!path.startsWith("/")) throw bad("The path must start with /");
  if (hasControlChar(path)) throw bad("Control characters are not allowed in the request line");
  if (path.includes("\\")) throw bad("Backslashes are not allowed in the path");
  if (path.includes(";")) throw bad("Path parameters (;) are not allowed");
  if (path.includes("#")) throw bad("Fragments are not allowed in the request line");
  checkEscapes(path, true);
  const segments = path.split("/");
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg === "" && i !== segments.length - 1) throw bad("Empty path segments (//) are not allowed");
    if (seg === "." || seg === "..") throw bad("Dot segments (. and ..) are not allowed in the path");
  }
  if (!decodes(path)) throw bad("The path is not valid UTF-8");
}

function checkQuery(search: string): void {
  if (search === "") return;
  if (hasControlChar(search)) throw bad("Control characters are not allowed in the request line");
  if (search.includes("#")) throw bad("Fragments are not allowed in the request line");
  checkEscapes(search, false);
  for (const pair of search.slice(1).split("&")) {
    const rawName = pair.split("=", 1)[0]!.replaceAll("+", " ");
    if (!decodes(rawName) || !decodes(pair.replaceAll("+", " "))) throw bad("The query string is not valid UTF-8");
    const name = decodeURIComponent(rawName).toLowerCase();
    if (name === OVERRIDE_PARAM) throw bad("Method override (_method) is not allowed; send the real HTTP method");
    if (KEY_PARAMS.has(name)) {
      throw bad("API keys are not accepted in the query string; send them in the Authorization header: Bearer <key>");
    }
  }
}

/**
 * DESIGN §4 request-line rules, in one place, for routing and proxying alike.
 * `url` is `request.url` as the runtime delivered it.
 */
export function validateRequestLine(method: string, url: string, headers: Headers, maxBytes: number): RequestLine {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const target = pathStart === -1 ? "/" : url.slice(pathStart);
  if (target.length > maxBytes) {
    throw new GatewayError("uri_too_long", `The request line is longer than ${maxBytes} bytes`);
  }
  for (const h of METHOD_OVERRIDE_HEADERS) {
    if (headers.has(h)) throw bad(`Method override headers (${h}) are not allowed; send the real HTTP method`);
  }
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const search = q === -1 ? "" : target.slice(q);
  checkPath(path);
  checkQuery(search);
  return { method, path, search } as RequestLine;
}
