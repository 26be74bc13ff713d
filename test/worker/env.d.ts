import type { D1Migration } from "@cloudflare/vitest-plugin";

declare global {
  namespace Cloudflare {
    interface Env {
      KEY_HASH_SECRET: string;
      IDENTITY_SIGNING_KEY: string;
      TEST_ORIGIN_URL: string;
      TEST_MIGRATIONS: D1Migration[];
      TEST_ORIGIN_SERVICE: Fetcher;
      TEST_SQL_API_URL: string;
      TEST_USAGE: AnalyticsEngineDataset;
    }
  }
}
