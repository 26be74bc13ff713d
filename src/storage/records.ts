import type { RateLimit } from "../limits/policy.ts";
import type { KeyMode } from "../keys/format.ts";
import type { SqlDatabase } from "./ports.ts";
import { actorColumns, actorFromColumns, type Actor } from "./actors.ts";

/** A row of `api_keys` (docs/design.md §2); `scopes` is a JSON array, times ISO-8601 UTC. */
export interface KeyRow {
  id: string;
  organization_id: string;
  name: string;
  hash: string;
  display: string;
  scopes: string;
  created_at: string;
  created_by: string;
  /** A person's identity as JSON when a person created it (migrations/0006_user_actors.sql), else null. */
  created_by_user: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  rotated_from: string | null;
  /** Migration 0004: the key's own rate limit (both or neither), monthly quota and shared meter. */
  rate_limit_limit: number | null;
  rate_limit_period_s: number | null;
  monthly_quota: number | null;
  meter_id: string | null;
  /** The KEY_HASH_SECRET version that produced `hash` (docs/operations.md "Rotating KEY_HASH_SECRET"). */
  secret_version: number;
  /** JSON array of canonical CIDR blocks, or null: every address (migration 0005). */
  allowed_cidrs: string | null;
  /** `test` for a `pk_test_` key (migrations/0002_key_mode.sql). */
  mode: KeyMode;
}

/** What authentication needs of a key: small enough to cache in KV and memory. */
export interface AuthRecord {
  id: string;
  organization_id: string;
  hash: string;
  scopes: string[];
  expires_at: string | null;
  revoked_at: string | null;
  /** Absent in entries cached before limits existed: that means none. */
  rate_limit?: RateLimit | null;
  monthly_quota?: number | null;
  meter_id?: string | null;
  /** Canonical CIDR blocks the key may be used from; null: anywhere. */
  allowed_cidrs: string[] | null;
  mode: KeyMode;
}

export type EventType = "created" | "renamed" | "rotated" | "revoked" | "revoked_leaked";

export function toAuthRecord(row: KeyRow): AuthRecord {
  return {
    id: row.id,
    organization_id: row.organization_id,
    hash: row.hash,
    scopes: scopesOf(row),
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    rate_limit: rateLimitOf(row),
    monthly_quota: row.monthly_quota,
    meter_id: row.meter_id,
    allowed_cidrs: allowedCidrsOf(row),
    mode: row.mode,
  };
}

/** The row's scopes: stored as a JSON array (migrations/), decoded here only. */
export const scopesOf = (row: KeyRow): string[] => JSON.parse(row.scopes) as string[];

/** The row's IP allowlist (null: any address), decoded here only. */
export const allowedCidrsOf = (row: KeyRow): string[] | null =>
  row.allowed_cidrs === null ? null : (JSON.parse(row.allowed_cidrs) as string[]);

export function rateLimitOf(row: KeyRow): RateLimit | null {
  return row.rate_limit_limit !== null && row.rate_limit_period_s !== null
    ? { limit: row.rate_limit_limit, period_s: row.rate_limit_period_s }
    : null;
}

export async function findKeyByHash(db: SqlDatabase, hash: string): Promise<KeyRow | null> {
  return db.prepare("SELECT * FROM api_keys WHERE hash = ?").bind(hash).first<KeyRow>();
}

export async function findKeyById(db: SqlDatabase, id: string): Promise<KeyRow | null> {
  return db.prepare("SELECT * FROM api_keys WHERE id = ?").bind(id).first<KeyRow>();
}

/** Stores a new key and its "created" event together. */
export async function insertKey(db: SqlDatabase, row: KeyRow): Promise<void> {
  await db.batch(insertKeyStatements(db, row));
}

/** Every column of `api_keys`, in one place: the insert is derived from it. */
const KEY_COLUMNS = [
  "id",
  "organization_id",
  "name",
  "hash",
  "display",
  "scopes",
  "created_at",
  "created_by",
  "created_by_user",
  "expires_at",
  "revoked_at",
  "last_used_at",
  "rotated_from",
  "rate_limit_limit",
  "rate_limit_period_s",
  "monthly_quota",
  "meter_id",
  "secret_version",
  "allowed_cidrs",
  "mode",
] as const satisfies readonly (keyof KeyRow)[];

