import type { UsageEvent, UsageSink } from "./classes.ts";

/**
 * Usage in Workers Analytics Engine: one data point per request, written
 * without waiting (writeDataPoint does no I/O on the request), read back with
 * the SQL API (analytics-sql.ts). blob1 key id, blob2 organization, blob3
 * status class, blob4 route pattern; double1 = 1; index1 = key id, the
 * sampling key, so one key's points are sampled together.
 */
export class AnalyticsEngineSink implements UsageSink {
  private readonly dataset: AnalyticsEngineDataset;

  constructor(dataset: AnalyticsEngineDataset) {
    this.dataset = dataset;
  }

  record(e: UsageEvent): void {
    this.dataset.writeDataPoint({ blobs: [e.keyId, e.organizationId, e.statusClass, e.route], doubles: [1], indexes: [e.keyId] });
  }
}
