import { spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { KeyValueStore, SqlDatabase } from "../../src/storage/ports.ts";

/**
 * The local state `npm start`, `wrangler dev` and the key-management command
 * line share: `.dev.vars` (the local secrets) and wrangler's persisted local
 * D1 and KV (`.wrangler/state/v3` unless `--persist-to` says otherwise).
 */

/** The project root: the directory holding wrangler.toml. */
export const PROJECT_DIR = fileURLToPath(new URL("../../", import.meta.url));
export const WRANGLER_CONFIG = join(PROJECT_DIR, "wrangler.toml");
export const DEFAULT_DEV_VARS = join(PROJECT_DIR, ".dev.vars");
/** The same default `wrangler dev` uses (relative to wrangler.toml). */
export const DEFAULT_PERSIST_TO = join(PROJECT_DIR, ".wrangler", "state");
/** The project's own wrangler, run with the Node running this script (wrangler 4 needs Node ≥ 22). */
export const WRANGLER_BIN = join(PROJECT_DIR, "node_modules", "wrangler", "bin", "wrangler.js");

/** Absolute, so every tool agrees whatever its working directory. */
export function resolvePersistTo(persistTo: string | undefined): string {
  return persistTo === undefined ? DEFAULT_PERSIST_TO : resolve(persistTo);
}

/** The `.dev.vars` path: an explicit one (relative to the caller's cwd) or the project's. */
export function resolveDevVars(path: string | undefined): string {
  return path === undefined ? DEFAULT_DEV_VARS : isAbsolute(path) ? path : resolve(path);
}

// ---------------------------------------------------------------------------
// .dev.vars

/** A dotenv-style parse: `KEY=value`, optional `export `, quotes, `#` comments. */
export function parseDevVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(raw);
    if (!m) continue;
    const name = m[1]!;
    let value = m[2]!.trim();
    const quote = value[0];
    if ((quote === '"' || quote === "'" || quote === "`") && value.length >= 2 && value.endsWith(quote)) {
      value = value.slice(1, -1);
      if (quote === '"') value = value.replaceAll("\\n", "\n");
    } else {
      value = value.replace(/\s+#.*$/, "");
    }
    out[name] = value;
  }
  return out;
}

export async function readDevVars(path: string): Promise<Record<string, string> | null> {
  if (!existsSync(path)) return null;
  return parseDevVars(await readFile(path, "utf8"));
}

/** 48 random bytes, base64url: 64 characters, well above the 32-byte minimum. */
export function randomHashSecret(): string {
  return randomBytes(48).toString("base64url");
}

/** A fresh Ed25519 private key as one line of JWK JSON, the shape IDENTITY_SIGNING_KEY takes. */
export function randomSigningKey(): string {
  const { privateKey } = generateKeyPairSync("ed25519");
  const { kty, crv, x, d } = privateKey.export({ format: "jwk" });
  return JSON.stringify({ kty, crv, x, d });
}

export interface DevVars {
  path: string;
  /** What this call did: `created` the file, `appended` secrets to it, or left it `unchanged`. */
  action: "created" | "appended" | "unchanged";
  /** The secrets this call generated, by name (none when unchanged). */
  added: string[];
  vars: Record<string, string>;
  keyHashSecret: string;
}

/** Secrets `npm start` generates when `.dev.vars` lacks them, in file order. */
const GENERATED: readonly { name: string; make(): string; quote: boolean }[] = [
  { name: "KEY_HASH_SECRET", make: randomHashSecret, quote: false },
  // Quoted: JSON holds `"`, and dotenv parsers agree on single-quoted values.
  { name: "IDENTITY_SIGNING_KEY", make: randomSigningKey, quote: true },
];

/**
 * Makes sure `.dev.vars` holds a `KEY_HASH_SECRET` and an `IDENTITY_SIGNING_KEY`:
 * creates the file with random ones when it is missing, appends the missing
 * ones when the file lacks them, and otherwise leaves the file exactly as it
 * is (never replaces a secret: every stored key hash depends on the first).
 */
export async function ensureDevVars(path: string = DEFAULT_DEV_VARS): Promise<DevVars> {
  const existing = existsSync(path) ? await readFile(path, "utf8") : null;
  const vars = existing === null ? {} : parseDevVars(existing);
  const missing = GENERATED.filter((g) => vars[g.name] === undefined || vars[g.name] === "");
  if (missing.length === 0) return { path, action: "unchanged", added: [], vars, keyHashSecret: vars.KEY_HASH_SECRET! };

  const fresh = Object.fromEntries(missing.map((g) => [g.name, g.make()]));
  const lines = missing.map((g) => `${g.name}=${g.quote ? `'${fresh[g.name]}'` : fresh[g.name]}\n`).join("");
  if (existing === null) {
    const header =
      "# Local secrets for `wrangler dev`, created by `npm start`. Never commit this file.\n" +
      "# KEY_HASH_SECRET keys the HMAC of every stored API key: changing it invalidates all local keys.\n" +
      "# IDENTITY_SIGNING_KEY (an Ed25519 JWK) signs X-Gateway-Identity; its public key is at /.well-known/jwks.json.\n";
    await writeFile(path, header + lines, { mode: 0o600 });
  } else {
    const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
    await writeFile(path, existing + separator + lines, { mode: 0o600 });
  }
  const all = { ...vars, ...fresh };
  return {
    path,
    action: existing === null ? "created" : "appended",
    added: missing.map((g) => g.name),
    vars: all,
    keyHashSecret: all.KEY_HASH_SECRET!,
  };
}

