import { GatewayError } from "../errors.ts";
import { PATH_PROBLEMS, pathProblem } from "./path.ts";
import { QUERY_PROBLEMS, queryProblem } from "./query.ts";

/**
 * The request line the gateway checked, routed and will forward. Only
 * `validateRequestLine` makes one, so the proxy cannot forward a path that
 * skipped these rules (docs/design.md §1: the path matched is the path forwarded).
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

/** `METHOD SP target SP HTTP/1.1`: what the 414 limit counts besides the target. */
const LINE_OVERHEAD = " HTTP/1.1".length + 1;

const bad = (message: string) => new GatewayError("invalid_request", message);

/**
 * docs/design.md §4 request-line rules, in one place, for routing and proxying alike.
 * `url` is `request.url` as the runtime delivered it: the runtime has already
 * resolved plain and `%2e` dot segments and dropped any fragment, and what it
 * resolved is what the gateway routes and forwards, so those stay safe; every
 * other ambiguity is still here, and refused.
 */
export function validateRequestLine(method: string, url: string, maxBytes: number): RequestLine {
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const target = pathStart === -1 ? "/" : url.slice(pathStart);
  if (method.length + target.length + LINE_OVERHEAD > maxBytes) {
    throw new GatewayError("uri_too_long", `The request line is longer than ${maxBytes} bytes`);
  }
  const q = target.indexOf("?");
  const path = q === -1 ? target : target.slice(0, q);
  const search = q === -1 ? "" : target.slice(q);
  const pathIssue = pathProblem(path);
  if (pathIssue) throw bad(PATH_PROBLEMS[pathIssue]);
  const queryIssue = queryProblem(search);
  if (queryIssue) throw bad(QUERY_PROBLEMS[queryIssue]);
  return { method, path, search } as RequestLine;
}
