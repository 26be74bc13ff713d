import type { KeyValueStore, SqlDatabase } from "../storage/ports.ts";
import { writeCachedRecord } from "../storage/kv-cache.ts";
import type { Actor } from "../storage/actors.ts";
import {
  findKeyInOrg,
  insertKey,
  revokeKeyRow,
  allowedCidrsOf,
  rateLimitOf,
  scopesOf,
  rotateKeyRow,
  toAuthRecord,
  type KeyRow,
  type RevocationReason,
} from "../storage/records.ts";
import { GatewayError } from "../errors.ts";
import { mintKey, type NewKey } from "./issue.ts";
import { keyState } from "../keys/key-state.ts";
import { toKeyObject, type KeyObject } from "./object.ts";

/**
 * What creating, revoking and rotating keys needs, whoever does it: the
 * management API (with its isolate's caches) or the command line (without).
 */
export interface KeyStore {
  db: SqlDatabase;
  kv: KeyValueStore;
  hashSecret: CryptoKey;
  /** KEY_HASH_SECRET_VERSION: stored with every hash made with `hashSecret`; 1 when absent. */
  hashSecretVersion?: number;
  kvTtlSeconds: number;
  now(): Date;
  /** Drops a key hash from this isolate's memory caches, if there is one. */
  evict?(hash: string): void;
  /** Runs work after the response (waitUntil); absent, the work is awaited. */
  later?(work: Promise<unknown>): void;
  /** When to write a revocation's tombstone a second time; 0 or absent: once is enough. */
  tombstoneRewriteDelayMs?: number;
}

export type CreatedKey = KeyObject & { key: string };

export async function createKey(store: KeyStore, input: NewKey): Promise<CreatedKey> {
  const now = store.now();
  const { row, plaintext } = await mintKey(store.hashSecret, input, now, store.hashSecretVersion);
  await insertKey(store.db, row);
  store.evict?.(row.hash); // a negative-cache entry for this hash would refuse it for a moment
  return { ...toKeyObject(row, now.getTime()), key: plaintext };
}

/**
 * D1 first (the source of truth), then a KV tombstone, then this isolate's
 * memory; the tombstone is written once more a few seconds later so that a
 * read-through racing with the revocation cannot resurrect the key (docs/design.md §7).
 */
async function propagate(store: KeyStore, org: string, id: string): Promise<KeyRow> {
  const row = await findKeyInOrg(store.db, org, id);
  if (!row) throw new Error(`key ${id} vanished during an update`);
  const record = toAuthRecord(row);
  await writeCachedRecord(store.kv, record, store.kvTtlSeconds);
  store.evict?.(row.hash);
  const delay = store.tombstoneRewriteDelayMs ?? 0;
  if (delay > 0) {
    const rewrite = new Promise((r) => setTimeout(r, delay)).then(() => writeCachedRecord(store.kv, record, store.kvTtlSeconds));
    if (store.later) store.later(rewrite);
    else await rewrite;
  }
  return row;
}

export async function revokeKey(
  store: KeyStore,
  row: KeyRow,
  actor: Actor,
  reason: RevocationReason = { type: "revoked" },
): Promise<KeyObject> {
  const now = store.now();
  await revokeKeyRow(store.db, row, actor, now.toISOString(), reason);
  const updated = await propagate(store, row.organization_id, row.id);
  return toKeyObject(updated, now.getTime());
}

/**
 * A successor with the same name, scopes, expiry, limits and meter; the old key ends now or
 * after `graceSeconds`. A revoked, rotated or expired key cannot be rotated.
 */
export async function rotateKey(store: KeyStore, old: KeyRow, graceSeconds: number, actor: Actor): Promise<CreatedKey> {
  const now = store.now();
  if (old.revoked_at !== null) throw new GatewayError("invalid_request", "This key was already revoked or rotated");
  if (keyState(old, now.getTime()) === "expired") {
    throw new GatewayError("invalid_request", "This key has expired; create a new key instead");
  }
  const { row, plaintext } = await mintKey(
    store.hashSecret,
    {
      organizationId: old.organization_id,
      name: old.name,
      scopes: scopesOf(old),
      expiresAt: old.expires_at,
      actor,
      rotatedFrom: old.id,
      // Same limits, same meter: rotating neither resets a spent quota nor doubles the rate during a grace period.
      rateLimit: rateLimitOf(old),
      monthlyQuota: old.monthly_quota,
      meterId: old.meter_id ?? old.id,
      allowedCidrs: allowedCidrsOf(old),
      mode: old.mode,
    },
    now,
    store.hashSecretVersion,
  );
  await rotateKeyRow(store.db, old, row, new Date(now.getTime() + graceSeconds * 1000).toISOString());
  await propagate(store, old.organization_id, old.id);
  store.evict?.(row.hash);
  return { ...toKeyObject(row, now.getTime()), key: plaintext };
}
