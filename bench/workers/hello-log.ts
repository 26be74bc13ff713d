/**
 * Bench row 2bL: the hello-world Worker plus the same one-line JSON log per
 * request the gateway writes (docs/design.md §10), built the plain way
 * (`console.log(JSON.stringify({...}))`). The fair floor for refusals, which
 * must log: row 2b minus what logging costs any Worker in this runtime.
 */
import { logFloorLine } from "./floor-log.ts";

const BODY = JSON.stringify({ success: true, data: { status: "ok" }, errors: [] });
const HEADERS = { "content-type": "application/json; charset=utf-8" };

export default {
  fetch(request: Request): Response {
    const started = performance.now();
    const res = new Response(BODY, { headers: HEADERS });
    logFloorLine("refused", request.method, res.status, started);
    return res;
  },
} satisfies ExportedHandler;
