/**
 * The one-line JSON log the logging floors (bench rows 2L, 2LS, 2bL and the
 * micro loops' floors) write per request: the same fields as the gateway's
 * line (docs/design.md §10), built the plain way, `console.log(JSON.stringify({…}))`,
 * with the values of a proxied request or of a refusal.
 */
export function logFloorLine(kind: "proxied" | "refused", method: string, status: number, started: number, requestId: string = crypto.randomUUID()): void {
  const proxied = kind === "proxied";
  console.log(
    JSON.stringify({
      request_id: requestId,
      key_id: proxied ? "key_0123456789abcdefghij" : null,
      organization_id: proxied ? "bench" : null,
      method,
      route: "/api/v1/candidates/**",
      scopes_required: ["candidates:read"],
      outcome: proxied ? "proxied" : "unauthorized",
      status,
      cache_tier: proxied ? "memory" : null,
      duration_ms: Math.round((performance.now() - started) * 100) / 100,
    }),
  );
}
