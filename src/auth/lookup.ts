import type { AuthContext } from "./context.ts";
import { GatewayError } from "../errors.ts";
import { errorText, logLine } from "../log.ts";
import type { KeyValueStore, SqlDatabase } from "../storage/ports.ts";
import { findKeyByHash, toAuthRecord, type AuthRecord, type KeyRow } from "../storage/records.ts";
import { readCachedRecord, writeCachedRecord } from "../storage/kv-cache.ts";

export type Tier = "memory" | "kv" | "d1";

export interface Stores {
  db: SqlDatabase;
  kv: KeyValueStore;
  waitUntil(promise: Promise<unknown>): void;
}

export interface Found {
  record: AuthRecord | null;
  tier: Tier;
}

/** What a key's hashes under the current and the previous KEY_HASH_SECRET found. */
export interface FoundKey extends Found {
  /** Found only under the previous secret (at `hash`): the key is due for re-hashing. */
  viaPrevious: boolean;
  hash: string;
}

/**
 * Isolate memory → KV → D1 (docs/design.md §7). A KV fault falls through to D1; a D1
 * fault on a miss is 503, never 401: storage trouble must not look like a bad key.
 *
 * During a KEY_HASH_SECRET rotation: the current secret's hash first, then
 * the previous one's. "Unknown" is cached (under the current hash) only once
 * both missed in D1, so a key that only the previous secret finds is never
 * refused from the negative cache.
 */
export async function findKey(
  rt: AuthContext,
  stores: Stores,
  current: string,
  previous: () => Promise<string> | null,
  now: number,
): Promise<FoundKey> {
  const cached = rt.keys.get(current, now);
  if (cached) return { record: cached, tier: "memory", viaPrevious: false, hash: current };
  if (rt.unknownKeys.get(current, now)) return { record: null, tier: "memory", viaPrevious: false, hash: current };
  const first = await lookupHash(rt, stores, current, now);
  const older = first.record ? null : previous();
  if (older === null) {
    if (!first.record && first.tier === "d1") rt.unknownKeys.set(current, true, now);
    return { ...first, viaPrevious: false, hash: current };
  }
  const hash = await older;
  const second = await lookupHash(rt, stores, hash, now);
  if (!second.record && second.tier === "d1") rt.unknownKeys.set(current, true, now);
  // Same token, same key: until the re-hash lands, its next requests find it in memory at once
  // rather than missing under the current hash in KV and D1 each time.
  if (second.record) rt.keys.set(current, second.record, now);
  return { ...second, viaPrevious: second.record !== null, hash };
}

/** Memory → KV → D1 for one hash, without the negative cache. */
async function lookupHash(rt: AuthContext, stores: Stores, hash: string, now: number): Promise<Found> {
  const cached = rt.keys.get(hash, now);
  if (cached) return { record: cached, tier: "memory" };

  const fromKv = await readKv(rt, stores.kv, hash);
  if (fromKv) {
    rt.keys.set(hash, fromKv, now);
    return { record: fromKv, tier: "kv" };
  }

  let row: KeyRow | null;
  try {
    row = await findKeyByHash(stores.db, hash);
  } catch (err) {
    logLine({ level: "error", event: "d1_unavailable", message: errorText(err) });
    throw new GatewayError("service_unavailable", "Key storage is temporarily unavailable; retry shortly", {
      "retry-after": "1",
    });
  }
  if (!row) return { record: null, tier: "d1" };
  const record = toAuthRecord(row);
  rt.keys.set(hash, record, now);
  stores.waitUntil(
    writeCachedRecord(stores.kv, record, rt.config.KV_CACHE_TTL_S).catch((err: unknown) =>
      logLine({ level: "warn", event: "kv_write_failed", message: errorText(err) }),
    ),
  );
  return { record, tier: "d1" };
}

async function readKv(rt: AuthContext, kv: KeyValueStore, hash: string): Promise<AuthRecord | null> {
  try {
    return await readCachedRecord(kv, hash, rt.config.KV_READ_CACHE_TTL_S);
  } catch (err) {
    logLine({ level: "warn", event: "kv_unavailable", message: errorText(err) });
    return null;
  }
}