// ---------------------------------------------------------------------------
// wrangler

/**
 * The environment for wrangler commands that must not prompt: `CI=true` makes
 * its confirmations take their default ("yes"), as does a stdin that is not a TTY.
 */
export function nonInteractiveEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", ...extra };
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `wrangler ARGS` in the project directory, output captured. */
export function runWrangler(args: readonly string[], env: NodeJS.ProcessEnv = nonInteractiveEnv()): Promise<CommandResult> {
  return runNodeScript(WRANGLER_BIN, args, env);
}

/** Runs a Node script with this Node (22), in the project directory, output captured. */
export function runNodeScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: PROJECT_DIR,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.once("error", reject);
    child.once("close", (code, signal) => resolvePromise({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

export class LocalStateError extends Error {
  readonly output: string;
  constructor(message: string, output = "") {
    super(message);
    this.name = "LocalStateError";
    this.output = output;
  }
}

export interface MigrationResult {
  /** Names of the migrations this call applied (empty when already up to date). */
  applied: string[];
  output: string;
}

/** `wrangler d1 migrations apply DB --local [--persist-to DIR]`, without prompting. */
export async function applyLocalMigrations(options: { persistTo?: string } = {}): Promise<MigrationResult> {
  const args = ["d1", "migrations", "apply", "DB", "--local", "--config", WRANGLER_CONFIG];
  if (options.persistTo !== undefined) args.push("--persist-to", resolvePersistTo(options.persistTo));
  const result = await runWrangler(args);
  const output = result.stdout + result.stderr;
  if (result.code !== 0) {
    throw new LocalStateError(`wrangler d1 migrations apply failed (exit ${result.code})`, output);
  }
  // Wrangler prints a table row per migration it applied, with a ✅ status, and reprints the
  // table after each one: a name is listed once per table it appears in.
  const applied = [...new Set([...output.matchAll(/(\d{4}_[\w.-]+\.sql)[^\n]*✅/g)].map((m) => m[1]!))];
  return { applied, output };
}

// ---------------------------------------------------------------------------
// Local bindings through wrangler's getPlatformProxy

export interface LocalBindings {
  db: SqlDatabase;
  kv: KeyValueStore;
  /** The text vars of wrangler.toml's top level (ORIGIN_URL, KV_CACHE_TTL_S, …) and the secrets file's values. */
  vars: Record<string, string>;
  dispose(): Promise<void>;
}

function isSqlDatabase(v: unknown): v is SqlDatabase {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.prepare === "function" && typeof o.batch === "function";
}

function isKeyValueStore(v: unknown): v is KeyValueStore {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.get === "function" && typeof o.put === "function" && typeof o.delete === "function";
}

/**
 * wrangler.toml reduced to what the command line reads (vars, KV, D1). The
 * Worker's Durable Object (KEY_METER) is left out: without the Worker's code
 * there is no class to run it, and wrangler and workerd would each print that
 * it "will not work in local development", true but beside the point here.
 * The storage ids are the same, so the same local files are opened.
 */
async function storageOnlyConfig(): Promise<string> {
  const { unstable_readConfig } = await import("wrangler");
  const full = unstable_readConfig({ config: WRANGLER_CONFIG });
  const config = {
    name: full.name,
    compatibility_date: full.compatibility_date,
    compatibility_flags: full.compatibility_flags,
    vars: full.vars,
    kv_namespaces: full.kv_namespaces.map(({ binding, id }: { binding: string; id?: string }) => ({ binding, id })),
    d1_databases: full.d1_databases.map(
      ({ binding, database_name, database_id }: { binding: string; database_name?: string; database_id?: string }) => ({
        binding,
        database_name,
        database_id,
      }),
    ),
  };
  const dir = join(PROJECT_DIR, ".wrangler", "tmp");
  await mkdir(dir, { recursive: true });
  // One file per process: several commands may run at once.
  const path = join(dir, `cli-bindings-${process.pid}.json`);
  await writeFile(path, JSON.stringify(config));
  return path;
}

/**
 * Opens the local D1 (`DB`) and KV (`KEYS_CACHE`) that `wrangler dev` reads:
 * writes are visible to a running dev server at once. About 1.6 s per call (it
 * starts a workerd), so open once and reuse; always `dispose()`.
 */
export async function openLocalBindings(options: { persistTo?: string; devVarsPath?: string } = {}): Promise<LocalBindings> {
  // Imported lazily: loading wrangler costs time that commands like `help` should not pay.
  const { getPlatformProxy } = await import("wrangler");
  const configPath = await storageOnlyConfig();
  const proxy = await getPlatformProxy<Record<string, unknown>>({
    configPath,
    // getPlatformProxy wants the `v3` directory itself, where `wrangler dev --persist-to DIR` appends `v3`.
    persist: { path: join(resolvePersistTo(options.persistTo), "v3") },
    // The same secrets file the caller uses (any `envFiles` list makes it skip .dev.vars and .env).
    envFiles: [resolveDevVars(options.devVarsPath)],
    remoteBindings: false,
  }).finally(() => rm(configPath, { force: true }));
  const { DB: db, KEYS_CACHE: kv } = proxy.env;
  if (!isSqlDatabase(db) || !isKeyValueStore(kv)) {
    await proxy.dispose();
    throw new LocalStateError("wrangler.toml must bind a D1 database as DB and a KV namespace as KEYS_CACHE");
  }
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(proxy.env)) if (typeof value === "string") vars[name] = value;
  return { db, kv, vars, dispose: () => proxy.dispose() };
}
