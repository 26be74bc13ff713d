import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_DIR } from "../lib/local-state.ts";
import { httpRequest } from "./http.ts";
import { startRuntime } from "./runtime.ts";
import { applyMigrations, gatewayVars, storesOf } from "./seed.ts";

/**
 * `npm run bench:scale`: how a key's first lookup (the D1 query, and the
 * whole memory → KV → D1 chain) grows with the number of keys in D1, timed
 * inside workerd by bench/workers/scale.ts.
 */

const USAGE = "Usage: npm run bench:scale -- [--keys 10,10000,1000000] [--sample 400] [--out DIR]\n";
const FILL_CHUNK = 100_000;

function parse(): { keys: number[]; sample: number; out: string } {
  const { values } = parseArgs({
    options: {
      keys: { type: "string", default: "10,10000,1000000" },
      sample: { type: "string", default: "400" },
      out: { type: "string", default: join(PROJECT_DIR, "bench", "results") },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  const keys = values.keys.split(",").map(Number);
  const sample = Number(values.sample);
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (!keys.every((n) => Number.isInteger(n) && n >= 0 && n <= 10_000_000) || !Number.isInteger(sample) || sample < 2 || sample > 100_000) {
    throw new Error(`--keys needs whole numbers up to 10000000 and --sample one from 2 to 100000\n${USAGE}`);
  }
  return { keys: keys.sort((a, b) => a - b), sample, out: values.out };
}

async function main(): Promise<void> {
  const o = parse();
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const gateway = gatewayVars("http://127.0.0.1:9");
  const rt = await startRuntime("direct", [{ name: "scale", entry: "bench/workers/scale.ts", gateway }], () => {});
  try {
    await applyMigrations((await storesOf(rt.mf, "scale")).db);
    const base = rt.targets.get("scale")!.url;
    const call = async <T>(method: string, path: string, body?: string): Promise<T> => {
      const res = await httpRequest(base + path, { method, body, timeoutMs: 900_000 });
      const text = res.body.toString("utf8");
      if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
      return (path.startsWith("/mint") ? text : JSON.parse(text)) as T;
    };
    const d1: { rows: number; d1QueryFound: number; firstLookupThroughTiers: number; d1QueryUnknown: number }[] = [];
    let rows = 0;
    for (const target of o.keys) {
      for (; rows < target; rows += Math.min(FILL_CHUNK, target - rows))
        await call("POST", `/fill?from=${rows + 1}&n=${Math.min(FILL_CHUNK, target - rows)}`);
      const keys = await call<string>("POST", `/mint?n=${o.sample}`);
      rows += o.sample;
      log(`D1 with ${rows.toLocaleString("en-US")} keys: ${o.sample} first lookups…`);
      d1.push({ rows, ...(await call<Omit<(typeof d1)[number], "rows">>("POST", "/keys", keys)) });
    }
    const f = (n: number | undefined, d: number) =>
      (n ?? NaN).toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
    const out = [
      "| keys in D1 | D1 query, key found (µs) | first lookup, memory → KV → D1 (µs) | D1 query, unknown key (µs) |",
      "|---:|---:|---:|---:|",
      ...d1.map((x) => `| ${f(x.rows, 0)} | ${f(x.d1QueryFound, 0)} | ${f(x.firstLookupThroughTiers, 0)} | ${f(x.d1QueryUnknown, 0)} |`),
    ].join("\n");
    await mkdir(o.out, { recursive: true });
    await writeFile(join(o.out, "scale.json"), `${JSON.stringify({ startedAt: new Date().toISOString(), ...rt.versions, d1 }, null, 2)}\n`);
    process.stdout.write(`${out}\n\nJSON: ${relative(process.cwd(), join(o.out, "scale.json"))}\n`);
  } finally {
    await rt.dispose();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:scale: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
