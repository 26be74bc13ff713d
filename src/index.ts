import { createGatewayHandler } from "./app.ts";
import type { Bindings } from "./env.ts";
import { errorResponse } from "./errors.ts";
import { handleRequest } from "./gateway/pipeline.ts";

/** The per-key meter (rate limit and monthly quota): a Durable Object class must be exported by the main module. */
export { KeyMeter } from "./limits/key-meter.ts";

const gatewayHandler = createGatewayHandler();

/**
 * Deliberately no `connect()` handler: workerd answers a CONNECT with
 * "200 OK" before it calls one, so the best a handler could do is close an
 * already-accepted tunnel, which scanners read as an open proxy. Without one,
 * the runtime refuses CONNECT itself (a plain 500) and nothing is forwarded.
 */
export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    try {
      return await handleRequest(request, env as Bindings, ctx, gatewayHandler);
    } catch {
      // Only reached if the pipeline's own error handling failed: still an envelope, never a forwarded request.
      const res = errorResponse(null);
      res.headers.set("x-request-id", crypto.randomUUID());
      return res;
    }
  },
} satisfies ExportedHandler<Env>;
