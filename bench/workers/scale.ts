/**
 * `npm run bench:scale` (scripts/bench/scale.ts): how the gateway's cost grows
 * with the number of keys in D1, the size of the memory cache and the number
 * of routes, measured inside workerd with the project's own functions.
 *
 *   POST /fill?from=F&n=N  N filler rows (random hashes, no plaintext) in one INSERT … SELECT
 *   POST /mint?n=K         K real keys (mintKey, insertKeyStatements); answers their plaintexts
 *   POST /keys             body: plaintexts, one a line. The first lookup of each (mean µs): the
 *                          D1 query alone (findKeyByHash) for half, the whole tier chain
 *                          (findKey: memory miss → KV miss → D1) for the other half, and
 *                          D1 queries for as many unknown hashes
 *   GET  /memory           authenticate() on a memory hit with 10 / 10k / 100k / 1M cached keys
 *   GET  /routes           compileRoutes and match with 10 / 100 / 1,000 / 10,000 patterns
 */
import { authenticate } from "../../src/auth/authenticate.ts";
import { TtlCache } from "../../src/memory/ttl-cache.ts";
import { findKey } from "../../src/auth/lookup.ts";
import type { Bindings } from "../../src/env.ts";
import { runtimeFor, type Runtime } from "../../src/gateway/runtime.ts";
import { hashKey } from "../../src/keys/hash.ts";
import { mintKey } from "../../src/management/issue.ts";
import { compileRoutes } from "../../src/routes/match.ts";
import { RouteSchema, type Route } from "../../src/routes/table.ts";
import type { SqlDatabase } from "../../src/storage/ports.ts";
import { findKeyByHash, insertKeyStatements, type AuthRecord } from "../../src/storage/records.ts";

async function fill(env: Bindings, from: number, n: number): Promise<Response> {
  // One statement: a recursive counter feeding INSERT … SELECT, random 32-byte hashes as hex like the real ones.
  const t0 = performance.now();
  await env.DB.prepare(
    `WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM c WHERE i < ?2)
     INSERT INTO api_keys (id, organization_id, name, hash, display, scopes, created_at, created_by)
     SELECT 'key_fill' || i, 'org' || (i % 1000), 'filler ' || i, lower(hex(randomblob(32))), 'pk_live_fill…fill',
            '["candidates:read"]', '2026-01-01T00:00:00.000Z', 'cli' FROM c`,
  )
    .bind(from, from + n - 1)
    .run();
  const count = await env.DB.prepare("SELECT count(*) AS n FROM api_keys").first<{ n: number }>();
  return Response.json({ inserted: n, rows: count?.n ?? null, ms: performance.now() - t0 });
}

async function mint(env: Bindings, n: number): Promise<Response> {
  const secret = await runtimeFor(env).hashKey;
  const db: SqlDatabase = env.DB;
  const keys: string[] = [];
  const statements = [];
  for (let i = 0; i < n; i++) {
    const { row, plaintext } = await mintKey(
      secret,
      { organizationId: "bench", name: `scale-${i}`, scopes: ["candidates:read"], expiresAt: null, actor: "cli" },
      new Date(),
    );
    statements.push(...insertKeyStatements(db, row));
    keys.push(plaintext);
  }
  for (let i = 0; i < statements.length; i += 200) await db.batch(statements.slice(i, i + 200));
  return new Response(`${keys.join("\n")}\n`);
}

/** The runtime with memory caches that never hold anything: every lookup goes to KV, then D1. */
function coldRuntime(rt: Runtime): Runtime {
  return { ...rt, keys: new TtlCache<AuthRecord>(1, 0), unknownKeys: new TtlCache<true>(1, 0) };
}

/**
 * Mean µs per lookup over a loop: workerd's clock ticks in whole milliseconds
 * here, too coarse for one lookup, so each kind is timed as one loop (the
 * fastest of three passes).
 */
async function lookups(env: Bindings, ctx: ExecutionContext, keys: string[]): Promise<Response> {
  const rt = runtimeFor(env);
  const secret = await rt.hashKey;
  const hashes = await Promise.all(keys.map((k) => hashKey(secret, k)));
  const unknown = await Promise.all(keys.map((k) => hashKey(secret, `${k}-unknown`)));
  const half = Math.floor(hashes.length / 2);
  const stores = { db: env.DB, kv: env.KEYS_CACHE, waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) };
  const cold = coldRuntime(rt);

  // Three passes each, the fastest kept: on a shared machine other processes only ever add time.
  // The tier chain needs keys it has not seen (it fills KV), so its passes take a third of them each.
  const timeLoop = async (items: readonly string[], fn: (hash: string) => Promise<void>): Promise<number> => {
    const t0 = performance.now();
    for (const hash of items) await fn(hash);
    return ((performance.now() - t0) * 1000) / Math.max(1, items.length);
  };
  const found = hashes.slice(0, half);
  const fresh = hashes.slice(half);
  const third = Math.ceil(fresh.length / 3);
  const d1Found: number[] = [];
  const chain: number[] = [];
  const d1Unknown: number[] = [];
  for (let pass = 0; pass < 3; pass++) {
    d1Found.push(
      await timeLoop(found, async (hash) => {
        if (!(await findKeyByHash(env.DB, hash))) throw new Error("a minted key was not found");
      }),
    );
    chain.push(
      await timeLoop(fresh.slice(pass * third, (pass + 1) * third), async (hash) => {
        const r = await findKey(cold, stores, hash, () => null, Date.now());
        if (r.tier !== "d1" || !r.record) throw new Error(`expected a D1 hit, got ${r.tier}`);
      }),
    );
    d1Unknown.push(
      await timeLoop(unknown, async (hash) => {
        if (await findKeyByHash(env.DB, hash)) throw new Error("an unknown hash was found");
      }),
    );
  }
  const d1QueryFound = Math.min(...d1Found);
  const firstLookupThroughTiers = Math.min(...chain);
  const d1QueryUnknown = Math.min(...d1Unknown);

  const plan = await env.DB.prepare("EXPLAIN QUERY PLAN SELECT * FROM api_keys WHERE hash = ?")
    .bind(hashes[0] ?? "")
    .all();
  return Response.json({
    lookups: keys.length,
    d1QueryFound,
    firstLookupThroughTiers,
    d1QueryUnknown,
    passes: { d1Found, chain, d1Unknown },
    queryPlan: plan.results,
  });
}

