import type { KeyValueStore } from "./ports.ts";
import type { AuthRecord } from "./records.ts";
import { digestsEqual } from "../crypto/constant-time.ts";

/**
 * KV holds one entry per known key hash, the auth record as JSON. A revoked
 * key's entry is its record with `revoked_at` set: a tombstone that outlives
 * any stale copy a racing read-through might write.
 */
export const kvKeyOf = (hash: string) => `key:${hash}`;

const isStringOrNull = (v: unknown) => v === null || typeof v === "string";
const isPositiveInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0;
const isOptional = (v: unknown, ok: (v: unknown) => boolean) => v === undefined || v === null || ok(v);
const isRateLimit = (v: unknown) =>
  typeof v === "object" &&
  v !== null &&
  isPositiveInt((v as Record<string, unknown>).limit) &&
  isPositiveInt((v as Record<string, unknown>).period_s);

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
    isOptional(r.rate_limit, isRateLimit) &&
    isOptional(r.monthly_quota, isPositiveInt) &&
    isOptional(r.meter_id, (v) => typeof v === "string") &&
    isAllowlist(r.allowed_cidrs) &&
    (r.mode === undefined || r.mode === "live" || r.mode === "test")
  );
}

// Absent in entries written before allowlists existed: those keys have none, and never will (immutable).
const isAllowlist = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.every((c) => typeof c === "string"));

/** The cached record, or null when KV has none (or holds something unreadable). */
export async function readCachedRecord(kv: KeyValueStore, hash: string, cacheTtl: number): Promise<AuthRecord | null> {
  const value = await kv.get(kvKeyOf(hash), { type: "json", cacheTtl });
  if (!isAuthRecord(value) || !digestsEqual(value.hash, hash)) return null;
  // Entries written before these fields existed: no allowlist (immutable, so never one), live mode.
  const record = value.allowed_cidrs === undefined ? { ...value, allowed_cidrs: null } : value;
  return record.mode === undefined ? { ...record, mode: "live" } : (record as AuthRecord);
}

export async function writeCachedRecord(kv: KeyValueStore, record: AuthRecord, ttlSeconds: number): Promise<void> {
  await kv.put(kvKeyOf(record.hash), JSON.stringify(record), { expirationTtl: ttlSeconds });
}
