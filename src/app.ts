import { OpenAPIHono } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { keysApi } from "./api/keys-api.ts";
import { SESSION_PATH, sessionApi } from "./api/session-api.ts";
import { REPORT_PATH, reportHandler } from "./api/secret-scanning.ts";
import { documentGatewayRoutes, documentSignOut, OPENAPI_CONFIG, OPENAPI_PATH, openApiHandler } from "./api/openapi.ts";
import { GatewayError, successEnvelope, OWN_RESPONSE_HEADERS } from "./errors.ts";
import type { AdmittedState, AppEnv } from "./gateway/context.ts";
import type { GatewayHandler } from "./gateway/pipeline.ts";
import { JWKS_PATH, jwksHandler } from "./api/jwks.ts";
import { HEALTH_PATH } from "./gateway/health.ts";
import { SCRIPT_PATH, SETTINGS_PATH, settingsPage, settingsScript, settingsStyle, STYLE_PATH } from "./settings/serve.ts";
import { CALLBACK_PATH, LOGIN_PATH, LOGOUT_PATH } from "./people/sign-in.ts";
import { callbackHandler, loginHandler, logoutHandler } from "./settings/sign-in.ts";

/**
 * The gateway's own endpoints. The pipeline (gateway/pipeline.ts) has already
 * validated, routed, authenticated and scope-checked every request that gets
 * here, and hands over what it learnt; proxied requests never come here.
 */
export function createGatewayHandler(): GatewayHandler {
  const admitted = new WeakMap<Request, AdmittedState>();
  const app = createApp(admitted);
  return async (request, env, ctx, state) => {
    admitted.set(request, state);
    return app.fetch(request, env, ctx);
  };
}

function createApp(admitted: WeakMap<Request, AdmittedState>) {
  // strict: false, because the route table lets one trailing slash through. An OpenAPIHono,
  // so the mounted management API's routes land in one document with their full paths.
  const app = new OpenAPIHono<AppEnv>({ strict: false });
  app.use("*", async (c, next) => {
    const state = admitted.get(c.req.raw);
    if (!state) throw new GatewayError("internal_error", "Request reached a handler without the pipeline");
    c.set("state", state);
    await next();
  });

  app.get(HEALTH_PATH, (c) => c.json(successEnvelope({ status: "ok" }), 200, OWN_RESPONSE_HEADERS));
  app.route("/api/v1/api-keys", keysApi());
  app.route(SESSION_PATH, sessionApi());
  app.post(REPORT_PATH, reportHandler);
  documentGatewayRoutes(app.openAPIRegistry);
  documentSignOut(app.openAPIRegistry);
  app.get(
    OPENAPI_PATH,
    openApiHandler(() => app.getOpenAPI31Document(OPENAPI_CONFIG)),
  );
  app.get(JWKS_PATH, jwksHandler);

  // The settings page and its assets (public: the page asks for a key itself).
  app.get(SETTINGS_PATH, settingsPage);
  app.get(SCRIPT_PATH, settingsScript);
  app.get(STYLE_PATH, settingsStyle);
  // Signing people in (src/people/): 404 without OIDC_ISSUER.
  app.get(LOGIN_PATH, loginHandler);
  app.get(CALLBACK_PATH, callbackHandler);
  app.post(LOGOUT_PATH, logoutHandler);

  // The route table knew the route but no handler serves it: still an envelope, never a plain-text 404.
  app.notFound(() => {
    throw new GatewayError("not_found", "No such route");
  });
  // Errors are thrown on to the pipeline, which owns the envelope and the log line.
  app.onError((thrown) => {
    throw thrown instanceof HTTPException ? fromHttpException(thrown) : thrown;
  });
  return app;
}

/** Hono's own refusals (malformed JSON, wrong content type) are bad requests in our envelope. */
function fromHttpException(e: HTTPException): GatewayError | HTTPException {
  if (e.status === 415) return new GatewayError("invalid_request", "Content-Type must be application/json");
  if (e.status === 400) return new GatewayError("invalid_request", e.message || "Malformed request body");
  return e;
}
