/**
 * Bench row 2L: the pass-through plus the same one-line JSON log per request
 * the gateway writes (docs/design.md §10), built the plain way
 * (`console.log(JSON.stringify({...}))`). The fair floor for proxying with a
 * log line; the difference to row 2 is what one log line costs any Worker here.
 */
import { logFloorLine } from "./floor-log.ts";

interface PassthroughEnv {
  ORIGIN_URL: string;
}

export default {
  async fetch(request: Request, env: PassthroughEnv): Promise<Response> {
    const started = performance.now();
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const res = await fetch(env.ORIGIN_URL + (pathStart === -1 ? "/" : url.slice(pathStart)), request);
    logFloorLine("proxied", request.method, res.status, started);
    return res;
  },
} satisfies ExportedHandler<PassthroughEnv>;
