import type { SqlDatabase, SqlStatement } from "./ports.ts";

/** One key's count of requests in one hour and status class (table api_key_usage, migration 0005). */
export interface UsageRow {
  keyId: string;
  organizationId: string;
  hour: number;
  statusClass: string;
  count: number;
}

/** Adds `row.count` to the stored count (concurrent isolates add to the same row without losing counts). */
export function addUsageStatement(db: SqlDatabase, row: UsageRow): SqlStatement {
  return db
    .prepare(
      `INSERT INTO api_key_usage (key_id, organization_id, hour, class, count) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key_id, hour, class) DO UPDATE SET count = count + excluded.count`,
    )
    .bind(row.keyId, row.organizationId, row.hour, row.statusClass, row.count);
}

/** A key's stored counts for hours in [fromHour, toHour), as stored (the class unchecked). */
export async function readUsageRows(
  db: SqlDatabase,
  keyId: string,
  fromHour: number,
  toHour: number,
): Promise<{ hour: number; class: string; count: number }[]> {
  const { results } = await db
    .prepare("SELECT hour, class, count FROM api_key_usage WHERE key_id = ? AND hour >= ? AND hour < ?")
    .bind(keyId, fromHour, toHour)
    .all<{ hour: number; class: string; count: number }>();
  return results;
}
