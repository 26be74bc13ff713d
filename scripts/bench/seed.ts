import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { importHashKey } from "../../src/keys/hash.ts";
import { mintKey } from "../../src/management/issue.ts";
import { writeCachedRecord } from "../../src/storage/kv-cache.ts";
import type { KeyValueStore, SqlDatabase } from "../../src/storage/ports.ts";
import { insertKey, toAuthRecord, type KeyRow } from "../../src/storage/records.ts";
import { PROJECT_DIR } from "../lib/local-state.ts";

/**
 * The bench's keys, written with the project's own functions into the
 * Miniflare instance's D1 (`DB`) and KV (`KEYS_CACHE`): the same storage the
 * gateway Workers read.
 */

export function isSqlDatabase(v: unknown): v is SqlDatabase {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.prepare === "function" && typeof o.batch === "function";
}

export function isKeyValueStore(v: unknown): v is KeyValueStore {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.get === "function" && typeof o.put === "function" && typeof o.delete === "function";
}

/** migrations/*.sql in order, split into statements the way wrangler does. */
export async function applyMigrations(db: SqlDatabase): Promise<string[]> {
  const { unstable_splitSqlQuery } = await import("wrangler");
  const dir = join(PROJECT_DIR, "migrations");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".sql")).sort();
  for (const file of files) {
    const statements = unstable_splitSqlQuery(await readFile(join(dir, file), "utf8"));
    await db.batch(statements.map((s) => db.prepare(s)));
  }
  return files;
}

export const BENCH_ORG = "bench";

async function mint(secret: CryptoKey, name: string, scopes: string[], now: Date): Promise<{ row: KeyRow; plaintext: string }> {
  return mintKey(secret, { organizationId: BENCH_ORG, name, scopes, expiresAt: null, actor: "cli" }, now);
}

/**
 * The key of the valid-key rows: candidates:read + candidates:write, in D1 and
 * in KV; its cached record is also copied under `floorKvKey` for the KV floor row.
 */
export async function seedMainKey(db: SqlDatabase, kv: KeyValueStore, hashSecret: string, kvTtlSeconds: number, floorKvKey: string): Promise<string> {
  const main = await mint(await importHashKey(hashSecret), "bench-main", ["candidates:read", "candidates:write"], new Date());
  await insertKey(db, main.row);
  await writeCachedRecord(kv, toAuthRecord(main.row), kvTtlSeconds);
  await kv.put(floorKvKey, JSON.stringify(toAuthRecord(main.row)), { expirationTtl: kvTtlSeconds });
  return main.plaintext;
}
