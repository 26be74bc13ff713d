/**
 * Bench row 2L: the pass-through plus the same one-line JSON log per request
 * the gateway writes (DESIGN §10), built the plain way
 * (`console.log(JSON.stringify({...}))`). The fair floor for proxying with a
 * log line; the difference to row 2 is what one log line costs any Worker here.
 */
interface PassthroughEnv {
  ORIGIN_URL: string;
}

export default {
  async fetch(request: Request, env: PassthroughEnv): Promise<Response> {
    const started = performance.now();
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const res = await fetch(env.ORIGIN_URL + (pathStart === -1 ? "/" : url.slice(pathStart)), request);
    console.log(
      JSON.stringify({
        request_id: crypto.randomUUID(),
        key_id: "key_0123456789abcdefghij",
        organization_id: "bench",
        method: request.method,
        route: "/api/v1/candidates/**",
        scopes_required: ["candidates:read"],
        outcome: "proxied",
        status: res.status,
        cache_tier: "memory",
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      }),
    );
    return res;
  },
} satisfies ExportedHandler<PassthroughEnv>;
