import { importHashKey } from "../../src/keys/hash.ts";
import { mintKey } from "../../src/management/issue.ts";
import { MONTHLY_QUOTA_MAX, RATE_LIMIT_MAX, RATE_PERIOD_MAX_S } from "../../src/limits/policy.ts";
import { writeCachedRecord } from "../../src/storage/kv-cache.ts";
import type { KeyValueStore, SqlDatabase } from "../../src/storage/ports.ts";
import { insertKey, toAuthRecord } from "../../src/storage/records.ts";
import { BENCH_ORG } from "./seed.ts";

/**
 * Keys for the rate-limit rows (docs/keys-and-scopes.md "Rate limits and quotas"): `limited`
 * has a rate limit and a quota too large to reach in a run, so every request
 * pays one KeyMeter round-trip; `overLimit` allows one request a day, so once
 * spent every request is a 429 from the isolate's pre-check.
 */
export async function seedLimitedKeys(
  db: SqlDatabase,
  kv: KeyValueStore,
  hashSecret: string,
  kvTtlSeconds: number,
): Promise<{ limited: string; overLimit: string }> {
  const secret = await importHashKey(hashSecret);
  const mint = async (name: string, rateLimit: { limit: number; period_s: number }, monthlyQuota: number | null) => {
    const { row, plaintext } = await mintKey(
      secret,
      { organizationId: BENCH_ORG, name, scopes: ["candidates:read", "candidates:write"], expiresAt: null, actor: "cli", rateLimit, monthlyQuota },
      new Date(),
    );
    await insertKey(db, row);
    await writeCachedRecord(kv, toAuthRecord(row), kvTtlSeconds);
    return plaintext;
  };
  return {
    limited: await mint("bench-limited", { limit: RATE_LIMIT_MAX, period_s: RATE_PERIOD_MAX_S }, MONTHLY_QUOTA_MAX),
    overLimit: await mint("bench-over-limit", { limit: 1, period_s: RATE_PERIOD_MAX_S }, null),
  };
}
