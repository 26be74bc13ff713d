import type { KeyObject } from "../../management/object.ts";

/** A key's own limits in words, for its row (short) and its detail view (every allowlist block). */
const count = (n: number, one: string, many: string): string => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "100 per 60 s", with round periods said as minutes, hours or a day. */
export function perPeriod(limit: number, periodS: number): string {
  const units: [number, string][] = [[86400, "day"], [3600, "hour"], [60, "minute"], [1, "second"]];
  const unit = units.find(([s]) => periodS % s === 0);
  const period = !unit ? `${periodS.toLocaleString("en-US")} s` : periodS === unit[0] ? unit[1] : `${periodS / unit[0]} ${unit[1]}s`;
  return `${count(limit, "request", "requests")} per ${period}`;
}

/** `full`: every allowlist block by name; otherwise one block, or how many. */
export function limitLines(k: KeyObject, full: boolean): string[] {
  const lines: string[] = [];
  if (k.rate_limit) lines.push(`Rate: ${perPeriod(k.rate_limit.limit, k.rate_limit.period_s)}`);
  if (k.monthly_quota !== null) lines.push(`Quota: ${count(k.monthly_quota, "request", "requests")} a month (UTC)`);
  const blocks = k.allowed_cidrs;
  if (blocks) lines.push(`IPs: ${full || blocks.length === 1 ? blocks.join(", ") : count(blocks.length, "block", "blocks")}`);
  return lines;
}
