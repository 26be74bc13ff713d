import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { ConfigSchema, IdentityConfigSchema } from "../src/config.ts";
import { buildSettings, GENERATED_MODULE } from "./build-settings.ts";
import { applyLocalMigrations, DEFAULT_PERSIST_TO, ensureDevVars, LocalStateError, PROJECT_DIR } from "./lib/local-state.ts";

/**
 * wrangler.toml's [build] command. Always: the settings page's bundle
 * (scripts/build-settings.ts). Under `wrangler dev` (wrangler sets
 * WRANGLER_COMMAND=dev), also what a fresh clone lacks, so that plain
 * `npx wrangler dev` after `npm install` serves a working gateway:
 *
 * - `.dev.vars` with random secrets when it is missing or lacks them (never
 *   replacing one: every stored key hash depends on KEY_HASH_SECRET);
 * - the local D1 migrations, in wrangler's default state directory, when the
 *   migrations directory changed since they were last applied there.
 *
 * `npm start` does both itself (with its own --persist-to) and sets
 * GATEWAY_LOCAL_SETUP=done for its wrangler dev (so does vitest.config.ts for the
 * tests' own wrangler dev, each with its own state). `wrangler deploy` gets the
 * bundle only. A secret that is still the example's placeholder is not
 * replaced, only named, with the next step.
 */

const MIGRATIONS_DIR = join(PROJECT_DIR, "migrations");
/** Which migrations were last applied to the default local state (beside it, so deleting the state resets it). */
const MARKER = join(DEFAULT_PERSIST_TO, "applied-migrations.txt");

async function migrationList(): Promise<string> {
  return `${(await readdir(MIGRATIONS_DIR))
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .join("\n")}\n`;
}

async function prepareLocalDev(): Promise<void> {
  const devVars = await ensureDevVars();
  if (devVars.action !== "unchanged") {
    console.log(
      `${devVars.action === "created" ? "Created .dev.vars with" : "Added to .dev.vars"} a random ${devVars.added.join(" and ")}.`,
    );
  }
  for (const [name, schema] of [
    ["KEY_HASH_SECRET", ConfigSchema.shape.KEY_HASH_SECRET],
    ["IDENTITY_SIGNING_KEY", IdentityConfigSchema.shape.IDENTITY_SIGNING_KEY],
  ] as const) {
    const check = schema.safeParse(devVars.vars[name]);
    if (!check.success) {
      console.warn(
        `${name} in .dev.vars ${check.error.issues[0]?.message ?? "is invalid"}. Delete its line and restart wrangler dev to get a random one.`,
      );
    }
  }

  const wanted = await migrationList();
  const applied = existsSync(MARKER) ? await readFile(MARKER, "utf8") : null;
  const database = existsSync(join(DEFAULT_PERSIST_TO, "v3", "d1"));
  if (applied === wanted && database) return;
  const result = await applyLocalMigrations();
  console.log(result.applied.length > 0 ? `Applied local D1 migrations: ${result.applied.join(", ")}.` : "Local D1 is up to date.");
  await mkdir(dirname(MARKER), { recursive: true });
  await writeFile(MARKER, wanted);
}

try {
  const t0 = Date.now();
  const written = await buildSettings();
  console.log(`settings page: ${written ? "built" : "up to date"} ${relative(PROJECT_DIR, GENERATED_MODULE)} (${Date.now() - t0} ms)`);
  if (process.env.WRANGLER_COMMAND === "dev" && process.env.GATEWAY_LOCAL_SETUP !== "done") await prepareLocalDev();
} catch (err) {
  const detail = err instanceof LocalStateError && err.output ? `\n${err.output.trim()}` : "";
  console.error(`build: ${err instanceof Error ? err.message : String(err)}${detail}`);
  process.exit(1);
}
