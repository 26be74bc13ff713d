/**
 * Bench row 2k: the pass-through Worker plus one KV read per request (the
 * JSON entry the bench writes under `bench:floor`, a copy of a key's cached
 * record). The floor for row 4 in this runtime: what any Worker pays to read
 * KV before proxying, before the gateway's own work.
 */
interface PassthroughKvEnv {
  ORIGIN_URL: string;
  KEYS_CACHE: KVNamespace;
}

export default {
  async fetch(request: Request, env: PassthroughKvEnv): Promise<Response> {
    const record = await env.KEYS_CACHE.get("bench:floor", { type: "json", cacheTtl: 30 });
    if (record === null) return new Response("bench:floor missing from KV", { status: 500 });
    const url = request.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    return fetch(env.ORIGIN_URL + (pathStart === -1 ? "/" : url.slice(pathStart)), request);
  },
} satisfies ExportedHandler<PassthroughKvEnv>;
