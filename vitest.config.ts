import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Fixed for tests only; `npm start` writes a random one into .dev.vars.
export const TEST_KEY_HASH_SECRET = "test-only-secret-0123456789abcdef0123456789abcdef";
// Fixed for tests only (an Ed25519 private JWK); `npm start` writes a random one into .dev.vars.
export const TEST_IDENTITY_SIGNING_KEY =
  '{"crv":"Ed25519","d":"fSPHVeRT2Lt4xufCBiW9h-3zEtmLKy2_bJ_W2JrJEcc","x":"bfL8A_PBTlZ31JIqMzZsMJObYIus0KCf1rnJK3K3EFo","kty":"OKP"}';

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      // The gateway logs a JSON line per request; show them only for failing tests.
      silent: "passed-only" as const,
      // Every `wrangler dev` a test starts has its own secrets and state: its build step
      // (scripts/build.ts) must not create the project's .dev.vars or migrate .wrangler/state.
      // The fresh-copy test (test/node/first-run.e2e.test.ts) clears it to test just that.
      env: { GATEWAY_LOCAL_SETUP: "done" },
      projects: [
        {
          // Unit and integration tests inside workerd, with real local KV and D1.
          plugins: [
            cloudflareTest(({ inject }) => ({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                bindings: {
                  KEY_HASH_SECRET: TEST_KEY_HASH_SECRET,
                  IDENTITY_SIGNING_KEY: TEST_IDENTITY_SIGNING_KEY,
                  ORIGIN_URL: inject("originUrl"),
                  TEST_ORIGIN_URL: inject("originUrl"),
                  TEST_MIGRATIONS: migrations,
                  TEST_SQL_API_URL: inject("sqlApiUrl"),
                },
                // The production usage binding's local counterpart (wrangler.toml declares USAGE for production only).
                analyticsEngineDatasets: { TEST_USAGE: { dataset: "gateway_usage_test" } },
                // An upstream that is itself a Worker, reached by service binding (docs/design.md §6).
                serviceBindings: { TEST_ORIGIN_SERVICE: "origin-worker" },
                workers: [
                  {
                    name: "origin-worker",
                    modules: true,
                    compatibilityDate: "2026-11-01",
                    script: `export default { async fetch(req) {
                      return Response.json({ via: "service-binding", url: req.url, method: req.method,
                        key_id: req.headers.get("x-api-key-id"), authorization: req.headers.get("authorization") });
                    } }`,
                  },
                ],
              },
            })),
          ],
          test: {
            name: "worker",
            include: ["test/worker/**/*.test.ts"],
            globalSetup: ["./test/support/build-settings.ts", "./test/support/global-setup.ts"],
            setupFiles: ["./test/worker/apply-migrations.ts"],
          },
        },
        {
          // What cannot run inside workerd: wrangler dev, raw sockets, the CLI.
          test: {
            name: "node",
            include: ["test/node/**/*.test.ts", "test/security/**/*.test.ts"],
            environment: "node",
            testTimeout: 60_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
