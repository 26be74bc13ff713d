import type { KeyValueStore } from "./ports.ts";
import type { AuthRecord } from "./records.ts";
import { digestsEqual } from "../keys/hash.ts";

/**
 * KV holds one entry per known key hash, the auth record as JSON. A revoked
 * key's entry is its record with `revoked_at` set: a tombstone that outlives
 * any stale copy a racing read-through might write.
 */
export const kvKeyOf = (hash: string) => `key:${hash}`;

const isStringOrNull = (v: unknown) => v === null || typeof v === "string";

/** Entries written before test mode have no `mode`: they can only be live keys. */
function isAuthRecord(v: unknown): v is Omit<AuthRecord, "mode"> & Partial<Pick<AuthRecord, "mode">> {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.id === "string" &&
    typeof r.organization_id === "string" &&
    typeof r.hash === "string" &&
    Array.isArray(r.scopes) &&
    r.scopes.every((s) => typeof s === "string") &&
    isStringOrNull(r.expires_at) &&
    isStringOrNull(r.revoked_at) &&
    (r.mode === undefined || r.mode === "live" || r.mode === "test")
  );
}

/** The cached record, or null when KV has none (or holds something unreadable). */
export async function readCachedRecord(kv: KeyValueStore, hash: string, cacheTtl: number): Promise<AuthRecord | null> {
  const value = await kv.get(kvKeyOf(hash), { type: "json", cacheTtl });
  if (!isAuthRecord(value) || !digestsEqual(value.hash, hash)) return null;
  return value.mode === undefined ? { ...value, mode: "live" } : (value as AuthRecord);
}

export async function writeCachedRecord(kv: KeyValueStore, record: AuthRecord, ttlSeconds: number): Promise<void> {
  await kv.put(kvKeyOf(record.hash), JSON.stringify(record), { expirationTtl: ttlSeconds });
}
