import { enableCompileCache } from "node:module";
import { parseConfig } from "../src/config.ts";
import { actorText } from "../src/storage/actors.ts";
import { createKey, revokeKey, rotateKey, type CreatedKey, type KeyStore } from "../src/management/lifecycle.ts";
import { toKeyObject, type KeyObject } from "../src/management/object.ts";
import { activeKeysNotOnVersion, activeKeysPerSecretVersion, findKeyById, listKeysInOrg, type KeyRow } from "../src/storage/records.ts";
import { commandUsage, helpHint, parseInvocation, UsageError, type Command, type Invocation } from "./lib/cli-args.ts";
import { LocalStateError, openLocalBindings, readDevVars, resolveDevVars, resolvePersistTo } from "./lib/local-state.ts";
import { keyStore, localKeyStore } from "./lib/key-store.ts";
import { wranglerD1, wranglerKv } from "./lib/wrangler-state.ts";
import { AnalyticsSqlSource, sqlApiUrl } from "../src/usage/analytics-sql.ts";
import { STATUS_CLASSES } from "../src/usage/classes.ts";
import { D1UsageStore } from "../src/usage/d1-store.ts";
import { hoursOf, toBuckets, type Bucket } from "../src/usage/range.ts";
import type { UsageSource } from "../src/usage/classes.ts";

/**
 * `npm run -s keys -- …` (docs/design.md §8): the same key lifecycle the management
 * API runs, on the local state of `npm start` or, with --remote, on
 * Cloudflare's D1 and KV through wrangler. The actor in the audit trail is "cli".
 */

// Loading wrangler (for the local D1 and KV) is most of a command's start-up: Node keeps its compiled code between runs.
enableCompileCache();

const ACTOR = "cli";
const PRODUCTION_ENV = "production";
/** Every key of an organization, for `list` (the API pages; a terminal reads them all). */
const LIST_LIMIT = 10_000;

class Failure extends Error {}

