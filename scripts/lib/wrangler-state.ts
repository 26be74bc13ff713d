import type { KeyValueStore, SqlDatabase, SqlStatement } from "../../src/storage/ports.ts";
import { LocalStateError, runWrangler } from "./local-state.ts";

/**
 * D1 and KV through wrangler's own commands (`wrangler d1 execute`,
 * `wrangler kv key …`), for `keys --remote`: the same storage code runs
 * against Cloudflare without a Worker in between. `location` is `--remote`
 * in use; tests run the very same code with `--local --persist-to DIR`.
 */
export type WranglerLocation = { remote: true; env: string } | { remote: false; persistTo: string };

function locationArgs(loc: WranglerLocation): string[] {
  return loc.remote ? ["--remote", "--env", loc.env] : ["--local", "--persist-to", loc.persistTo];
}

/** SQLite literal for a bound value; anything but text, numbers and null is refused. */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string") {
    if (value.includes("\u0000")) throw new LocalStateError("NUL characters cannot be sent through wrangler d1 execute");
    return `'${value.replaceAll("'", "''")}'`;
  }
  throw new LocalStateError(`cannot send a ${typeof value} to D1 through wrangler`);
}

/** Replaces each `?` outside string literals with the next value. */
export function inlineParams(sql: string, values: readonly unknown[]): string {
  let out = "";
  let next = 0;
  let inString = false;
  for (const ch of sql) {
    if (ch === "'") inString = !inString;
    if (ch === "?" && !inString) {
      if (next >= values.length) throw new LocalStateError("more ? placeholders than values");
      out += sqlLiteral(values[next++]);
    } else out += ch;
  }
  if (next !== values.length) throw new LocalStateError("more values than ? placeholders");
  return out;
}

interface D1Result {
  results?: Record<string, unknown>[];
  success?: boolean;
}

async function execute(loc: WranglerLocation, sql: string): Promise<D1Result[]> {
  const r = await runWrangler(["d1", "execute", "DB", ...locationArgs(loc), "--json", "--yes", "--command", sql]);
  if (r.code !== 0) throw new LocalStateError(`wrangler d1 execute failed (exit ${r.code})`, r.stdout + r.stderr);
  const start = r.stdout.indexOf("[");
  try {
    return JSON.parse(r.stdout.slice(start)) as D1Result[];
  } catch {
    throw new LocalStateError("wrangler d1 execute printed no JSON", r.stdout + r.stderr);
  }
}

class WranglerStatement implements SqlStatement {
  readonly sql: string;
  readonly #loc: WranglerLocation;

  constructor(loc: WranglerLocation, sql: string) {
    this.#loc = loc;
    this.sql = sql;
  }

  bind(...values: unknown[]): WranglerStatement {
    return new WranglerStatement(this.#loc, inlineParams(this.sql, values));
  }

  async first<T>(): Promise<T | null> {
    const [r] = await execute(this.#loc, this.sql);
    return (r?.results?.[0] as T | undefined) ?? null;
  }

  async all<T>(): Promise<{ results: T[] }> {
    const [r] = await execute(this.#loc, this.sql);
    return { results: (r?.results ?? []) as T[] };
  }

  async run(): Promise<unknown> {
    return execute(this.#loc, this.sql);
  }
}

export function wranglerD1(loc: WranglerLocation): SqlDatabase {
  return {
    prepare: (sql) => new WranglerStatement(loc, sql),
    // One command, statements run in order; D1 runs a multi-statement command as one batch.
    async batch(statements) {
      const sql = statements.map((s) => (s instanceof WranglerStatement ? s.sql : "")).join(";\n");
      if (sql.includes(";\n;")) throw new LocalStateError("batch mixes statements from another database");
      return execute(loc, sql);
    },
  };
}

export function wranglerKv(loc: WranglerLocation): KeyValueStore {
  const base = (verb: string, key: string) => ["kv", "key", verb, key, "--binding", "KEYS_CACHE", ...locationArgs(loc)];
  return {
    async get(key) {
      const r = await runWrangler([...base("get", key), "--text"]);
      if (r.code !== 0) return null;
      try {
        return JSON.parse(r.stdout) as unknown;
      } catch {
        return null;
      }
    },
    async put(key, value, options) {
      const ttl = options?.expirationTtl === undefined ? [] : ["--ttl", String(options.expirationTtl)];
      const r = await runWrangler([...base("put", key), value, ...ttl]);
      if (r.code !== 0) throw new LocalStateError(`wrangler kv key put failed (exit ${r.code})`, r.stdout + r.stderr);
    },
    async delete(key) {
      const r = await runWrangler(base("delete", key));
      if (r.code !== 0) throw new LocalStateError(`wrangler kv key delete failed (exit ${r.code})`, r.stdout + r.stderr);
    },
  };
}
