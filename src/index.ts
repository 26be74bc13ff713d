import { createApp } from "./app.ts";
import { errorResponse } from "./errors.ts";

const app = createApp();

/**
 * Deliberately no `connect()` handler: workerd answers a CONNECT with
 * "200 OK" before it calls one, so the best a handler could do is close an
 * already-accepted tunnel, which scanners read as an open proxy. Without one,
 * the runtime refuses CONNECT itself (a plain 500) and nothing is forwarded.
 */
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    try {
      return await app.fetch(request, env, ctx);
    } catch {
      // Only reached if the error handler itself failed: still an envelope, never a forwarded request.
      const res = errorResponse(null);
      res.headers.set("x-request-id", crypto.randomUUID());
      return res;
    }
  },
} satisfies ExportedHandler<Env>;
