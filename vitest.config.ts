import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Fixed for tests only; `npm start` writes a random one into .dev.vars.
export const TEST_KEY_HASH_SECRET = "test-only-secret-0123456789abcdef0123456789abcdef";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      projects: [
        {
          // Unit and integration tests inside workerd, with real local KV and D1.
          plugins: [
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  KEY_HASH_SECRET: TEST_KEY_HASH_SECRET,
                  ORIGIN_URL: inject("originUrl"),
                  TEST_ORIGIN_URL: inject("originUrl"),
                  TEST_MIGRATIONS: migrations,
                },
              },
            })),
          ],
          test: {
            name: "worker",
            include: ["test/worker/**/*.test.ts"],
            globalSetup: ["./test/support/global-setup.ts"],
            silent: "passed-only",
            setupFiles: ["./test/worker/apply-migrations.ts"],
          },
        },
        {
          // What cannot run inside workerd: wrangler dev, raw sockets, the CLI.
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts"],
            environment: "node",
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
