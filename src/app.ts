import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { keysApi } from "./api/keys-api.ts";
import { documentGatewayRoutes, OPENAPI_CONFIG, OPENAPI_PATH, openApiHandler } from "./api/openapi.ts";
import { errorResponse, GatewayError, successEnvelope, OWN_RESPONSE_HEADERS } from "./errors.ts";
import type { AppEnv } from "./gateway/context.ts";
import { gatewayPipeline, requestLog } from "./gateway/pipeline.ts";
import { SCRIPT_PATH, SETTINGS_PATH, settingsPage, settingsScript, settingsStyle, STYLE_PATH } from "./settings/serve.ts";

export function createApp() {
  // strict: false, because the route table lets one trailing slash through. An OpenAPIHono,
  // so the mounted management API's routes land in one document with their full paths.
  const app = new OpenAPIHono<AppEnv>({ strict: false });
  app.use("*", requestLog);
  app.use("*", gatewayPipeline);

  app.get("/healthz", (c) => c.json(successEnvelope({ status: "ok" }), 200, OWN_RESPONSE_HEADERS));
  app.route("/api/v1/api-keys", keysApi());
  documentGatewayRoutes(app.openAPIRegistry);
  app.get(OPENAPI_PATH, openApiHandler(() => app.getOpenAPI31Document(OPENAPI_CONFIG)));

  // The settings page and its assets (public: the page asks for a key itself).
  app.get(SETTINGS_PATH, settingsPage);
  app.get(SCRIPT_PATH, settingsScript);
  app.get(STYLE_PATH, settingsStyle);

  // The route table knew the route but no handler serves it: still an envelope, never a plain-text 404.
  app.notFound(() => errorResponse(new GatewayError("not_found", "No such route")));
  app.onError((thrown, c) => {
    const err = thrown instanceof HTTPException ? fromHttpException(thrown) : thrown;
    c.set("outcome", err instanceof GatewayError ? err.code : "internal_error");
    if (!(err instanceof GatewayError)) {
      console.error(JSON.stringify({ level: "error", event: "unhandled", request_id: c.get("requestId"), error: err.name }));
    }
    return errorResponse(err);
  });
  return app;
}

/** Hono's own refusals (malformed JSON, wrong content type) are bad requests in our envelope. */
function fromHttpException(e: HTTPException): GatewayError | HTTPException {
  if (e.status === 415) return new GatewayError("invalid_request", "Content-Type must be application/json");
  if (e.status === 400) return new GatewayError("invalid_request", e.message || "Malformed request body");
  return e;
}
