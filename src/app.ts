import { Hono } from "hono";
import { errorResponse, GatewayError, successEnvelope, OWN_RESPONSE_HEADERS } from "./errors.ts";
import type { AppEnv } from "./gateway/context.ts";
import { gatewayPipeline, requestLog } from "./gateway/pipeline.ts";

export function createApp() {
  // strict: false, because the route table lets one trailing slash through.
  const app = new Hono<AppEnv>({ strict: false });
  app.use("*", requestLog);
  app.use("*", gatewayPipeline);

  app.get("/healthz", (c) => c.json(successEnvelope({ status: "ok" }), 200, OWN_RESPONSE_HEADERS));

  // The route table knew the route but no handler serves it: still an envelope, never a plain-text 404.
  app.notFound(() => errorResponse(new GatewayError("not_found", "No such route")));
  app.onError((err, c) => {
    c.set("outcome", err instanceof GatewayError ? err.code : "internal_error");
    if (!(err instanceof GatewayError)) {
      console.error(JSON.stringify({ level: "error", event: "unhandled", request_id: c.get("requestId"), error: err.name }));
    }
    return errorResponse(err);
  });
  return app;
}