const INSERT_KEY_SQL = `INSERT INTO api_keys (${KEY_COLUMNS.join(", ")}) VALUES (${KEY_COLUMNS.map(() => "?").join(", ")})`;

export function insertKeyStatements(db: SqlDatabase, row: KeyRow) {
  return [
    db.prepare(INSERT_KEY_SQL).bind(...KEY_COLUMNS.map((c) => row[c])),
    eventStatement(db, row.id, row.organization_id, "created", actorFromColumns(row.created_by, row.created_by_user), row.created_at),
  ];
}

export function eventStatement(
  db: SqlDatabase,
  keyId: string,
  org: string,
  type: EventType,
  actor: Actor,
  at: string,
  url: string | null = null,
) {
  const who = actorColumns(actor);
  return db
    .prepare("INSERT INTO api_key_events (key_id, organization_id, type, actor, actor_user, at, url) VALUES (?, ?, ?, ?, ?, ?, ?)")
    .bind(keyId, org, type, who.text, who.user, at, url);
}

/**
 * Appends the key's revocation, as it now stands in api_keys, to the feed
 * every isolate polls (src/auth/revocation-feed.ts). Runs in the same batch as
 * the update, after it, so the feed never lags D1. Rows older than a day are
 * pruned on the way: no isolate needs them (they outlive any cache).
 */
export function revocationFeedStatements(db: SqlDatabase, id: string, recordedAt: string) {
  const pruneBefore = new Date(Date.parse(recordedAt) - FEED_KEEP_MS).toISOString();
  return [
    db
      .prepare(
        `INSERT INTO key_revocations (key_id, hash, effective_at, recorded_at)
         SELECT id, hash, revoked_at, ? FROM api_keys WHERE id = ? AND revoked_at IS NOT NULL`,
      )
      .bind(recordedAt, id),
    db.prepare("DELETE FROM key_revocations WHERE recorded_at < ?").bind(pruneBefore),
  ];
}

const FEED_KEEP_MS = 24 * 3600 * 1000;

/**
 * Sets `revoked_at` unless an earlier revocation already stands, so repeating a
 * revocation keeps the first time and a grace period can only be shortened.
 */
export function revokeStatement(db: SqlDatabase, id: string, at: string) {
  return db.prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND (revoked_at IS NULL OR revoked_at > ?)").bind(at, id, at);
}

/** Conditional, so isolates racing on one key write at most once per interval. */
export async function touchLastUsed(db: SqlDatabase, id: string, now: string, notBefore: string): Promise<void> {
  await db
    .prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)")
    .bind(now, id, notBefore)
    .run();
}

export async function findKeyInOrg(db: SqlDatabase, org: string, id: string): Promise<KeyRow | null> {
  return db.prepare("SELECT * FROM api_keys WHERE id = ? AND organization_id = ?").bind(id, org).first<KeyRow>();
}

export interface PageCursor {
  created_at: string;
  id: string;
}

/** Newest first; `after` continues strictly past the last row of the previous page. */
export async function listKeysInOrg(db: SqlDatabase, org: string, limit: number, after: PageCursor | null): Promise<KeyRow[]> {
  const { results } = after
    ? await db
        .prepare(
          `SELECT * FROM api_keys WHERE organization_id = ? AND (created_at < ? OR (created_at = ? AND id < ?))
           ORDER BY created_at DESC, id DESC LIMIT ?`,
        )
        .bind(org, after.created_at, after.created_at, after.id, limit)
        .all<KeyRow>()
    : await db
        .prepare("SELECT * FROM api_keys WHERE organization_id = ? ORDER BY created_at DESC, id DESC LIMIT ?")
        .bind(org, limit)
        .all<KeyRow>();
  return results;
}

export async function renameKey(db: SqlDatabase, row: KeyRow, name: string, actor: Actor, at: string): Promise<void> {
  await db.batch([
    db.prepare("UPDATE api_keys SET name = ? WHERE id = ?").bind(name, row.id),
    eventStatement(db, row.id, row.organization_id, "renamed", actor, at),
  ]);
}

