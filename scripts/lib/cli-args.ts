import { parseArgs } from "node:util";
import { z } from "zod";
import { checkAllowlist } from "../../src/auth/cidr.ts";
import { ALL_SCOPES } from "../../src/auth/scopes.ts";
import { GatewayError } from "../../src/errors.ts";
import { usageRange, type UsageRange } from "../../src/usage/range.ts";
import { KeyModeSchema, KeyName, MAX_GRACE_SECONDS } from "../../src/api/schemas.ts";
import type { KeyMode } from "../../src/keys/format.ts";
import {
  MONTHLY_QUOTA_MAX,
  MonthlyQuotaSchema,
  parseRateLimit,
  RATE_LIMIT_MAX,
  RATE_PERIOD_MAX_S,
  type RateLimit,
} from "../../src/limits/policy.ts";

/**
 * The key command line's grammar (docs/design.md §8), parsed and validated before
 * anything is opened or written: a usage error changes nothing.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

const DURATION_UNITS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;

/** `90d`, `1h`, `30m`, `45s`, `2w` → seconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d{1,7})([smhdw])$/.exec(text);
  if (!m) throw new UsageError(`${what} must be a duration like 90d, 12h, 30m, 45s or 2w (got "${text}")`);
  return Number(m[1]) * DURATION_UNITS[m[2] as keyof typeof DURATION_UNITS];
}

const OrgId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "--org must be 1-64 letters, digits, '.', '_' or '-'");
const KeyId = z.string().regex(/^key_[0-9A-Za-z]{20}$/, "the key id looks like key_ followed by 20 letters and digits");

export type CommandName = "create" | "list" | "show" | "revoke" | "rotate" | "secret-status" | "usage";

export type Command =
  | { name: "help"; topic: CommandName | null }
  | {
      name: "create";
      org: string;
      keyName: string;
      scopes: string[];
      expiresAt: string | null;
      rateLimit: RateLimit | null;
      monthlyQuota: number | null;
      allowedCidrs: string[] | null;
      mode: KeyMode;
      json: boolean;
    }
  | { name: "list"; org: string; json: boolean }
  | { name: "show"; id: string; json: boolean }
  | { name: "revoke"; id: string; json: boolean }
  | { name: "rotate"; id: string; graceSeconds: number; json: boolean }
  | { name: "secret-status"; json: boolean }
  | { name: "usage"; id: string; range: UsageRange; json: boolean };

export interface Invocation {
  command: Command;
  remote: boolean;
  persistTo: string | undefined;
  devVars: string | undefined;
}

const OPTIONS = {
  org: { type: "string" },
  name: { type: "string" },
  scopes: { type: "string" },
  "expires-in": { type: "string" },
  "expires-at": { type: "string" },
  "allowed-cidrs": { type: "string" },
  grace: { type: "string" },
  "rate-limit": { type: "string" },
  "monthly-quota": { type: "string" },
  from: { type: "string" },
  to: { type: "string" },
  granularity: { type: "string" },
  mode: { type: "string" },
  json: { type: "boolean" },
  remote: { type: "boolean" },
  "persist-to": { type: "string" },
  "dev-vars": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const ALLOWED: Record<CommandName, readonly string[]> = {
  create: ["org", "name", "scopes", "expires-in", "expires-at", "rate-limit", "monthly-quota", "allowed-cidrs", "mode", "json"],
  list: ["org", "json"],
  show: ["json"],
  revoke: ["json"],
  rotate: ["grace", "json"],
  "secret-status": ["json"],
  usage: ["from", "to", "granularity", "json"],
};
const COMMON = ["remote", "persist-to", "dev-vars", "help"];

/** Where to read more after a usage error: the command's own help when the command is known. */
export function helpHint(argv: readonly string[]): string {
  const word = argv.find((a) => !a.startsWith("-"));
  const command = word !== undefined && word in ALLOWED ? `${word} --help` : "help";
  return `Run \`npm run -s keys -- ${command}\` for usage.`;
}

