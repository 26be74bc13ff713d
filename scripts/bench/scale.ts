import { httpRequest } from "./http.ts";
import { startRuntime } from "./runtime.ts";
import { applyMigrations, gatewayVars, storesOf } from "./seed.ts";

/**
 * `npm run bench:scale` (`npm run bench -- --scale`): how a key's first lookup (the D1 query, and the whole memory → KV → D1 chain) grows
 * with the number of keys in D1, timed inside workerd by bench/workers/scale.ts.
 */

const FILL_CHUNK = 100_000;

/** keys: sizes of the D1 table, ascending; sample: keys looked up at each size. */
export type ScaleOptions = { keys: number[]; sample: number };

export async function runScale(o: ScaleOptions, log: (line: string) => void): Promise<{ d1: Record<string, number>[]; table: string }> {
  const gateway = gatewayVars("http://127.0.0.1:9");
  const rt = await startRuntime([{ name: "scale", entry: "bench/workers/scale.ts", gateway }], () => {});
  try {
    await applyMigrations((await storesOf(rt.mf, "scale")).db);
    const { url: base, headers } = rt.targets.get("scale")!;
    const call = async <T>(method: string, path: string, body?: string): Promise<T> => {
      const res = await httpRequest(base + path, { method, headers, body, timeoutMs: 900_000 });
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
    return { d1, table: `${out}\n` };
  } finally {
    await rt.dispose();
  }
}
