import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { assertClientAllowed } from "../../src/auth/allowlist.ts";
import { AnalyticsEngineSink } from "../../src/usage/analytics-engine.ts";
import { statusClass } from "../../src/usage/classes.ts";
import { D1UsageStore } from "../../src/usage/d1-store.ts";
import type { AuthRecord } from "../../src/storage/records.ts";

/**
 * Issue 10: a key without an allowlist pays nothing measurable, and counting
 * usage costs a map update on the response path. Measured inside workerd by
 * looping and dividing (locally its clocks advance during CPU work); the
 * bounds are loose so that a loaded machine does not fail them, the printed
 * figures are the measurement.
 */
const record = (allowed: string[] | null): AuthRecord => ({
  id: "key_costcostcostcostcost",
  organization_id: "cost",
  hash: "h",
  scopes: ["candidates:read"],
  expires_at: null,
  revoked_at: null,
  allowed_cidrs: allowed,
  mode: "live",
});

function microsPerCall(n: number, fn: (i: number) => void): number {
  for (let i = 0; i < 1000; i++) fn(i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return ((performance.now() - t0) * 1000) / n;
}

describe("hot-path cost of allowlists and usage", () => {
  it("no allowlist is a null check; one with blocks is a few comparisons; recording usage is a map update", () => {
    const open = record(null);
    const one = record(["203.0.113.0/24"]);
    const hundred6 = record(Array.from({ length: 100 }, (_, i) => `2001:db8:${i.toString(16)}::/48`));
    const pending: Promise<unknown>[] = [];
    const d1 = new D1UsageStore(env.DB, 60_000);
    const ae = new AnalyticsEngineSink(env.TEST_USAGE);
    const event = {
      keyId: "key_costcostcostcostcost",
      organizationId: "cost",
      statusClass: statusClass(200),
      route: "/api/v1/candidates/**",
      at: Date.now(),
    };
    const figures = {
      no_allowlist: microsPerCall(200_000, () => assertClientAllowed(open, "203.0.113.9")),
      one_block_ipv4: microsPerCall(100_000, () => assertClientAllowed(one, "203.0.113.9")),
      hundred_blocks_ipv6_last: microsPerCall(20_000, () => assertClientAllowed(hundred6, "2001:db8:63::1")),
      usage_d1_record: microsPerCall(100_000, () => d1.record(event, (p) => pending.push(p))),
      usage_analytics_engine_record: microsPerCall(20_000, () => ae.record(event)),
    };
    console.info(JSON.stringify(figures));
    expect(pending).toHaveLength(1); // one scheduled flush for all of them
    expect(figures.no_allowlist).toBeLessThan(1);
    expect(figures.one_block_ipv4).toBeLessThan(20);
    expect(figures.usage_d1_record).toBeLessThan(20);
  });
});
