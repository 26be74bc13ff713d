import type { SqlDatabase } from "./ports.ts";

/** A row of D1's append-only `key_revocations` feed (migrations/, read by src/auth/revocation-feed.ts). */
export interface RevocationRow {
  seq: number;
  key_id: string;
  hash: string;
  effective_at: string;
  recorded_at: string;
}

const COLUMNS = "seq, key_id, hash, effective_at, recorded_at";

/** Where the feed stands (its last seq, 0 when empty) and its newest `max` rows recorded after `since`, oldest first. */
export async function readRevocationHead(db: SqlDatabase, since: string, max: number): Promise<{ last: number; recent: RevocationRow[] }> {
  const [head, recent] = (await db.batch([
    db.prepare("SELECT COALESCE(MAX(seq), 0) AS last FROM key_revocations"),
    db.prepare(`SELECT ${COLUMNS} FROM key_revocations WHERE recorded_at > ? ORDER BY seq DESC LIMIT ?`).bind(since, max),
  ])) as [{ results: { last: number }[] }, { results: RevocationRow[] }];
  return { last: head.results[0]?.last ?? 0, recent: recent.results.reverse() };
}

/** Up to `limit` rows after seq `after`, in feed order. */
export async function readRevocationsAfter(db: SqlDatabase, after: number, limit: number): Promise<RevocationRow[]> {
  const { results } = await db
    .prepare(`SELECT ${COLUMNS} FROM key_revocations WHERE seq > ? ORDER BY seq LIMIT ?`)
    .bind(after, limit)
    .all<RevocationRow>();
  return results;
}