/** Why a key was revoked: by its owner, or because a secret scanner found it (with where). */
export type RevocationReason = { type: "revoked" } | { type: "revoked_leaked"; url: string };

/** Records the revocation event only when this call is what revoked the key. */
export async function revokeKeyRow(
  db: SqlDatabase,
  row: KeyRow,
  actor: Actor,
  at: string,
  reason: RevocationReason = { type: "revoked" },
): Promise<void> {
  if (row.revoked_at !== null && row.revoked_at <= at) return;
  const url = reason.type === "revoked_leaked" ? reason.url : null;
  await db.batch([
    revokeStatement(db, row.id, at),
    eventStatement(db, row.id, row.organization_id, reason.type, actor, at, url),
    ...revocationFeedStatements(db, row.id, at),
  ]);
}

/** The successor and the predecessor's end (now or after a grace period) in one transaction. */
export async function rotateKeyRow(db: SqlDatabase, old: KeyRow, successor: KeyRow, oldEndsAt: string): Promise<void> {
  await db.batch([
    ...insertKeyStatements(db, successor),
    revokeStatement(db, old.id, oldEndsAt),
    eventStatement(
      db,
      old.id,
      old.organization_id,
      "rotated",
      actorFromColumns(successor.created_by, successor.created_by_user),
      successor.created_at,
    ),
    // The end of a grace period is a scheduled revocation: isolates learn of it now.
    ...revocationFeedStatements(db, old.id, successor.created_at),
  ]);
}

export interface KeyEvent {
  type: EventType;
  actor: Actor;
  at: string;
  /** revoked_leaked: where the secret scanner found the key; null otherwise. */
  url: string | null;
}

interface EventRow {
  type: EventType;
  actor: string;
  actor_user: string | null;
  at: string;
  url: string | null;
}

export async function listEvents(db: SqlDatabase, keyId: string): Promise<KeyEvent[]> {
  const { results } = await db
    .prepare("SELECT type, actor, actor_user, at, url FROM api_key_events WHERE key_id = ? ORDER BY seq")
    .bind(keyId)
    .all<EventRow>();
  return results.map((e) => ({ type: e.type, actor: actorFromColumns(e.actor, e.actor_user), at: e.at, url: e.url }));
}

/** Active keys (not revoked, not expired at `now`) per KEY_HASH_SECRET version. */
export async function activeKeysPerSecretVersion(db: SqlDatabase, now: string): Promise<{ version: number; active_keys: number }[]> {
  const { results } = await db
    .prepare(
      `SELECT secret_version AS version, COUNT(*) AS active_keys FROM api_keys
       WHERE (revoked_at IS NULL OR revoked_at > ?) AND (expires_at IS NULL OR expires_at > ?)
       GROUP BY secret_version ORDER BY secret_version`,
    )
    .bind(now, now)
    .all<{ version: number; active_keys: number }>();
  return results;
}

export interface PendingRehash {
  id: string;
  organization_id: string;
  name: string;
  secret_version: number;
  last_used_at: string | null;
}

/** Active keys still hashed under another version than `version`, oldest first. */
export async function activeKeysNotOnVersion(db: SqlDatabase, version: number, now: string, limit: number): Promise<PendingRehash[]> {
  const { results } = await db
    .prepare(
      `SELECT id, organization_id, name, secret_version, last_used_at FROM api_keys
       WHERE secret_version <> ? AND (revoked_at IS NULL OR revoked_at > ?) AND (expires_at IS NULL OR expires_at > ?)
       ORDER BY created_at, id LIMIT ?`,
    )
    .bind(version, now, now, limit)
    .all<PendingRehash>();
  return results;
}

/** The row's hash and secret version move from `from` to `to`, only if it still holds `from` and is not revoked at `now`. */
export async function rehashKeyRow(db: SqlDatabase, id: string, from: string, to: string, version: number, now: string): Promise<void> {
  await db
    .prepare(
      `UPDATE api_keys SET hash = ?, secret_version = ?
       WHERE id = ? AND hash = ? AND (revoked_at IS NULL OR revoked_at > ?)`,
    )
    .bind(to, version, id, from, now)
    .run();
}
