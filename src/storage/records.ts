import type { KeyMode } from "../keys/format.ts";
import type { SqlDatabase } from "./ports.ts";

/** A row of `api_keys` (DESIGN §2); `scopes` is a JSON array, times ISO-8601 UTC. */
export interface KeyRow {
  id: string;
  organization_id: string;
  name: string;
  hash: string;
  display: string;
  scopes: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  rotated_from: string | null;
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
  mode: KeyMode;
}

export type EventType = "created" | "renamed" | "rotated" | "revoked";

export function toAuthRecord(row: KeyRow): AuthRecord {
  return {
    id: row.id,
    organization_id: row.organization_id,
    hash: row.hash,
    scopes: JSON.parse(row.scopes) as string[],
    expires_at: row.expires_at,
    revoked_at: row.revoked_at,
    mode: row.mode,
  };
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

export function insertKeyStatements(db: SqlDatabase, row: KeyRow) {
  return [
    db
      .prepare(
        `INSERT INTO api_keys (id, organization_id, name, hash, display, scopes, created_at, created_by,
           expires_at, revoked_at, last_used_at, rotated_from, mode)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        row.id,
        row.organization_id,
        row.name,
        row.hash,
        row.display,
        row.scopes,
        row.created_at,
        row.created_by,
        row.expires_at,
        row.revoked_at,
        row.last_used_at,
        row.rotated_from,
        row.mode,
      ),
    eventStatement(db, row.id, row.organization_id, "created", row.created_by, row.created_at),
  ];
}

export function eventStatement(db: SqlDatabase, keyId: string, org: string, type: EventType, actor: string, at: string) {
  return db
    .prepare("INSERT INTO api_key_events (key_id, organization_id, type, actor, at) VALUES (?, ?, ?, ?, ?)")
    .bind(keyId, org, type, actor, at);
}

/**
 * Sets `revoked_at` unless an earlier revocation already stands, so repeating a
 * revocation keeps the first time and a grace period can only be shortened.
 */
export function revokeStatement(db: SqlDatabase, id: string, at: string) {
  return db
    .prepare("UPDATE api_keys SET revoked_at = ? WHERE id = ? AND (revoked_at IS NULL OR revoked_at > ?)")
    .bind(at, id, at);
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

export async function renameKey(db: SqlDatabase, row: KeyRow, name: string, actor: string, at: string): Promise<void> {
  await db.batch([
    db.prepare("UPDATE api_keys SET name = ? WHERE id = ?").bind(name, row.id),
    eventStatement(db, row.id, row.organization_id, "renamed", actor, at),
  ]);
}

/** Records the revocation event only when this call is what revoked the key. */
export async function revokeKeyRow(db: SqlDatabase, row: KeyRow, actor: string, at: string): Promise<void> {
  if (row.revoked_at !== null && row.revoked_at <= at) return;
  await db.batch([revokeStatement(db, row.id, at), eventStatement(db, row.id, row.organization_id, "revoked", actor, at)]);
}

/** The successor and the predecessor's end (now or after a grace period) in one transaction. */
export async function rotateKeyRow(db: SqlDatabase, old: KeyRow, successor: KeyRow, oldEndsAt: string): Promise<void> {
  await db.batch([
    ...insertKeyStatements(db, successor),
    revokeStatement(db, old.id, oldEndsAt),
    eventStatement(db, old.id, old.organization_id, "rotated", successor.created_by, successor.created_at),
  ]);
}

export interface KeyEvent {
  type: EventType;
  actor: string;
  at: string;
}

export async function listEvents(db: SqlDatabase, keyId: string): Promise<KeyEvent[]> {
  const { results } = await db
    .prepare("SELECT type, actor, at FROM api_key_events WHERE key_id = ? ORDER BY seq")
    .bind(keyId)
    .all<KeyEvent>();
  return results;
}
