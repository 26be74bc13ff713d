import { errorText, logLine } from "../log.ts";
import type { SqlDatabase } from "../storage/ports.ts";
import { addUsageStatement, readUsageRows } from "../storage/usage-rows.ts";
import { HOUR_MS, STATUS_CLASSES, type HourCount, type StatusClass, type UsageEvent, type UsageSink, type UsageSource } from "./classes.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pending {
  keyId: string;
  org: string;
  hour: number;
  statusClass: StatusClass;
  count: number;
}

/**
 * Usage in D1 (table api_key_usage, migration 0005): counts are summed in
 * isolate memory and written as one batch of upserts after the response
 * (waitUntil), at most once per `flushIntervalMs`, so a request costs a map
 * update; concurrent isolates add to the same rows without losing counts.
 */
export class D1UsageStore implements UsageSink, UsageSource {
  private pending = new Map<string, Pending>();
  private scheduled = false;
  private lastFlush = 0;

  private readonly db: SqlDatabase;
  private readonly flushIntervalMs: number;

  constructor(db: SqlDatabase, flushIntervalMs: number) {
    this.db = db;
    this.flushIntervalMs = flushIntervalMs;
  }

  record(e: UsageEvent, waitUntil: (p: Promise<unknown>) => void): void {
    const hour = Math.floor(e.at / HOUR_MS);
    const id = `${e.keyId} ${hour} ${e.statusClass}`;
    const row = this.pending.get(id);
    if (row) row.count++;
    else this.pending.set(id, { keyId: e.keyId, org: e.organizationId, hour, statusClass: e.statusClass, count: 1 });
    if (this.scheduled) return;
    this.scheduled = true;
    waitUntil(this.flushLater());
  }

  private async flushLater(): Promise<void> {
    // Always yields first: the write never runs on the response's own turn.
    await sleep(Math.max(0, this.lastFlush + this.flushIntervalMs - Date.now()));
    const rows = [...this.pending.values()];
    this.pending.clear();
    this.scheduled = false;
    this.lastFlush = Date.now();
    try {
      await this.db.batch(rows.map((r) => addUsageStatement(this.db, { ...r, organizationId: r.org })));
    } catch (err) {
      logLine({ level: "warn", event: "usage_write_failed", rows: rows.length, message: errorText(err) });
    }
  }

  async hourly(keyId: string, fromHour: number, toHour: number): Promise<HourCount[]> {
    return (await readUsageRows(this.db, keyId, fromHour, toHour))
      .filter((r): r is { hour: number; class: StatusClass; count: number } => (STATUS_CLASSES as readonly string[]).includes(r.class))
      .map((r) => ({ hour: r.hour, statusClass: r.class, count: r.count }));
  }
}
