import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { PROJECT_DIR } from "../lib/local-state.ts";
import { httpRequest } from "./http.ts";
import { cpuMs, findChild } from "./procstat.ts";
import { runWrk, startOrigin, type LoadSpec } from "./processes.ts";
import { selectRows, SEQUENTIAL_ROWS, TARGETS, type Measured, type Row, type RowResult } from "./rows.ts";
import { startRuntime, type BenchRuntime, type WorkerSpec } from "./runtime.ts";
import { applyMigrations, gatewayVars, seedKeys, storesOf } from "./seed.ts";

/**
 * One whole bench: a fresh origin and Miniflare, every row side by side under wrk, then the one-connection rows, then the targets
 * (scripts/bench/rows.ts).
 */

/** seqS: seconds per one-connection row (0 skips them); rows: `--rows`. */
export type RunOptions = { durationS: number; warmupS: number; connections: number; seqS: number; rows?: string[] };

export interface RunReport {
  startedAt: string;
  source: string;
  settings: RunOptions & { runtime: Record<string, string> };
  rows: RowResult[];
  sequential: RowResult[];
  targets: { id: string; value: number | null }[];
  workerErrors: string[];
}

const FLOORS = "bench/workers/floors.ts";

function workers(originUrl: string, gateway: Record<string, string>): WorkerSpec[] {
  const floor = (name: string) => ({ name, entry: FLOORS, plain: { FLOOR: name, ORIGIN_URL: originUrl } });
  return [
    floor("pass"),
    floor("hello"),
    floor("pass-log"),
    floor("hello-log"),
    floor("forward-log"),
    { name: "pass-kv", entry: FLOORS, gateway: { FLOOR: "pass-kv", ORIGIN_URL: originUrl } },
    { name: "gateway", entry: "src/index.ts", gateway },
    // A TTL of 0 keeps the isolate's cache empty (src/memory/ttl-cache.ts): every key is read from KV.
    { name: "gateway-kv", entry: "src/index.ts", gateway: { ...gateway, MEMORY_CACHE_TTL_MS: "0" } },
  ];
}

function sourceState(): string {
  const git = (...args: string[]) => execFileSync("git", args, { cwd: PROJECT_DIR, encoding: "utf8" }).trim();
  try {
    return git("rev-parse", "--short", "HEAD") + (git("status", "--porcelain", "--", "src") === "" ? "" : " + uncommitted src/");
  } catch {
    return "unknown";
  }
}

export async function runBench(o: RunOptions, log: (line: string) => void): Promise<RunReport> {
  const startedAt = new Date().toISOString();
  const source = sourceState(); // before Miniflare starts: execFileSync blocks the event loop
  const rows = selectRows(o.rows);
  const scratch = await mkdtemp(join(tmpdir(), "ats-gateway-bench-files-"));
  const origin = await startOrigin();
  const workerErrors: string[] = [];
  const vars = gatewayVars(origin.url);
  let started: BenchRuntime | null = null;
  try {
    // pass-kv binds wrangler.toml's KeyMeter namespace without exporting its class: not an error.
    const rt = (started = await startRuntime(workers(origin.url, vars), (level, message) => {
      if ((level === "error" || level === "warn") && !message.includes('class "KeyMeter"') && workerErrors.length < 20)
        workerErrors.push(`${level}: ${message.slice(0, 300)}`);
    }));
    const { db, kv } = await storesOf(rt.mf, "gateway");
    await applyMigrations(db);
    const auth = await seedKeys(db, kv, vars.KEY_HASH_SECRET!);
    const workerd = findChild(process.pid, "workerd");
    const urlOf = (row: Row) => {
      const t = row.target === "origin" ? { url: origin.url, headers: {} } : rt.targets.get(row.target)!;
      return { url: t.url + row.path, headers: t.headers };
    };
    // Spend the over-limit key's one request, so row 6r measures refusals only.
    const gw = rt.targets.get("gateway")!;
    await httpRequest(`${gw.url}/api/v1/candidates`, { headers: { ...gw.headers, ...auth.overlimit } });
    const body = Buffer.alloc(1024 * 1024, "y");
    const bodyFile = join(scratch, "body-1mib.bin");
    await writeFile(bodyFile, body);

    const measure = async (row: Row, connections: number, durationS: number): Promise<RowResult> => {
      const { url, headers: routing } = urlOf(row);
      const headers = { ...routing, ...auth[row.auth] };
      const spec: LoadSpec = { url, method: row.method, headers, connections, durationS, bodyFile: row.largeBody ? bodyFile : undefined };
      // A probe: the row must answer what it claims to measure.
      const probe = await httpRequest(url, { method: row.method, headers, body: row.largeBody ? body : undefined });
      if (probe.status !== row.expect)
        throw new Error(`row ${row.id}: expected ${row.expect}, got ${probe.status}: ${probe.body.toString("utf8").slice(0, 300)}`);
      if (o.warmupS > 0) await runWrk({ ...spec, durationS: o.warmupS });
      const cpu0 = cpuMs(workerd);
      const load = await runWrk(spec);
      const cpu1 = cpuMs(workerd);
      const unexpected = (row.expect < 400 ? load.non2xx : load.requests - load.non2xx) + load.failures;
      const cpuUs =
        row.target === "origin" || cpu0 === null || cpu1 === null || !load.requests ? null : ((cpu1 - cpu0) * 1000) / load.requests;
      log(
        `  ${row.id.padEnd(4)} ${load.rps.toFixed(0).padStart(6)} req/s  p50 ${load.p50Ms.toFixed(3)} ms  workerd ${cpuUs?.toFixed(0) ?? "-"} µs/req  ${row.label}`,
      );
      if (unexpected > 0) log(`  WARNING: ${unexpected} responses not ${row.expect}-class or failed: row ${row.id} is not valid`);
      return { id: row.id, rps: load.rps, p50Ms: load.p50Ms, p99Ms: load.p99Ms, cpuUs, requests: load.requests, unexpected };
    };

    const measured = { rows: new Map<string, RowResult>(), sequential: new Map<string, RowResult>() } satisfies Measured;
    log(`rows: wrk, ${o.connections} connections, ${o.warmupS} s warm-up + ${o.durationS} s each`);
    for (const row of rows) measured.rows.set(row.id, await measure(row, o.connections, o.durationS));
    if (o.seqS > 0) {
      log(`one connection, one request at a time: ${o.seqS} s each (ids with an s)`);
      for (const row of rows.filter((r) => SEQUENTIAL_ROWS.includes(r.id))) {
        measured.sequential.set(row.id, await measure({ ...row, id: `s${row.id}` }, 1, o.seqS));
      }
    }
    return {
      startedAt,
      source,
      settings: { ...o, runtime: { ...rt.versions, node: process.version, cpus: String(availableParallelism()) } },
      rows: [...measured.rows.values()],
      sequential: [...measured.sequential.values()],
      targets: TARGETS.map((t) => ({ id: t.id, value: t.value(measured) })),
      workerErrors,
    };
  } finally {
    await started?.dispose();
    origin.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
