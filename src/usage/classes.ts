/** What usage is counted by: the status class of the response the client got. */
export const STATUS_CLASSES = ["2xx", "3xx", "4xx", "5xx"] as const;
export type StatusClass = (typeof STATUS_CLASSES)[number];

/** 1xx never reaches a client through the gateway; anything odd counts with its neighbour. */
export function statusClass(status: number): StatusClass {
  if (status < 300) return "2xx";
  if (status < 400) return "3xx";
  if (status < 500) return "4xx";
  return "5xx";
}

export const HOUR_MS = 3_600_000;

/** One request of a known key (docs/design.md §10's key id and organization, plus what it got). */
export interface UsageEvent {
  keyId: string;
  organizationId: string;
  statusClass: StatusClass;
  /** The route pattern it matched, e.g. /api/v1/jobs/** (Analytics Engine only). */
  route: string;
  at: number;
}

/** Counts per whole UTC hour (hours since the epoch), as both stores answer them. */
export interface HourCount {
  hour: number;
  statusClass: StatusClass;
  count: number;
}

/** Where counted requests go. `record` is on the response path: it must not wait for I/O. */
export interface UsageSink {
  record(event: UsageEvent, waitUntil: (p: Promise<unknown>) => void): void;
}

/** Where GET /api/v1/api-keys/{id}/usage reads them: counts per hour in [fromHour, toHour). */
export interface UsageSource {
  hourly(keyId: string, fromHour: number, toHour: number): Promise<HourCount[]>;
}