async function memory(env: Bindings, ctx: ExecutionContext): Promise<Response> {
  const rt = runtimeFor(env);
  const secret = await rt.hashKey;
  const key = (await (await mint(env, 1)).text()).trim();
  const hash = await hashKey(secret, key);
  const record: AuthRecord = {
    id: "key_scale",
    organization_id: "bench",
    hash,
    scopes: ["candidates:read"],
    expires_at: null,
    revoked_at: null,
    allowed_cidrs: null,
    mode: "live",
  };
  const stores = { db: env.DB, kv: env.KEYS_CACHE, waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) };
  const out: Record<string, unknown> = {};
  for (const size of [10, 10_000, 100_000, 1_000_000]) {
    const now = Date.now();
    const cache = new TtlCache<AuthRecord>(size, 600_000);
    for (let i = 0; i < size - 1; i++) cache.set(`fill-${i.toString(16).padStart(64, "0")}`, record, now);
    cache.set(hash, record, now);
    const withCache: Runtime = { ...rt, keys: cache };
    const n = 20_000;
    const batches: number[] = [];
    for (let b = 0; b < 10; b++) {
      const t0 = performance.now();
      for (let i = 0; i < n / 10; i++) {
        const a = await authenticate(withCache, stores, `Bearer ${key}`, { limiterKey: "198.51.100.9" }, Date.now());
        if (!a.ok || a.tier !== "memory") throw new Error("expected a memory hit");
      }
      batches.push(((performance.now() - t0) * 1000) / (n / 10));
    }
    out[String(size)] = { cachedKeys: cache.size, authenticateMicroseconds: Math.min(...batches) };
  }
  return Response.json(out);
}

function syntheticRoutes(n: number): Route[] {
  // Half literal resources with a final `**`, half with a `*` segment: the two shapes the table uses.
  return Array.from({ length: n }, (_, i) =>
    RouteSchema.parse({
      methods: ["GET", "HEAD"],
      pattern: i % 2 === 0 ? `/api/v1/res${i}/**` : `/api/v1/res${i}/*/items`,
      scopes: ["candidates:read"],
      access: "key",
      target: "origin",
    }),
  );
}

function routes(): Response {
  const out: Record<string, unknown> = {};
  for (const size of [10, 100, 1_000, 10_000]) {
    const table = syntheticRoutes(size);
    const t0 = performance.now();
    const matcher = compileRoutes(table);
    const compileMs = performance.now() - t0;
    const paths = {
      first: "/api/v1/res0/c_1",
      last: size % 2 === 0 ? `/api/v1/res${size - 1}/x/items` : `/api/v1/res${size - 1}/c_1`,
      deep: "/api/v1/res0/a/b/c/d/e/f",
      miss: "/api/v1/nothing/here",
    };
    const match: Record<string, number> = {};
    for (const [name, path] of Object.entries(paths)) {
      const n = 100_000;
      let best = Infinity;
      for (let b = 0; b < 10; b++) {
        const t1 = performance.now();
        for (let i = 0; i < n / 10; i++) matcher.match("GET", path);
        best = Math.min(best, (performance.now() - t1) / (n / 10));
      }
      match[name] = best * 1000;
    }
    out[String(size)] = {
      compileMs,
      matchMicroseconds: match,
      kinds: Object.fromEntries(Object.entries(paths).map(([k, p]) => [k, matcher.match("GET", p).kind])),
    };
  }
  return Response.json(out);
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const num = (name: string) => Number(url.searchParams.get(name) ?? "0");
    try {
      if (url.pathname === "/fill" && request.method === "POST") return await fill(env, num("from"), num("n"));
      if (url.pathname === "/mint" && request.method === "POST") return await mint(env, num("n"));
      if (url.pathname === "/keys" && request.method === "POST")
        return await lookups(env, ctx, (await request.text()).split("\n").filter(Boolean));
      if (url.pathname === "/memory") return await memory(env, ctx);
      if (url.pathname === "/routes") return routes();
      return new Response("see bench/workers/scale.ts", { status: 404 });
    } catch (err) {
      return Response.json({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Bindings>;