function check<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new UsageError(r.error.issues.map((i) => i.message).join("; "));
  return r.data;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required`);
  return value;
}

function parseScopes(text: string): string[] {
  const scopes = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (scopes.length === 0) throw new UsageError("--scopes needs at least one scope, e.g. --scopes candidates:read,jobs:read");
  const unknown = scopes.filter((s) => !ALL_SCOPES.has(s));
  if (unknown.length > 0) {
    throw new UsageError(`unknown scope ${unknown.map((s) => `"${s}"`).join(", ")}; valid scopes: ${[...ALL_SCOPES].join(", ")}`);
  }
  if (new Set(scopes).size !== scopes.length) throw new UsageError("--scopes must not repeat a scope");
  return scopes;
}

/** `10.0.0.0/8,2001:db8::/32` → canonical blocks, by the API's own rules. */
function parseAllowedCidrs(text: string | undefined): string[] | null {
  if (text === undefined) return null;
  const entries = text.split(",").map((s) => s.trim());
  const checked = checkAllowlist(entries.length === 1 && entries[0] === "" ? [] : entries);
  if (checked.ok) return checked.canonical;
  const where = (i: number) => (i < 0 ? "" : ` entry ${i + 1}`);
  throw new UsageError(checked.issues.map((i) => `--allowed-cidrs${where(i.index)}: ${i.message}`).join("; "));
}

function parseExpiry(expiresIn: string | undefined, expiresAt: string | undefined, now: number): string | null {
  if (expiresIn !== undefined && expiresAt !== undefined) throw new UsageError("give --expires-in or --expires-at, not both");
  if (expiresIn !== undefined) return new Date(now + parseDuration(expiresIn, "--expires-in") * 1000).toISOString();
  if (expiresAt === undefined) return null;
  const at = check(
    z.iso.datetime({ offset: true, error: "--expires-at must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z" }),
    expiresAt,
  );
  if (Date.parse(at) <= now) throw new UsageError("--expires-at must be in the future");
  return new Date(at).toISOString();
}

/** `--rate-limit 100/60`: 100 requests per 60 s, within the API's bounds. */
function parseRateLimitFlag(text: string | undefined): RateLimit | null {
  if (text === undefined) return null;
  try {
    return parseRateLimit(text, "--rate-limit");
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

function parseQuotaFlag(text: string | undefined): number | null {
  if (text === undefined) return null;
  if (!/^\d{1,12}$/.test(text)) throw new UsageError(`--monthly-quota must be a whole number of requests (got "${text}")`);
  return check(MonthlyQuotaSchema, Number(text));
}

const UsageTime = (flag: string) =>
  z.iso.datetime({ offset: true, error: `${flag} must be an ISO-8601 date-time, e.g. 2026-12-01T00:00:00Z` });

/** The API's own range rules (src/usage/range.ts), with the flags named instead of the query fields. */
function parseUsageRange(
  v: { from?: string | undefined; to?: string | undefined; granularity?: string | undefined },
  now: number,
): UsageRange {
  const granularity = check(z.enum(["hour", "day"], { error: '--granularity must be "hour" or "day"' }), v.granularity ?? "hour");
  const from = v.from === undefined ? undefined : check(UsageTime("--from"), v.from);
  const to = v.to === undefined ? undefined : check(UsageTime("--to"), v.to);
  try {
    return usageRange({ from, to, granularity }, now);
  } catch (err) {
    if (err instanceof GatewayError) throw new UsageError(err.message.replace(/^(from|to): /, "--$1: "));
    throw err;
  }
}

/** Edit distance, for "did you mean": flags and commands are short, so the plain table is enough. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

/** The closest of `candidates` to `word`, if close enough to be a typo (or one is a prefix of the other). */
export function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.startsWith(word) || word.startsWith(c) ? Math.min(1, distance(word, c)) : distance(word, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best !== null && bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : null;
}

const suggestion = (word: string, candidates: readonly string[], prefix = ""): string => {
  const near = closest(word, candidates);
  return near === null ? "" : ` (did you mean ${prefix}${near}?)`;
};

/** Flags no command knows, named with the nearest one the command takes: before Node's parser words it. */
function checkFlags(argv: readonly string[], command: string | undefined): void {
  const valid = command !== undefined && command in ALLOWED ? [...ALLOWED[command as CommandName], ...COMMON] : Object.keys(OPTIONS);
  for (const arg of argv) {
    if (arg === "--") break;
    if (!arg.startsWith("--")) continue;
    const flag = arg.slice(2).split("=")[0]!;
    if (!(flag in OPTIONS)) throw new UsageError(`unknown option --${flag}${suggestion(flag, valid, "--")}`);
  }
}

export function parseInvocation(argv: readonly string[], now = Date.now()): Invocation {
  const commandWord = argv.find((a) => !a.startsWith("-"));
  checkFlags(argv, commandWord);
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values: v, positionals } = parsed;
  const common = { remote: v.remote ?? false, persistTo: v["persist-to"], devVars: v["dev-vars"] };
  const [name, ...rest] = positionals;
  const commands = Object.keys(ALLOWED);
  // `help create`, `create --help`: that command's text; `help` or `--help` alone: all of it.
  const topic = name === "help" ? rest[0] : v.help ? name : undefined;
  if (name === undefined || name === "help" || v.help) {
    if (topic !== undefined && !commands.includes(topic)) throw new UsageError(`unknown command "${topic}"${suggestion(topic, commands)}`);
    return { command: { name: "help", topic: (topic as CommandName | undefined) ?? null }, ...common };
  }
  if (!commands.includes(name)) throw new UsageError(`unknown command "${name}"${suggestion(name, commands)}`);
  const cmd = name as CommandName;
  const given = Object.keys(v).filter((k) => v[k as keyof typeof v] !== undefined);
  const stray = given.filter((k) => !ALLOWED[cmd].includes(k) && !COMMON.includes(k));
  if (stray.length > 0) throw new UsageError(`${cmd} does not take ${stray.map((s) => `--${s}`).join(", ")}`);
  if (common.remote && common.persistTo !== undefined)
    throw new UsageError("--persist-to is for local state; it does not go with --remote");
  const json = v.json ?? false;

  const wantsId = cmd === "show" || cmd === "revoke" || cmd === "rotate" || cmd === "usage";
  if (rest.length !== (wantsId ? 1 : 0)) {
    throw new UsageError(wantsId ? `${cmd} takes exactly one key id` : `${cmd} takes no positional arguments`);
  }
  switch (cmd) {
    case "create":
      return {
        command: {
          name: "create",
          org: check(OrgId, required(v.org, "--org")),
          keyName: check(KeyName, required(v.name, "--name")),
          scopes: parseScopes(required(v.scopes, "--scopes")),
          expiresAt: parseExpiry(v["expires-in"], v["expires-at"], now),
          rateLimit: parseRateLimitFlag(v["rate-limit"]),
          monthlyQuota: parseQuotaFlag(v["monthly-quota"]),
          allowedCidrs: parseAllowedCidrs(v["allowed-cidrs"]),
          mode: v.mode === undefined ? "live" : check(KeyModeSchema, v.mode),
          json,
        },
        ...common,
      };
    case "list":
      return { command: { name: "list", org: check(OrgId, required(v.org, "--org")), json }, ...common };
    case "secret-status":
      return { command: { name: "secret-status", json }, ...common };
    case "rotate": {
      const graceSeconds = v.grace === undefined ? 0 : parseDuration(v.grace, "--grace");
      if (graceSeconds > MAX_GRACE_SECONDS) throw new UsageError("--grace must be at most 7d");
      return { command: { name: "rotate", id: check(KeyId, rest[0]), graceSeconds, json }, ...common };
    }
    case "usage":
      return { command: { name: "usage", id: check(KeyId, rest[0]), range: parseUsageRange(v, now), json }, ...common };
    default:
      return { command: { name: cmd, id: check(KeyId, rest[0]), json }, ...common };
  }
}

/** Each command's synopsis and description, in the order the full help lists them. */
const COMMAND_HELP: Record<CommandName, string> = {
  create: `  create --org ORG --name NAME --scopes a,b [--expires-in 90d | --expires-at ISO] [--mode live|test]
         [--rate-limit 100/60] [--monthly-quota 100000] [--allowed-cidrs 10.0.0.0/8,2001:db8::/32] [--json]
                        Create a key. The key is printed once and never again.
                        --mode test makes a pk_test_ key, whose requests go to TEST_ORIGIN_URL.
                        --rate-limit LIMIT/SECONDS: at most LIMIT requests per window
                        (limit 1-${RATE_LIMIT_MAX}, window 1-${RATE_PERIOD_MAX_S} s); --monthly-quota N: requests per
                        UTC calendar month (1-${MONTHLY_QUOTA_MAX}); --allowed-cidrs: the only client addresses
                        it works from. All three are fixed for the key's life.
