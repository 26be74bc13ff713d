import type { AuthContext } from "./context.ts";
import { errorText, logLine } from "../log.ts";
import { kvKeyOf, writeCachedRecord } from "../storage/kv-cache.ts";
import type { KeyValueStore, SqlDatabase } from "../storage/ports.ts";
import { findKeyById, rehashKeyRow, toAuthRecord, type AuthRecord } from "../storage/records.ts";
import type { Stores } from "./lookup.ts";

/**
 * KEY_HASH_SECRET rotation (docs/operations.md "Rotating KEY_HASH_SECRET"). An HMAC is
 * one-way: a stored hash can only be re-made from the key itself, so a key is
 * re-hashed when it authenticates through the previous secret, after the
 * response. Rotation never invalidates a key; a key never used stays on the
 * previous version until it is used (or revoked), and `keys secret-status`
 * lists those.
 */
export interface Rehash {
  keyId: string;
  from: string;
  to: string;
  version: number;
}

/**
 * The row's hash and version change only if it still holds `from` and is not
 * revoked (a revoked key has nothing to gain); then KV gets the record under the
 * new hash and loses the old entry. Returns the record as now stored, or null.
 */
export async function rehashStoredKey(
  db: SqlDatabase,
  kv: KeyValueStore,
  job: Rehash,
  kvTtlSeconds: number,
  now: Date,
): Promise<AuthRecord | null> {
  await rehashKeyRow(db, job.keyId, job.from, job.to, job.version, now.toISOString());
  const row = await findKeyById(db, job.keyId);
  if (!row || row.hash !== job.to) return null;
  const record = toAuthRecord(row);
  await writeCachedRecord(kv, record, kvTtlSeconds);
  await kv.delete(kvKeyOf(job.from));
  return record;
}

/** After the response, once per key per isolate (retried after a while if it failed). */
export function rehashAfterResponse(rt: AuthContext, stores: Stores, job: Rehash, now: number): void {
  if (rt.rehashes.get(job.keyId, now)) return;
  rt.rehashes.set(job.keyId, true, now);
  stores.waitUntil(
    rehashStoredKey(stores.db, stores.kv, job, rt.config.KV_CACHE_TTL_S, new Date(now)).then(
      (record) => {
        rt.keys.delete(job.from);
        rt.unknownKeys.delete(job.to);
        if (record) rt.keys.set(job.to, record, now);
        logLine({ level: "info", event: "key_rehashed", key_id: job.keyId, secret_version: job.version, done: record !== null });
      },
      (err: unknown) => logLine({ level: "warn", event: "key_rehash_failed", key_id: job.keyId, message: errorText(err) }),
    ),
  );
}
