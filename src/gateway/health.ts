import { errorEnvelope, OWN_RESPONSE_HEADERS } from "../errors.ts";

export const HEALTH_PATH = "/healthz";

/**
 * /healthz of a misconfigured gateway: the usual 500 envelope, with the
 * settings at fault by name in `data` (never a value), so whoever deploys or
 * runs `wrangler dev` sees what to fix without reading the logs.
 */
export function misconfiguredHealth(settings: readonly string[], requestId: string): Response {
  const body = { ...errorEnvelope("internal_error", "The gateway is misconfigured"), data: { status: "misconfigured", settings } };
  return new Response(JSON.stringify(body), { status: 500, headers: { ...OWN_RESPONSE_HEADERS, "x-request-id": requestId } });
}

/** Only in the error path: a URL parse per refused request is no cost worth avoiding. */
export function isHealthCheck(request: Request): boolean {
  return new URL(request.url).pathname === HEALTH_PATH;
}
