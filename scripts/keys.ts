import { parseConfig } from "../src/config.ts";
import { createKey, revokeKey, rotateKey, type CreatedKey, type KeyStore } from "../src/keys/lifecycle.ts";
import { toKeyObject, type KeyObject } from "../src/keys/object.ts";
import { findKeyById, listKeysInOrg, type KeyRow } from "../src/storage/records.ts";
import { parseInvocation, UsageError, USAGE, type Command, type Invocation } from "./lib/cli-args.ts";
import { LocalStateError, openLocalBindings, readDevVars, resolveDevVars, resolvePersistTo } from "./lib/local-state.ts";
import { keyStore, localKeyStore } from "./lib/key-store.ts";
import { wranglerD1, wranglerKv } from "./lib/wrangler-state.ts";

/**
 * `npm run -s keys -- …` (DESIGN §8): the same key lifecycle the management
 * API runs, on the local state of `npm start` or, with --remote, on
 * Cloudflare's D1 and KV through wrangler. The actor in the audit trail is "cli".
 */

const ACTOR = "cli";
const PRODUCTION_ENV = "production";
/** Every key of an organization, for `list` (the API pages; a terminal reads them all). */
const LIST_LIMIT = 10_000;

class Failure extends Error {}

interface Opened {
  store: KeyStore;
  close(): Promise<void>;
}

async function openStore(inv: Invocation): Promise<Opened> {
  if (inv.remote) {
    const secret = process.env.KEY_HASH_SECRET;
    if (!secret) throw new UsageError("--remote needs KEY_HASH_SECRET in the environment (the production secret)");
    // Production vars are not readable from here: the environment may override the defaults.
    const config = parseConfig({
      ORIGIN_URL: "https://unused.invalid",
      KEY_HASH_SECRET: secret,
      KV_CACHE_TTL_S: process.env.KV_CACHE_TTL_S,
      TOMBSTONE_REWRITE_DELAY_MS: process.env.TOMBSTONE_REWRITE_DELAY_MS,
    });
    const loc = { remote: true, env: PRODUCTION_ENV } as const;
    const store = await keyStore(wranglerD1(loc), wranglerKv(loc), secret, config.KV_CACHE_TTL_S, config.TOMBSTONE_REWRITE_DELAY_MS);
    return { store, close: async () => {} };
  }
  const devVarsPath = resolveDevVars(inv.devVars);
  const devVars = await readDevVars(devVarsPath);
  if (!devVars?.KEY_HASH_SECRET) {
    throw new Failure(`${devVarsPath} has no KEY_HASH_SECRET: run \`npm start\` once, or copy .dev.vars.example`);
  }
  const bindings = await openLocalBindings({ persistTo: resolvePersistTo(inv.persistTo), devVarsPath });
  try {
    return { store: await localKeyStore(bindings), close: bindings.dispose };
  } catch (err) {
    await bindings.dispose();
    throw err;
  }
}

async function existing(store: KeyStore, id: string): Promise<KeyRow> {
  const row = await findKeyById(store.db, id);
  if (!row) throw new Failure(`No such key: ${id}`);
  return row;
}

type Output = { json: unknown; text: string };

async function run(command: Exclude<Command, { name: "help" }>, store: KeyStore): Promise<Output> {
  switch (command.name) {
    case "create": {
      const created = await createKey(store, {
        organizationId: command.org,
        name: command.keyName,
        scopes: command.scopes,
        expiresAt: command.expiresAt,
        actor: ACTOR,
        mode: command.mode,
      });
      return { json: created, text: createdText(created, "Created") };
    }
    case "list": {
      const now = Date.now();
      const items = (await listKeysInOrg(store.db, command.org, LIST_LIMIT, null)).map((r) => toKeyObject(r, now));
      return { json: { items }, text: listText(command.org, items) };
    }
    case "show": {
      const key = toKeyObject(await existing(store, command.id), Date.now());
      return { json: key, text: showText(key) };
    }
    case "revoke": {
      const key = await revokeKey(store, await existing(store, command.id), ACTOR);
      return { json: key, text: `Revoked ${key.id} (${key.name}) at ${key.revoked_at}.\n` };
    }
    case "rotate": {
      const old = await existing(store, command.id);
      const created = await rotateKey(store, old, command.graceSeconds, ACTOR);
      const ends = command.graceSeconds === 0 ? "now" : `after ${command.graceSeconds} s`;
      return { json: created, text: createdText(created, `Rotated ${old.id} (it stops ${ends}) into`) };
    }
  }
}

function createdText(k: CreatedKey, verb: string): string {
  return [
    `${verb} ${k.id} "${k.name}" in organization ${k.organization_id}`,
    `  scopes:  ${k.scopes.join(" ")}`,
    `  expires: ${k.expires_at ?? "never"}`,
    `  mode:    ${k.mode}`,
    "",
    k.key,
    "",
    "This is the only time the key is shown: store it in a secrets manager now.",
    "",
  ].join("\n");
}

function showText(k: KeyObject): string {
  const rows: [string, string][] = [
    ["id", k.id],
    ["name", k.name],
    ["organization", k.organization_id],
    ["key", k.display],
    ["scopes", k.scopes.join(" ")],
    ["state", k.state],
    ["created", `${k.created_at} by ${k.created_by}`],
    ["last used", k.last_used_at ?? "never"],
    ["expires", k.expires_at ?? "never"],
    ["revoked", k.revoked_at ?? "-"],
    ["rotated from", k.rotated_from ?? "-"],
    ["mode", k.mode],
  ];
  return rows.map(([a, b]) => `${a.padEnd(13)}${b}`).join("\n") + "\n";
}

function listText(org: string, items: KeyObject[]): string {
  if (items.length === 0) return `No keys in organization ${org}.\n`;
  const header = ["ID", "NAME", "KEY", "STATE", "SCOPES", "CREATED", "LAST USED", "EXPIRES"];
  const rows = items.map((k) => [k.id, k.name, k.display, k.state, k.scopes.join(","), k.created_at, k.last_used_at ?? "never", k.expires_at ?? "never"]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n") + "\n";
}

async function main(argv: readonly string[]): Promise<number> {
  // wrangler's notices go to stdout, where --json must print exactly one document.
  process.env.WRANGLER_LOG ??= "error";
  let inv: Invocation;
  try {
    inv = parseInvocation(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`keys: ${err.message}\nRun \`npm run -s keys -- help\` for usage.\n`);
      return 2;
    }
    throw err;
  }
  const { command } = inv;
  if (command.name === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  let opened: Opened | undefined;
  try {
    opened = await openStore(inv);
    const out = await run(command, opened.store);
    process.stdout.write(command.json ? `${JSON.stringify(out.json, null, 2)}\n` : out.text);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`keys: ${err.message}\n`);
      return 2;
    }
    const detail = err instanceof LocalStateError && err.output ? `\n${err.output.trim()}` : "";
    process.stderr.write(`keys: ${err instanceof Error ? err.message : String(err)}${detail}\n`);
    return 1;
  } finally {
    await opened?.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
