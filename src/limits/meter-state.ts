import type { Limits } from "./policy.ts";

/**
 * The counting rules of one key's meter, as a pure function of its state and
 * the clock, so the Durable Object stays a thin shell and the rules are easy
 * to test at any instant (month ends included).
 *
 * Rate limit: a fixed window that opens at the first request after the last
 * window closed and lasts `period_s`; at most `limit` requests are admitted in
 * it. (Windows are not aligned to the clock, so every key's reset does not
 * fall on the same second; like any fixed window, a client can send `limit`
 * at a window's end and `limit` more at the next one's start.)
 *
 * Quota: requests admitted in the current UTC calendar month; the count starts
 * again at 00:00:00 UTC on the 1st. Only admitted requests count, against both.
 *
 * The meter's time only moves forward: an instant before the open window is
 * counted in that window, and an instant in an earlier month is counted in the
 * current month. So a late or clock-skewed request can be refused, never
 * reopen a window or a month and wipe its count. The Durable Object passes
 * its own clock (src/limits/key-meter.ts), so callers' clocks never matter.
 */
export interface MeterState {
  window: { start: number; count: number } | null;
  month: { key: string; used: number } | null;
}

export interface MeterRequest extends Limits {
  /** Milliseconds since the epoch: the Durable Object's clock, or a test's. */
  now: number;
}

export type Refusal = "rate_limited" | "quota_exceeded";

export interface MeterVerdict {
  /** The meter's clock when it decided: the instant `resetAt`s are counted from. */
  decidedAt: number;
  allowed: boolean;
  refusedBy: Refusal | null;
  rate: { limit: number; period_s: number; remaining: number; resetAt: number } | null;
  quota: { limit: number; remaining: number; resetAt: number; monthStart: number } | null;
}

export const EMPTY_METER: MeterState = { window: null, month: null };

/** "2026-12" for any instant in December 2026, UTC; such keys sort in time order. */
export const monthKey = (now: number): string => new Date(now).toISOString().slice(0, 7);

export function monthBounds(now: number): { start: number; end: number } {
  const d = new Date(now);
  return { start: Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1), end: Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) };
}

/** Decides one request and returns the state after it. */
export function take(state: MeterState, req: MeterRequest): { state: MeterState; verdict: MeterVerdict } {
  const { now, rate, quota } = req;
  let window = state.window;
  if (rate && (window === null || now >= window.start + rate.period_s * 1000)) window = { start: now, count: 0 };
  let month = state.month;
  const key = monthKey(now);
  if (quota !== null && (month === null || key > month.key)) month = { key, used: 0 };

  const quotaSpent = quota !== null && month !== null && month.used >= quota;
  const rateSpent = rate !== null && window !== null && window.count >= rate.limit;
  // A spent quota is the longer wait, so it is the one reported.
  const refusedBy: Refusal | null = quotaSpent ? "quota_exceeded" : rateSpent ? "rate_limited" : null;
  if (refusedBy === null) {
    if (rate && window) window = { start: window.start, count: window.count + 1 };
    if (quota !== null && month) month = { key: month.key, used: month.used + 1 };
  }
  // The month counted in, which is later than `now`'s for a late request.
  const bounds = monthBounds(month ? Math.max(now, Date.parse(`${month.key}-01T00:00:00Z`)) : now);
  return {
    state: { window, month },
    verdict: {
      decidedAt: now,
      allowed: refusedBy === null,
      refusedBy,
      rate:
        rate && window
          ? {
              limit: rate.limit,
              period_s: rate.period_s,
              remaining: rate.limit - window.count,
              resetAt: window.start + rate.period_s * 1000,
            }
          : null,
      quota:
        quota !== null && month
          ? { limit: quota, remaining: Math.max(0, quota - month.used), resetAt: bounds.end, monthStart: bounds.start }
          : null,
    },
  };
}
