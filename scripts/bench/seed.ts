import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Miniflare } from "miniflare";
import { generateKey } from "../../src/keys/format.ts";
import { importHashKey } from "../../src/keys/hash.ts";
import { MONTHLY_QUOTA_MAX, RATE_LIMIT_MAX, RATE_PERIOD_MAX_S, type RateLimit } from "../../src/limits/policy.ts";
import { mintKey } from "../../src/management/issue.ts";
import { writeCachedRecord } from "../../src/storage/kv-cache.ts";
import type { KeyValueStore, SqlDatabase } from "../../src/storage/ports.ts";
import { insertKey, toAuthRecord } from "../../src/storage/records.ts";
import { PROJECT_DIR, randomSigningKey } from "../lib/local-state.ts";
import type { Auth } from "./rows.ts";

/**
 * The bench's storage and keys, written with the project's own functions into the D1 (`DB`) and KV (`KEYS_CACHE`) the gateway Workers bind.
 */

/** KV entries the bench writes outlive any run (the gateway's own write-backs use KV_CACHE_TTL_S). */
const KV_TTL_S = 3600;
/** Row 2k's KV entry (bench/workers/floors.ts reads it under the same name). */
const FLOOR_KV_KEY = "bench:floor";

/** Vars of every gateway Worker, on top of wrangler.toml's. */
export function gatewayVars(originUrl: string): Record<string, string> {
  return {
    ORIGIN_URL: originUrl,
    KEY_HASH_SECRET: randomBytes(48).toString("base64url"),
    IDENTITY_SIGNING_KEY: randomSigningKey(),
    // The refusal rows send hundreds of thousands of failures from one client: the limit's maximum, not its 429, is measured.
    AUTH_FAIL_LIMIT: "1000000",
  };
}

/** Miniflare's D1 and KV proxies, which are the shapes of src/storage/ports.ts. */
export async function storesOf(mf: Miniflare, worker: string): Promise<{ db: SqlDatabase; kv: KeyValueStore }> {
  return {
    db: (await mf.getD1Database("DB", worker)) as unknown as SqlDatabase,
    kv: (await mf.getKVNamespace("KEYS_CACHE", worker)) as unknown as KeyValueStore,
  };
}

/** migrations/*.sql in order, split into statements the way wrangler does. */
export async function applyMigrations(db: SqlDatabase): Promise<void> {
  const { unstable_splitSqlQuery } = await import("wrangler");
  const dir = join(PROJECT_DIR, "migrations");
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort()) {
    const statements = unstable_splitSqlQuery(await readFile(join(dir, file), "utf8"));
    await db.batch(statements.map((s) => db.prepare(s)));
  }
}

/**
 * The Authorization header of every key kind: `main` holds candidates:read and candidates:write and is also copied under FLOOR_KV_KEY for
 * row 2k; `limited` has limits too large to reach in a run, so each request pays one KeyMeter round trip; `overlimit` allows one request a
 * day.
 */
export async function seedKeys(db: SqlDatabase, kv: KeyValueStore, hashSecret: string): Promise<Record<Auth, Record<string, string>>> {
  const secret = await importHashKey(hashSecret);
  const mint = async (name: string, rateLimit?: RateLimit, monthlyQuota?: number) => {
    const scopes = ["candidates:read", "candidates:write"];
    const { row, plaintext } = await mintKey(
      secret,
      { organizationId: "bench", name, scopes, expiresAt: null, actor: "cli", rateLimit, monthlyQuota },
      new Date(),
    );
    await insertKey(db, row);
    await writeCachedRecord(kv, toAuthRecord(row), KV_TTL_S);
    if (name === "bench-main") await kv.put(FLOOR_KV_KEY, JSON.stringify(toAuthRecord(row)), { expirationTtl: KV_TTL_S });
    return plaintext;
  };
  const main = await mint("bench-main");
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  return {
    none: {},
    main: bearer(main),
    // The last character is the checksum's: change it.
    malformed: bearer(main.slice(0, -1) + (main.at(-1) === "A" ? "B" : "A")),
    unknown: bearer(generateKey()),
    limited: bearer(await mint("bench-limited", { limit: RATE_LIMIT_MAX, period_s: RATE_PERIOD_MAX_S }, MONTHLY_QUOTA_MAX)),
    overlimit: bearer(await mint("bench-over-limit", { limit: 1, period_s: RATE_PERIOD_MAX_S })),
  };
}