`,
  list: `  list --org ORG [--json]
                        The organization's keys, newest first (no secrets).
`,
  show: `  show ID [--json]      One key.
`,
  revoke: `  revoke ID [--json]    Revoke a key at once (D1, then a KV tombstone). Repeating it is harmless.
`,
  rotate: `  rotate ID [--grace 1h] [--json]
                        A new key with the same name, scopes, expiry, mode and limits (sharing
                        its rate-limit window and quota); the old one stops
                        now, or after the grace period (at most 7d).
`,
  "secret-status": `  secret-status [--json]
                        Active keys per KEY_HASH_SECRET version, and those not yet re-hashed
                        under the current one: when none are left, the previous secret can go.
`,
  usage: `  usage ID [--from ISO] [--to ISO] [--granularity hour|day] [--json]
                        Requests made with the key by status class, per hour (default:
                        the last 24 hours) or per day (default: the last 30 days).
`,
};

const OPTIONS_HELP = `Options (every command):
  --json                Print exactly one JSON document: the key object (with "key" for
                        create and rotate), {"items": [...]} for list, or for usage the
                        API's {key_id, granularity, from, to, buckets}.
  --remote              Work on Cloudflare's D1 and KV ([env.production] in wrangler.toml)
                        through wrangler; needs KEY_HASH_SECRET in the environment.
                        usage --remote reads Analytics Engine when ANALYTICS_ACCOUNT_ID
                        and ANALYTICS_API_TOKEN are set, else the D1 usage table.
  --persist-to DIR      Local state directory (default .wrangler/state, as npm start).
  --dev-vars PATH       Local secrets file (default .dev.vars).
  --help, -h            Help for the command given, or this text.
`;

const FOOTER = `Scopes: ${[...ALL_SCOPES].join(", ")}
Durations: 45s, 30m, 12h, 90d, 2w.
Exit status: 0 success, 2 bad usage (nothing changed), 1 any other failure.
More: docs/managing-keys.md.
`;

export const USAGE = `Manage API keys. Works on the local state of \`npm start\` (or \`wrangler dev\`) unless --remote.

Usage: npm run -s keys -- <command> [options]

Commands:
${Object.values(COMMAND_HELP).join("")}  help [COMMAND]        This text, or one command's.

${OPTIONS_HELP}
${FOOTER}`;

/** `keys <command> --help`: that command alone, with the options every command takes. */
export function commandUsage(topic: CommandName | null): string {
  if (topic === null) return USAGE;
  return `Usage: npm run -s keys -- ${topic} ...\n\n${COMMAND_HELP[topic]}\n${OPTIONS_HELP}\n${FOOTER}`;
}
