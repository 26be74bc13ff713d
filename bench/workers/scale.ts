/**
 * `npm run bench:scale` (scripts/bench/scale.ts): cost against the number of keys in D1, timed inside workerd with the project's own
 * functions. Its clock ticks in whole milliseconds here, so each figure is a loop's mean, the fastest of three passes: on a shared
 * machine other processes only ever add time.
 *
 *   POST /fill?from=F&n=N  N filler rows (random hashes, no plaintext) in one INSERT … SELECT
 *   POST /mint?n=K         K real keys in D1 only; answers their plaintexts, one a line
 *   POST /keys             body: plaintexts. First lookups: the D1 query alone, the whole
 *                          memory → KV → D1 chain, and the D1 query for unknown hashes
 */
import { findKey } from "../../src/auth/lookup.ts";
import type { Bindings } from "../../src/env.ts";
import { runtimeFor, type Runtime } from "../../src/gateway/runtime.ts";
import { hashKey } from "../../src/keys/hash.ts";
import { mintKey } from "../../src/management/issue.ts";
import { TtlCache } from "../../src/memory/ttl-cache.ts";
import type { SqlDatabase } from "../../src/storage/ports.ts";
import { findKeyByHash, insertKeyStatements, type AuthRecord } from "../../src/storage/records.ts";

async function fill(env: Bindings, from: number, n: number): Promise<Response> {
  await env.DB.prepare(
    `WITH RECURSIVE c(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM c WHERE i < ?2)
     INSERT INTO api_keys (id, organization_id, name, hash, display, scopes, created_at, created_by)
     SELECT 'key_fill' || i, 'org' || (i % 1000), 'filler ' || i, lower(hex(randomblob(32))), 'pk_live_fill…fill',
            '["candidates:read"]', '2026-01-01T00:00:00.000Z', 'cli' FROM c`,
  )
    .bind(from, from + n - 1)
    .run();
  return Response.json({ inserted: n });
}

async function mint(env: Bindings, n: number): Promise<Response> {
  const secret = await runtimeFor(env).hashKey;
  const db: SqlDatabase = env.DB;
  const keys: string[] = [];
  for (let done = 0; done < n; done += 100) {
    const statements = [];
    for (let i = done; i < Math.min(n, done + 100); i++) {
      const input = { organizationId: "bench", name: `bench-d1-${i}`, scopes: ["candidates:read"], expiresAt: null, actor: "cli" as const };
      const { row, plaintext } = await mintKey(secret, input, new Date());
      statements.push(...insertKeyStatements(db, row));
      keys.push(plaintext);
    }
    await db.batch(statements);
  }
  return new Response(`${keys.join("\n")}\n`);
}

/** Mean µs per item of `fn` over `items`, the fastest of `passes` (each pass its own slice when `split`). */
async function fastest(passes: number, items: readonly string[], split: boolean, fn: (item: string) => Promise<unknown>): Promise<number> {
  let best = Infinity;
  const size = split ? Math.ceil(items.length / passes) : items.length;
  for (let p = 0; p < passes; p++) {
    const slice = split ? items.slice(p * size, (p + 1) * size) : items;
    const t0 = performance.now();
    for (const item of slice) await fn(item);
    best = Math.min(best, ((performance.now() - t0) * 1000) / Math.max(1, slice.length));
  }
  return best;
}

async function lookups(env: Bindings, ctx: ExecutionContext, keys: string[]): Promise<Response> {
  const rt = runtimeFor(env);
  const secret = await rt.hashKey;
  const hashes = await Promise.all(keys.map((k) => hashKey(secret, k)));
  const unknown = await Promise.all(keys.map((k) => hashKey(secret, `${k}-unknown`)));
  const stores = { db: env.DB, kv: env.KEYS_CACHE, waitUntil: (p: Promise<unknown>) => ctx.waitUntil(p) };
  // Memory caches that never hold anything: every lookup goes to KV, then D1; it fills KV, so each pass needs fresh keys.
  const cold: Runtime = { ...rt, keys: new TtlCache<AuthRecord>(1, 0), unknownKeys: new TtlCache<true>(1, 0) };
  const half = Math.floor(hashes.length / 2);
  return Response.json({
    d1QueryFound: await fastest(3, hashes.slice(0, half), false, (h) => findKeyByHash(env.DB, h)),
    firstLookupThroughTiers: await fastest(3, hashes.slice(half), true, async (h) => {
      if ((await findKey(cold, stores, h, () => null, Date.now())).tier !== "d1") throw new Error("expected a D1 hit");
    }),
    d1QueryUnknown: await fastest(3, unknown, false, (h) => findKeyByHash(env.DB, h)),
  });
}

export default {
  async fetch(request: Request, env: Bindings, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get("n") ?? "0");
    try {
      if (url.pathname === "/fill" && request.method === "POST") return await fill(env, Number(url.searchParams.get("from")), n);
      if (url.pathname === "/mint" && request.method === "POST") return await mint(env, n);
      if (url.pathname === "/keys" && request.method === "POST")
        return await lookups(env, ctx, (await request.text()).split("\n").filter(Boolean));
      return new Response("see bench/workers/scale.ts", { status: 404 });
    } catch (err) {
      return Response.json({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }, { status: 500 });
    }
  },
} satisfies ExportedHandler<Bindings>;
