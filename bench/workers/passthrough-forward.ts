/**
 * Profile-only floor (`--profile`): the pass-through, but forwarding with the
 * gateway's own src/proxy/forward.ts (origin URL check, AbortController and
 * timer, redirect: manual, response re-wrap) after its request-line
 * validation. The difference to row 2 is what forwarding the gateway's way
 * costs before any authentication work.
 */
import { forward } from "../../src/proxy/forward.ts";
import { validateRequestLine } from "../../src/request/line.ts";

interface ForwardEnv {
  ORIGIN_URL: string;
}

export default {
  fetch(request: Request, env: ForwardEnv): Promise<Response> {
    const line = validateRequestLine(request.method, request.url, 8192);
    return forward({ baseUrl: env.ORIGIN_URL, fetcher: undefined, timeoutMs: 30_000 }, line, new Headers(request.headers), request.body);
  },
} satisfies ExportedHandler<ForwardEnv>;
