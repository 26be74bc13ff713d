import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { httpRequest } from "./http.ts";
import { applyMigrations, isSqlDatabase } from "./seed.ts";
import { startRuntime } from "./workers.ts";
import { PROJECT_DIR } from "../lib/local-state.ts";

/**
 * `npm run bench:scale [-- --keys 10,10000,1000000] [--sample 400] [--out FILE]`:
 * how cost grows with the number of keys in D1 (first lookup: the D1 query,
 * and the whole memory → KV → D1 chain), the memory cache's size (a memory
 * hit) and the route table's size (compile, match), each measured inside
 * workerd (bench/workers/scale.ts) in one Miniflare with local D1 and KV.
 * Body size is the main bench's streaming check (`npm run bench -- --stream 1,16,128`).
 */

interface Options {
  keys: number[];
  sample: number;
  out: string;
}

function parse(argv: readonly string[]): Options {
  const o: Options = { keys: [10, 10_000, 1_000_000], sample: 400, out: join(PROJECT_DIR, "bench", "results", "scale.json") };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    if (argv[i] === "--keys" && v) o.keys = v.split(",").map(Number);
    else if (argv[i] === "--sample" && v) o.sample = Number(v);
    else if (argv[i] === "--out" && v) o.out = v;
    else throw new Error(`usage: npm run bench:scale -- [--keys 10,10000,1000000] [--sample 400] [--out FILE]; not ${argv[i]}`);
    i++;
  }
  if (!o.keys.every((n) => Number.isInteger(n) && n >= 0) || !(o.sample >= 2)) throw new Error("--keys and --sample need whole numbers");
  o.keys.sort((a, b) => a - b);
  return o;
}

const FILL_CHUNK = 100_000;

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const rt = await startRuntime({
    via: "direct",
    workers: [
      {
        name: "scale",
        entry: "bench/workers/scale.ts",
        gatewayBindings: { ORIGIN_URL: "http://127.0.0.1:9", KEY_HASH_SECRET: randomBytes(48).toString("base64url") },
      },
    ],
    onLog: () => {},
  });
  try {
    const db = await rt.mf.getD1Database("DB", "scale");
    if (!isSqlDatabase(db)) throw new Error("wrangler.toml must bind D1 as DB");
    await applyMigrations(db);
    const base = rt.targets.get("scale")!.url;
    const call = async (method: string, path: string, body?: string): Promise<string> => {
      const res = await httpRequest(base + path, { method, body, timeoutMs: 900_000 });
      const text = res.body.toString("utf8");
      if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return text;
    };

    log("routes: compile and match with 10 … 10,000 patterns…");
    const routes = JSON.parse(await call("GET", "/routes")) as Record<string, unknown>;
    log("memory tier: authenticate() on a hit with 10 … 1,000,000 cached keys…");
    const memory = JSON.parse(await call("GET", "/memory")) as Record<string, unknown>;

    const d1: Record<string, unknown>[] = [];
    let rows = 0;
    let from = 1;
    for (const target of o.keys) {
      const t0 = performance.now();
      while (rows < target) {
        const n = Math.min(FILL_CHUNK, target - rows);
        const r = JSON.parse(await call("POST", `/fill?from=${from}&n=${n}`)) as { rows: number };
        from += n;
        rows = r.rows;
      }
      const fillS = (performance.now() - t0) / 1000;
      const keys = await call("POST", `/mint?n=${o.sample}`);
      rows += o.sample;
      log(`D1 with ${rows.toLocaleString("en-US")} keys (filled in ${fillS.toFixed(1)} s): ${o.sample} first lookups…`);
      const r = JSON.parse(await call("POST", "/keys", keys)) as Record<string, unknown>;
      d1.push({ rowsInD1: rows, filler: target, ...r });
    }

    const result = { startedAt: new Date().toISOString(), environment: { node: process.version, ...rt.versions }, routes, memory, d1 };
    await mkdir(dirname(o.out), { recursive: true });
    await writeFile(o.out, JSON.stringify(result, null, 2) + "\n");
    process.stdout.write(format(result));
    process.stdout.write(`\nJSON: ${relative(process.cwd(), o.out)}\n`);
  } finally {
    await rt.dispose();
  }
}

function format(r: { routes: Record<string, unknown>; memory: Record<string, unknown>; d1: Record<string, unknown>[] }): string {
  const f = (n: number, d = 1) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
  const out: string[] = [];
  out.push("| keys in D1 | D1 query, key found (µs, mean) | first lookup, memory → KV → D1 (µs, mean) | D1 query, unknown key (µs, mean) |");
  out.push("|---:|---:|---:|---:|");
  for (const x of r.d1) {
    out.push(
      `| ${(x.rowsInD1 as number).toLocaleString("en-US")} | ${f(x.d1QueryFound as number, 0)} | ${f(x.firstLookupThroughTiers as number, 0)} | ${f(x.d1QueryUnknown as number, 0)} |`,
    );
  }
  out.push("");
  out.push("| keys in the memory cache | authenticate(), memory hit, µs |");
  out.push("|---:|---:|");
  for (const [size, v] of Object.entries(r.memory)) out.push(`| ${Number(size).toLocaleString("en-US")} | ${f((v as { authenticateMicroseconds: number }).authenticateMicroseconds, 2)} |`);
  out.push("");
  out.push("| routes | compile ms | match µs: first / last / deep path / no route |");
  out.push("|---:|---:|---:|");
  for (const [size, v] of Object.entries(r.routes)) {
    const x = v as { compileMs: number; matchMicroseconds: Record<string, number> };
    const m = x.matchMicroseconds;
    out.push(`| ${Number(size).toLocaleString("en-US")} | ${f(x.compileMs, 1)} | ${[m.first, m.last, m.deep, m.miss].map((n) => f(n ?? NaN, 2)).join(" / ")} |`);
  }
  return out.join("\n") + "\n";
}

main().catch((err: unknown) => {
  console.error(`bench:scale: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
