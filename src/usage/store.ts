import { ConfigError, type Config } from "../config.ts";
import type { Bindings } from "../env.ts";
import { AnalyticsEngineSink } from "./analytics-engine.ts";
import { AnalyticsSqlSource, sqlApiUrl } from "./analytics-sql.ts";
import type { UsageSink, UsageSource } from "./classes.ts";
import { D1UsageStore } from "./d1-store.ts";

export interface UsageStore {
  sink: UsageSink;
  source: UsageSource;
}

/**
 * USAGE_STORE picks one store for writing and reading: D1 (local development,
 * tests, or a deployment without Analytics Engine) or Analytics Engine, which
 * needs its binding and the SQL API's credentials, or the configuration is invalid.
 */
export function usageStoreFor(config: Config, env: Bindings): UsageStore {
  if (config.USAGE_STORE === "d1") {
    const d1 = new D1UsageStore(env.DB, config.USAGE_FLUSH_INTERVAL_MS);
    return { sink: d1, source: d1 };
  }
  const missing = [
    env.USAGE ? null : (["USAGE", "the Analytics Engine binding USAGE"] as const),
    config.ANALYTICS_ACCOUNT_ID || config.ANALYTICS_SQL_URL ? null : (["ANALYTICS_ACCOUNT_ID", "ANALYTICS_ACCOUNT_ID"] as const),
    config.ANALYTICS_API_TOKEN ? null : (["ANALYTICS_API_TOKEN", "the secret ANALYTICS_API_TOKEN"] as const),
  ].filter((m) => m !== null);
  if (missing.length > 0 || !env.USAGE) {
    // Named for the log line and /healthz (src/gateway/runtime.ts), with USAGE_STORE that asks for them.
    const settings = ["USAGE_STORE", ...missing.map(([name]) => name)];
    throw new ConfigError(
      `Invalid configuration: USAGE_STORE=analytics_engine needs ${missing.map(([, what]) => what).join(", ")}`,
      settings,
    );
  }
  const source = new AnalyticsSqlSource({
    url: config.ANALYTICS_SQL_URL ?? sqlApiUrl(config.ANALYTICS_ACCOUNT_ID ?? ""),
    token: config.ANALYTICS_API_TOKEN ?? "",
    dataset: config.USAGE_DATASET,
  });
  return { sink: new AnalyticsEngineSink(env.USAGE), source };
}
