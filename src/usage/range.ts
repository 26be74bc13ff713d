import { GatewayError } from "../errors.ts";
import { HOUR_MS, STATUS_CLASSES, type HourCount, type StatusClass } from "./classes.ts";

export type Granularity = "hour" | "day";

export const BUCKET_MS: Record<Granularity, number> = { hour: HOUR_MS, day: 24 * HOUR_MS };
/** Without `from`: 24 hourly or 30 daily buckets, the last one holding `to`. */
export const DEFAULT_SPAN_MS: Record<Granularity, number> = { hour: 24 * HOUR_MS, day: 30 * 24 * HOUR_MS };
/** 31 days by the hour; by the day, about two years. Keeps one answer (and one query) small. */
export const MAX_USAGE_BUCKETS = 744;

export interface UsageRange {
  granularity: Granularity;
  /** Start of the first bucket: `from` rounded down to a whole UTC hour or day. */
  start: number;
  /** As asked (or now): the buckets are those that begin before it. */
  end: number;
  buckets: number;
}

/**
 * Whole UTC buckets covering [from, to). `from` after `to` and ranges of more
 * than MAX_USAGE_BUCKETS buckets are 400s naming the field; equal bounds are
 * an empty range.
 */
export function usageRange(q: { from?: string | undefined; to?: string | undefined; granularity: Granularity }, now: number): UsageRange {
  const size = BUCKET_MS[q.granularity];
  const end = q.to === undefined ? now : Date.parse(q.to);
  const from = q.from === undefined ? Math.ceil(end / size) * size - DEFAULT_SPAN_MS[q.granularity] : Date.parse(q.from);
  if (from > end)
    throw new GatewayError("invalid_request", q.to === undefined ? "from: must not be in the future" : "from: must not be after to");
  const start = Math.floor(from / size) * size;
  const buckets = Math.ceil((end - start) / size);
  if (buckets > MAX_USAGE_BUCKETS) {
    throw new GatewayError(
      "invalid_request",
      `from: the range holds ${buckets} ${q.granularity === "hour" ? "hourly" : "daily"} buckets; at most ${MAX_USAGE_BUCKETS} (narrow from and to${q.granularity === "hour" ? ", or use granularity=day" : ""})`,
    );
  }
  return { granularity: q.granularity, start, end, buckets };
}

/** The hours a store must read for the range: [fromHour, toHour). */
export function hoursOf(r: UsageRange): { fromHour: number; toHour: number } {
  const size = BUCKET_MS[r.granularity];
  return { fromHour: r.start / HOUR_MS, toHour: (r.start + r.buckets * size) / HOUR_MS };
}

export type Bucket = { start: string } & Record<StatusClass, number>;

/** Every bucket of the range, zero-filled, oldest first. */
export function toBuckets(r: UsageRange, counts: readonly HourCount[]): Bucket[] {
  const size = BUCKET_MS[r.granularity];
  const buckets: Bucket[] = Array.from({ length: r.buckets }, (_, i) => ({
    start: new Date(r.start + i * size).toISOString(),
    ...(Object.fromEntries(STATUS_CLASSES.map((c) => [c, 0])) as Record<StatusClass, number>),
  }));
  for (const c of counts) {
    const i = Math.floor((c.hour * HOUR_MS - r.start) / size);
    const b = buckets[i];
    if (b) b[c.statusClass] += c.count;
  }
  return buckets;
}
