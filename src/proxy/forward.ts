import { GatewayError } from "../errors.ts";
import { errorText, logLine } from "../log.ts";
import type { RequestLine } from "../request/line.ts";

export interface Upstream {
  /** ORIGIN_URL without a trailing slash; its path, if any, prefixes every forwarded path. */
  baseUrl: string;
  /** A service binding when the origin is a Worker; otherwise the global fetch. */
  fetcher: Fetcher | undefined;
  timeoutMs: number;
}

/**
 * The URL the origin is asked for: its base plus the validated path and query,
 * byte for byte. `fetch` re-parses the string; should the parser change any
 * byte (a dot segment, a backslash, an encoding the validator let through),
 * the request is refused rather than forwarded somewhere it was not authorized.
 */
export function originUrl(baseUrl: string, line: RequestLine): string {
  const url = baseUrl + line.path + line.search;
  if (new URL(url).href !== url) {
    throw new GatewayError("invalid_request", "The request line cannot be forwarded exactly as received");
  }
  return url;
}

/**
 * Sends the authorized request line to the origin, streaming the body both
 * ways, and hands redirects to the client instead of following them: a
 * followed redirect would carry the request (and any forwarded key) elsewhere.
 */
export async function forward(upstream: Upstream, line: RequestLine, headers: Headers, body: ReadableStream | null): Promise<Response> {
  const url = originUrl(upstream.baseUrl, line);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), upstream.timeoutMs);
  const init: RequestInit = {
    method: line.method,
    headers,
    body: line.method === "GET" || line.method === "HEAD" ? null : body,
    redirect: "manual",
    signal: controller.signal,
  };
  let res: Response;
  try {
    res = await (upstream.fetcher ? upstream.fetcher.fetch(url, init) : fetch(url, init));
  } catch (err) {
    if (controller.signal.aborted) {
      throw new GatewayError("gateway_timeout", `The origin did not answer within ${upstream.timeoutMs} ms`);
    }
    // The configured base URL (validated: no credentials, no query), so "which origin?" is answered in the line.
    logLine({
      level: "error",
      event: "origin_unreachable",
      origin: upstream.fetcher ? "service binding ORIGIN" : upstream.baseUrl,
      message: errorText(err),
    });
    throw new GatewayError("bad_gateway", "The origin could not be reached");
  } finally {
    clearTimeout(timer);
  }
  // A fresh Response: the fetched one's headers are immutable, and X-Request-Id is added to it.
  return new Response(res.body, res);
}
