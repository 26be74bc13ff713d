import { parseArgs } from "node:util";
import { z } from "zod";
import { ALL_SCOPES } from "../../src/auth/scopes.ts";
import { KeyModeSchema, KeyName, MAX_GRACE_SECONDS } from "../../src/api/schemas.ts";
import type { KeyMode } from "../../src/keys/format.ts";

/**
 * The key command line's grammar (DESIGN §8), parsed and validated before
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

const OrgId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "--org must be 1-64 letters, digits, '.', '_' or '-'");
const KeyId = z.string().regex(/^key_[0-9A-Za-z]{20}$/, "the key id looks like key_ followed by 20 letters and digits");

export type Command =
  | { name: "help" }
  | { name: "create"; org: string; keyName: string; scopes: string[]; expiresAt: string | null; mode: KeyMode; json: boolean }
  | { name: "list"; org: string; json: boolean }
  | { name: "show"; id: string; json: boolean }
  | { name: "revoke"; id: string; json: boolean }
  | { name: "rotate"; id: string; graceSeconds: number; json: boolean };

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
  grace: { type: "string" },
  mode: { type: "string" },
  json: { type: "boolean" },
  remote: { type: "boolean" },
  "persist-to": { type: "string" },
  "dev-vars": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

const ALLOWED: Record<Exclude<Command["name"], "help">, readonly string[]> = {
  create: ["org", "name", "scopes", "expires-in", "expires-at", "mode", "json"],
  list: ["org", "json"],
  show: ["json"],
  revoke: ["json"],
  rotate: ["grace", "json"],
};
const COMMON = ["remote", "persist-to", "dev-vars", "help"];

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
  const scopes = text.split(",").map((s) => s.trim()).filter(Boolean);
  if (scopes.length === 0) throw new UsageError("--scopes needs at least one scope, e.g. --scopes candidates:read,jobs:read");
  const unknown = scopes.filter((s) => !ALL_SCOPES.has(s));
  if (unknown.length > 0) {
    throw new UsageError(`unknown scope ${unknown.map((s) => `"${s}"`).join(", ")}; valid scopes: ${[...ALL_SCOPES].join(", ")}`);
  }
  if (new Set(scopes).size !== scopes.length) throw new UsageError("--scopes must not repeat a scope");
  return scopes;
}

function parseExpiry(expiresIn: string | undefined, expiresAt: string | undefined, now: number): string | null {
  if (expiresIn !== undefined && expiresAt !== undefined) throw new UsageError("give --expires-in or --expires-at, not both");
  if (expiresIn !== undefined) return new Date(now + parseDuration(expiresIn, "--expires-in") * 1000).toISOString();
  if (expiresAt === undefined) return null;
  const at = check(z.iso.datetime({ offset: true, error: "--expires-at must be an ISO-8601 date-time, e.g. 2027-01-31T00:00:00Z" }), expiresAt);
  if (Date.parse(at) <= now) throw new UsageError("--expires-at must be in the future");
  return new Date(at).toISOString();
}

export function parseInvocation(argv: readonly string[], now = Date.now()): Invocation {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values: v, positionals } = parsed;
  const common = { remote: v.remote ?? false, persistTo: v["persist-to"], devVars: v["dev-vars"] };
  const [name, ...rest] = positionals;
  if (name === undefined || name === "help" || v.help) return { command: { name: "help" }, ...common };
  if (!(name in ALLOWED)) throw new UsageError(`unknown command "${name}"`);
  const cmd = name as keyof typeof ALLOWED;
  const given = Object.keys(v).filter((k) => v[k as keyof typeof v] !== undefined);
  const stray = given.filter((k) => !ALLOWED[cmd].includes(k) && !COMMON.includes(k));
  if (stray.length > 0) throw new UsageError(`${cmd} does not take ${stray.map((s) => `--${s}`).join(", ")}`);
  if (common.remote && common.persistTo !== undefined) throw new UsageError("--persist-to is for local state; it does not go with --remote");
  const json = v.json ?? false;

  const wantsId = cmd === "show" || cmd === "revoke" || cmd === "rotate";
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
          mode: v.mode === undefined ? "live" : check(KeyModeSchema, v.mode),
          json,
        },
        ...common,
      };
    case "list":
      return { command: { name: "list", org: check(OrgId, required(v.org, "--org")), json }, ...common };
    case "rotate": {
      const graceSeconds = v.grace === undefined ? 0 : parseDuration(v.grace, "--grace");
      if (graceSeconds > MAX_GRACE_SECONDS) throw new UsageError("--grace must be at most 7d");
      return { command: { name: "rotate", id: check(KeyId, rest[0]), graceSeconds, json }, ...common };
    }
    default:
      return { command: { name: cmd, id: check(KeyId, rest[0]), json }, ...common };
  }
}

export const USAGE = `Manage API keys (DESIGN §8). Works on the local state of \`npm start\` unless --remote.

Usage: npm run -s keys -- <command> [options]

Commands:
  create --org ORG --name NAME --scopes a,b [--expires-in 90d | --expires-at ISO] [--mode live|test] [--json]
                        Create a key. The key is printed once and never again.
                        --mode test makes a pk_test_ key, whose requests go to TEST_ORIGIN_URL.
  list --org ORG [--json]
                        The organization's keys, newest first (no secrets).
  show ID [--json]      One key.
  revoke ID [--json]    Revoke a key at once (D1, then a KV tombstone). Repeating it is harmless.
  rotate ID [--grace 1h] [--json]
                        A new key with the same name, scopes, expiry and mode; the old one stops
                        now, or after the grace period (at most 7d).
  help                  This text.

Options:
  --json                Print exactly one JSON document: the key object (with "key" for
                        create and rotate), or {"items": [...]} for list.
  --remote              Work on Cloudflare's D1 and KV ([env.production] in wrangler.toml)
                        through wrangler; needs KEY_HASH_SECRET in the environment.
  --persist-to DIR      Local state directory (default .wrangler/state, as npm start).
  --dev-vars PATH       Local secrets file (default .dev.vars).

Scopes: ${[...ALL_SCOPES].join(", ")}
Durations: 45s, 30m, 12h, 90d, 2w.
Exit status: 0 success, 2 bad usage (nothing changed), 1 any other failure.
`;