interface Opened {
  store: KeyStore;
  /** Where `usage` reads: the D1 table, or Analytics Engine's SQL API for --remote with its credentials. */
  usage: UsageSource;
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
      KEY_HASH_SECRET_VERSION: process.env.KEY_HASH_SECRET_VERSION,
      USAGE_DATASET: process.env.USAGE_DATASET,
      ANALYTICS_ACCOUNT_ID: process.env.ANALYTICS_ACCOUNT_ID,
      ANALYTICS_API_TOKEN: process.env.ANALYTICS_API_TOKEN,
    });
    const loc = { remote: true, env: PRODUCTION_ENV } as const;
    const store = await keyStore(
      wranglerD1(loc),
      wranglerKv(loc),
      secret,
      config.KV_CACHE_TTL_S,
      config.TOMBSTONE_REWRITE_DELAY_MS,
      config.KEY_HASH_SECRET_VERSION,
    );
    const usage =
      config.ANALYTICS_ACCOUNT_ID && config.ANALYTICS_API_TOKEN
        ? new AnalyticsSqlSource({
            url: sqlApiUrl(config.ANALYTICS_ACCOUNT_ID),
            token: config.ANALYTICS_API_TOKEN,
            dataset: config.USAGE_DATASET,
          })
        : new D1UsageStore(store.db, 0);
    return { store, usage, close: async () => {} };
  }
  const devVarsPath = resolveDevVars(inv.devVars);
  const devVars = await readDevVars(devVarsPath);
  if (!devVars?.KEY_HASH_SECRET) {
    throw new Failure(
      `${devVarsPath} has no KEY_HASH_SECRET: run \`npm start\` or \`npx wrangler dev\` once (either creates it with random secrets)`,
    );
  }
  const bindings = await openLocalBindings({ persistTo: resolvePersistTo(inv.persistTo), devVarsPath });
  try {
    const store = await localKeyStore(bindings);
    return { store, usage: new D1UsageStore(store.db, 0), close: bindings.dispose };
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

async function run(command: Exclude<Command, { name: "help" }>, { store, usage }: Opened): Promise<Output> {
  switch (command.name) {
    case "create": {
      const created = await createKey(store, {
        organizationId: command.org,
        name: command.keyName,
        scopes: command.scopes,
        expiresAt: command.expiresAt,
        actor: ACTOR,
        rateLimit: command.rateLimit,
        monthlyQuota: command.monthlyQuota,
        allowedCidrs: command.allowedCidrs,
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
    case "secret-status":
      return secretStatus(store);
    case "rotate": {
      const old = await existing(store, command.id);
      const created = await rotateKey(store, old, command.graceSeconds, ACTOR);
      const ends = command.graceSeconds === 0 ? "now" : `after ${command.graceSeconds} s`;
      return { json: created, text: createdText(created, `Rotated ${old.id} (it stops ${ends}) into`) };
    }
    case "usage": {
      const row = await existing(store, command.id);
      const { range } = command;
      const { fromHour, toHour } = hoursOf(range);
      const counts = range.buckets === 0 ? [] : await usage.hourly(row.id, fromHour, toHour);
      const data = {
        key_id: row.id,
        granularity: range.granularity,
        from: new Date(range.start).toISOString(),
        to: new Date(range.end).toISOString(),
        buckets: toBuckets(range, counts),
      };
      return { json: data, text: usageText(row.name, data) };
    }
  }
}

/**
 * How far a KEY_HASH_SECRET rotation has got. Keys are re-hashed only when
 * used (an HMAC cannot be re-made without the key), so this is the list to
 * wait for, or to ask the owners of, before the previous secret is dropped.
 */
async function secretStatus(store: KeyStore): Promise<Output> {
  const now = new Date().toISOString();
  const current = store.hashSecretVersion ?? 1;
  const versions = await activeKeysPerSecretVersion(store.db, now);
  const pending = await activeKeysNotOnVersion(store.db, current, now, LIST_LIMIT);
  const json = { current_version: current, versions, pending, previous_secret_droppable: pending.length === 0 };
  const lines = [
    `Current KEY_HASH_SECRET_VERSION: ${current}`,
    ...versions.map((v) => `  version ${v.version}: ${v.active_keys} active key${v.active_keys === 1 ? "" : "s"}`),
    pending.length === 0
      ? "Every active key uses the current secret: KEY_HASH_SECRET_PREVIOUS can be removed."
      : `${pending.length} active key${pending.length === 1 ? "" : "s"} not yet re-hashed (each is re-hashed on its next use):`,
    ...pending.map((k) => `  ${k.id}  v${k.secret_version}  ${k.organization_id}  ${k.name}  last used ${k.last_used_at ?? "never"}`),
  ];
  return { json, text: `${lines.join("\n")}\n` };
}

function createdText(k: CreatedKey, verb: string): string {
  return [
    `${verb} ${k.id} "${k.name}" in organization ${k.organization_id}`,
    `  scopes:  ${k.scopes.join(" ")}`,
    `  expires: ${k.expires_at ?? "never"}`,
    `  limits:  ${limitsText(k)}`,
    `  from:    ${k.allowed_cidrs?.join(" ") ?? "any address"}`,
    `  mode:    ${k.mode}`,
    "",
    k.key,
    "",
    "This is the only time the key is shown: store it in a secrets manager now.",
    "",
  ].join("\n");
}

function usageText(name: string, u: { key_id: string; granularity: string; from: string; to: string; buckets: Bucket[] }): string {
  const header = ["START", ...STATUS_CLASSES];
  const rows = u.buckets.map((b) => [b.start, ...STATUS_CLASSES.map((c) => String(b[c]))]);
  const total = ["total", ...STATUS_CLASSES.map((c) => String(u.buckets.reduce((n, b) => n + b[c], 0)))];
  const all = [header, ...rows, total];
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const table = all.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n");
  return `Usage of ${u.key_id} "${name}" per ${u.granularity}, ${u.from} to ${u.to} (UTC)\n${table}\n`;
}

function showText(k: KeyObject): string {
  const rows: [string, string][] = [
    ["id", k.id],
    ["name", k.name],
    ["organization", k.organization_id],
    ["key", k.display],
    ["scopes", k.scopes.join(" ")],
    ["state", k.state],
    ["created", `${k.created_at} by ${actorText(k.created_by)}`],
    ["last used", k.last_used_at ?? "never"],
    ["expires", k.expires_at ?? "never"],
    ["revoked", k.revoked_at ?? "-"],
    ["rotated from", k.rotated_from ?? "-"],
    ["limits", limitsText(k)],
    ["allowed from", k.allowed_cidrs?.join(" ") ?? "any address"],
    ["mode", k.mode],
  ];
  return `${rows.map(([a, b]) => `${a.padEnd(13)}${b}`).join("\n")}\n`;
}

function limitsText(k: KeyObject): string {
  const rate = k.rate_limit ? `${k.rate_limit.limit} requests per ${k.rate_limit.period_s} s` : "organization default, if any";
  const quota = k.monthly_quota === null ? "no monthly quota" : `${k.monthly_quota} requests per month`;
  return `${rate}; ${quota}`;
}

function listText(org: string, items: KeyObject[]): string {
  if (items.length === 0) return `No keys in organization ${org}.\n`;
  const header = ["ID", "NAME", "KEY", "STATE", "SCOPES", "CREATED", "LAST USED", "EXPIRES"];
  const rows = items.map((k) => [
    k.id,
    k.name,
    k.display,
    k.state,
    k.scopes.join(","),
    k.created_at,
    k.last_used_at ?? "never",
    k.expires_at ?? "never",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return `${[header, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}

/** What to run when the database has no tables yet: the migrations, on the state this command used. */
function nextStep(message: string, inv: Invocation): string {
  if (!/no such table/i.test(message)) return "";
  if (inv.remote)
    return "The remote D1 database has no tables yet: run `npx wrangler d1 migrations apply DB --remote --env production` first.\n";
  const persist = inv.persistTo === undefined ? "" : ` --persist-to ${inv.persistTo}`;
  return `The local D1 database has no tables yet: run \`npx wrangler d1 migrations apply DB --local${persist}\` first (\`npm start\` and \`npx wrangler dev\` apply them too).\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  // wrangler's notices go to stdout, where --json must print exactly one document.
  process.env.WRANGLER_LOG ??= "error";
  let inv: Invocation;
  try {
    inv = parseInvocation(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`keys: ${err.message}\n${helpHint(argv)}\n`);
      return 2;
    }
    throw err;
  }
  const { command } = inv;
  if (command.name === "help") {
    process.stdout.write(commandUsage(command.topic));
    return 0;
  }
  let opened: Opened | undefined;
  try {
    opened = await openStore(inv);
    const out = await run(command, opened);
    process.stdout.write(command.json ? `${JSON.stringify(out.json, null, 2)}\n` : out.text);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`keys: ${err.message}\n`);
      return 2;
    }
    const detail = err instanceof LocalStateError && err.output ? `\n${err.output.trim()}` : "";
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`keys: ${message}${detail}\n${nextStep(message, inv)}`);
    return 1;
  } finally {
    await opened?.close();
  }
}

process.exitCode = await main(process.argv.slice(2));
