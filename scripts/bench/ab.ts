import { httpRequest } from "./http.ts";
import { cpuMs, findChild } from "./procstat.ts";
import { startOrigin } from "./processes.ts";
import { startRuntime, type BenchRuntime } from "./runtime.ts";
import { applyMigrations, gatewayVars, seedKeys, storesOf } from "./seed.ts";

/**
 * `npm run bench -- --ab floor,gateway`: interleaved A/B inside one isolate (bench/workers/ab.ts). Each pair runs every variant N times,
 * alternating the order (ABBA) so a drifting machine does not favour one; workerd's CPU time from /proc around each call, per request.
 * Differences are per pair, from the first variant: their median, and their spread without the extreme pair at each end. Steadier than
 * throughput, which moves ±20%; docs/performance.md says how far.
 */

export type AbOptions = { variants: string[]; pairs: number; n: number };
/** Per pair, µs per request. */
export type AbResult = { variant: string; cpuUs: number[]; wallUs: number[] };

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function runAb(o: AbOptions, log: (line: string) => void): Promise<{ results: AbResult[]; table: string }> {
  const origin = await startOrigin();
  const gateway = gatewayVars(origin.url);
  let rt: BenchRuntime | null = null;
  try {
    rt = await startRuntime([{ name: "ab", entry: "bench/workers/ab.ts", gateway }], () => {});
    const { db, kv } = await storesOf(rt.mf, "ab");
    await applyMigrations(db);
    const key = (await seedKeys(db, kv, gateway.KEY_HASH_SECRET!)).main.authorization!.slice("Bearer ".length);
    const workerd = findChild(process.pid, "workerd");
    const { url, headers } = rt.targets.get("ab")!;
    const call = async (variant: string, n: number) => {
      const c0 = cpuMs(workerd);
      const w0 = performance.now();
      const query = `${url}/?v=${encodeURIComponent(variant)}&n=${n}`;
      const res = await httpRequest(query, { headers: { ...headers, "x-bench-key": key }, timeoutMs: 600_000 });
      const c1 = cpuMs(workerd);
      const body = res.body.toString("utf8");
      if (res.status !== 200) throw new Error(`--ab ${variant}: ${body}`);
      const { unexpected } = JSON.parse(body) as { unexpected: number };
      if (unexpected > 0) throw new Error(`--ab ${variant}: ${unexpected} of ${n} responses had an unexpected status`);
      return { cpuUs: c0 === null || c1 === null ? NaN : ((c1 - c0) * 1000) / n, wallUs: ((performance.now() - w0) * 1000) / n };
    };
    log(`warming up ${o.variants.join(", ")}…`);
    for (const v of o.variants) await call(v, Math.min(300, o.n));
    const results = o.variants.map((variant): AbResult => ({ variant, cpuUs: [], wallUs: [] }));
    for (let p = 0; p < o.pairs; p++) {
      for (const r of p % 2 === 0 ? results : [...results].reverse()) {
        const x = await call(r.variant, o.n);
        r.cpuUs.push(x.cpuUs);
        r.wallUs.push(x.wallUs);
      }
      log(`pair ${p + 1}/${o.pairs}: ${results.map((r) => `${r.variant} ${r.cpuUs.at(-1)!.toFixed(0)} µs`).join(", ")}`);
    }
    const base = results[0]!;
    const lines = results.map((r) => {
      const diffs = r.cpuUs.map((c, i) => c - base.cpuUs[i]!).sort((a, b) => a - b);
      const spread = diffs.length > 2 ? diffs.slice(1, -1) : diffs;
      const delta = `${median(diffs) >= 0 ? "+" : ""}${median(diffs).toFixed(0)} µs [${spread[0]!.toFixed(0)}, ${spread.at(-1)!.toFixed(0)}]`;
      return `| ${r.variant} | ${median(r.cpuUs).toFixed(0)} | ${median(r.wallUs).toFixed(0)} | ${r === base ? "" : delta} |`;
    });
    const table = [
      `${o.pairs} pairs × ${o.n} requests per variant, one isolate, workerd CPU from /proc`,
      "",
      `| variant | CPU µs/req (median) | wall µs/req (median) | CPU vs ${base.variant}: median of per-pair differences [spread] |`,
      "|---|---:|---:|---:|",
      ...lines,
    ].join("\n");
    return { results, table: `${table}\n` };
  } finally {
    await rt?.dispose();
    origin.stop();
  }
}
