import { setBounded } from "../memory/bounded-map.ts";
import type { MeterVerdict } from "./meter-state.ts";

/**
 * The local pre-check: meters the Durable Object refused, until the instant
 * it would admit again (the window's end, or the month's end for a spent
 * quota). It never admits, so the count stays exact; it saves an over-limit
 * key a round-trip per request. (Its instants are the object's; an isolate
 * whose clock is behind keeps a refusal for that much longer.)
 * Bounded: inserting into a full list drops the oldest entry.
 */
export class BlockList {
  readonly #entries = new Map<string, MeterVerdict>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get(meterId: string, now: number): MeterVerdict | undefined {
    const v = this.#entries.get(meterId);
    if (!v) return undefined;
    if (now < blockedUntil(v)) return v;
    this.#entries.delete(meterId);
    return undefined;
  }

  set(meterId: string, verdict: MeterVerdict): void {
    setBounded(this.#entries, this.#max, meterId, verdict);
  }
}

/** When a refused meter admits again. */
export function blockedUntil(v: MeterVerdict): number {
  if (v.refusedBy === "quota_exceeded" && v.quota) return v.quota.resetAt;
  if (v.refusedBy === "rate_limited" && v.rate) return v.rate.resetAt;
  return 0;
}
