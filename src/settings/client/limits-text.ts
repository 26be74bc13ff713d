import type { KeyObject } from "../../management/object.ts";

/** A key's own limits in words, for its row (short) and its detail view (every allowlist block). */
const count = (n: number, one: string, many: string): string => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "100 per 60 s", with round periods said as minutes, hours or a day. */
export function perPeriod(limit: number, periodS: number): string {
  const units: [number, string][] = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  const unit = units.find(([s]) => periodS % s === 0);
  const period = !unit ? `${periodS.toLocaleString("en-US")} s` : periodS === unit[0] ? unit[1] : `${periodS / unit[0]} ${unit[1]}s`;
  return `${count(limit, "request", "requests")} per ${period}`;
}

/** `full`: in words, every allowlist block by name; otherwise short ("100/minute", "2 IP blocks") for a table row. */
export function limitLines(k: KeyObject, full: boolean): string[] {
  const lines: string[] = [];
  const rate = k.rate_limit;
  if (rate)
    lines.push(
      full ? `Rate: ${perPeriod(rate.limit, rate.period_s)}` : perPeriod(rate.limit, rate.period_s).replace(/ requests? per /, "/"),
    );
  if (k.monthly_quota !== null) {
    lines.push(
      full ? `Quota: ${count(k.monthly_quota, "request", "requests")} a month (UTC)` : `${k.monthly_quota.toLocaleString("en-US")}/month`,
    );
  }
  const blocks = k.allowed_cidrs;
  if (blocks)
    lines.push(full ? `IPs: ${blocks.join(", ")}` : blocks.length === 1 ? blocks[0]! : count(blocks.length, "IP block", "IP blocks"));
  return lines;
}
