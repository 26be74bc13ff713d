/**
 * `npm run bench -- --ab …` (scripts/bench/ab.ts): named variants run in a loop inside this one isolate, no HTTP in front, so the
 * difference between two variants is the work they differ by. `GET /?v=NAME&n=N` (header `x-bench-key`: a key with candidates:read) runs
 * variant NAME N times and answers how many responses had an unexpected status. `-stub`: the origin is in the isolate (no socket, no
 * outbound Worker), so the spread is far smaller.
 */
import gateway from "../../src/index.ts";
import type { Bindings } from "../../src/env.ts";
import { hello, passThrough } from "./floors.ts";

// The gateway's rate-limited keys need the meter's Durable Object class in this module too.
export { KeyMeter } from "../../src/index.ts";

type Handler = (request: Request, env: Bindings, ctx: ExecutionContext) => Response | Promise<Response>;
type Variant = { handler: Handler; path: string; withKey: boolean; expect: number };

const P = "/api/v1/candidates";
const viaGateway: Handler = (request, env, ctx) => gateway.fetch(request, env, ctx);

// An origin in the isolate, as the ORIGIN service binding (which the gateway prefers to ORIGIN_URL).
const stubFetch = async (input: RequestInfo | URL, init?: RequestInit) => {
  void new Request(input, init); // what a real fetch builds
  return new Response('{"success":true,"data":[]}');
};
const stubEnvs = new WeakMap<Bindings, Bindings>();
const withStub = (env: Bindings) => stubEnvs.get(env) ?? stubEnvs.set(env, { ...env, ORIGIN: { fetch: stubFetch } as Fetcher }).get(env)!;

const VARIANTS: Record<string, Variant> = {
  floor: { handler: (req, env) => passThrough(req, env.ORIGIN_URL, true), path: P, withKey: true, expect: 200 },
  gateway: { handler: viaGateway, path: P, withKey: true, expect: 200 },
  "floor-stub": { handler: (req) => passThrough(req, "http://origin", true, stubFetch), path: P, withKey: true, expect: 200 },
  "gateway-stub": { handler: (req, env, ctx) => gateway.fetch(req, withStub(env), ctx), path: P, withKey: true, expect: 200 },
  "hello-floor": { handler: (req) => hello(req, true), path: P, withKey: false, expect: 200 },
  "no-key": { handler: viaGateway, path: P, withKey: false, expect: 401 },
  "missing-scope": { handler: viaGateway, path: "/api/v1/jobs", withKey: true, expect: 403 },
};

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const variant = VARIANTS[url.searchParams.get("v") ?? ""];
    const n = Number(url.searchParams.get("n"));
    if (!variant || !Number.isInteger(n) || n < 1 || n > 100_000)
      return new Response(`GET /?v=NAME&n=1..100000; variants: ${Object.keys(VARIANTS).join(", ")}`, { status: 404 });
    // What wrk sends, plus the edge's client address.
    const headers = new Headers({ "cf-connecting-ip": "198.51.100.2", accept: "application/json", "user-agent": "wrk" });
    if (variant.withKey) headers.set("authorization", `Bearer ${request.headers.get("x-bench-key") ?? ""}`);
    let unexpected = 0;
    for (let i = 0; i < n; i++) {
      const res = await variant.handler(new Request(`http://127.0.0.1:8787${variant.path}`, { headers }), env, ctx);
      if (res.status !== variant.expect) unexpected++;
      await res.arrayBuffer();
    }
    return Response.json({ unexpected });
  },
} satisfies ExportedHandler<Bindings>;
