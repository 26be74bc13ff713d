import type { MeterVerdict } from "./meter-state.ts";

/**
 * RateLimit-Policy and RateLimit as in draft-ietf-httpapi-ratelimit-headers
 * (-10): structured-field lists of `"name";q=QUOTA;w=WINDOW_S` and
 * `"name";r=REMAINING;t=SECONDS_TO_RESET`, one member per policy: "rate"
 * (the key's window) and "monthly" (its quota; w = the current month's length).
 */
export const RATE_POLICY = "rate";
export const MONTHLY_POLICY = "monthly";

const secondsUntil = (at: number, now: number) => Math.max(0, Math.ceil((at - now) / 1000));

export function limitHeaders(v: MeterVerdict, now: number): [string, string][] {
  const policy: string[] = [];
  const current: string[] = [];
  if (v.rate) {
    policy.push(`"${RATE_POLICY}";q=${v.rate.limit};w=${v.rate.period_s}`);
    current.push(`"${RATE_POLICY}";r=${v.rate.remaining};t=${secondsUntil(v.rate.resetAt, now)}`);
  }
  if (v.quota) {
    policy.push(`"${MONTHLY_POLICY}";q=${v.quota.limit};w=${Math.round((v.quota.resetAt - v.quota.monthStart) / 1000)}`);
    current.push(`"${MONTHLY_POLICY}";r=${v.quota.remaining};t=${secondsUntil(v.quota.resetAt, now)}`);
  }
  return [
    ["ratelimit-policy", policy.join(", ")],
    ["ratelimit", current.join(", ")],
  ];
}

/** Retry-After for a refusal: whole seconds until the meter admits again, at least 1. */
export function retryAfterSeconds(resetAt: number, now: number): number {
  return Math.max(1, secondsUntil(resetAt, now));
}
