import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { cpuMs } from "./procstat.ts";

/**
 * The load generator, always in its own process and spawned asynchronously:
 * the Node event loop hosting Miniflare must never block (docs/performance.md).
 *
 * - wrk (C, one thread by default): microsecond latency percentiles and little
 *   CPU, which matters on a 2-core machine. `apt-get install -y wrk`.
 * - autocannon (npm devDependency, runs in Node): the fallback when wrk is
 *   missing. It needs more CPU per request and its latency histogram has
 *   millisecond resolution, so sub-millisecond differences do not show.
 */

export type LoadGenName = "wrk" | "autocannon";

export interface LoadSpec {
  url: string;
  method: string;
  headers: Record<string, string>;
  bodyFile?: string;
  /** One key per line: each request uses the next key once (wrk only). */
  keysFile?: string;
  connections: number;
  durationS: number;
  threads: number;
}

export interface LoadResult {
  requests: number;
  durationS: number;
  rps: number;
  latencyMs: { p50: number; p90: number | null; p99: number; mean: number; max: number };
  /** Responses outside 2xx/3xx (wrk), or outside 2xx (autocannon). */
  non2xx: number;
  socketErrors: number;
  timeouts: number;
  bytesRead: number;
  keysReused: number;
  /** CPU milliseconds the load generator itself used. */
  cpuMs: number | null;
}

const HERE = fileURLToPath(new URL(".", import.meta.url));
const WRK_SCRIPT = join(HERE, "wrk.lua");

export function findOnPath(bin: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return null;
}

export function resolveLoadGen(choice: "auto" | LoadGenName): LoadGenName {
  if (choice !== "auto") return choice;
  return findOnPath("wrk") ? "wrk" : "autocannon";
}

export async function loadGenVersion(name: LoadGenName): Promise<string> {
  if (name === "autocannon") {
    const require = createRequire(import.meta.url);
    return (require("autocannon/package.json") as { version: string }).version;
  }
  const { stdout, stderr } = await runProcess("wrk", ["--version"], {});
  return /wrk\s+(\S+)/.exec(stdout + stderr)?.[1] ?? "unknown";
}

interface ProcessOutput {
  code: number;
  stdout: string;
  stderr: string;
  cpuMs: number | null;
}

/** Spawns and waits without blocking; samples the child's CPU time just before it exits. */
function runProcess(cmd: string, args: readonly string[], env: Record<string, string>, sampleCpu = false): Promise<ProcessOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    let lastCpu: number | null = null;
    const timer = sampleCpu && child.pid !== undefined ? setInterval(() => (lastCpu = cpuMs(child.pid ?? null) ?? lastCpu), 100) : null;
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      stdout += s;
      // wrk prints its result from done(), just before exiting: the last moment its /proc entry is readable.
      if (sampleCpu && s.includes("BENCH_RESULT")) lastCpu = cpuMs(child.pid ?? null) ?? lastCpu;
    });
    child.stderr.setEncoding("utf8").on("data", (s: string) => (stderr += s));
    child.once("error", (err) => {
      if (timer) clearInterval(timer);
      reject(err);
    });
    child.once("close", (code) => {
      if (timer) clearInterval(timer);
      resolve({ code: code ?? 1, stdout, stderr, cpuMs: lastCpu });
    });
  });
}

interface WrkJson {
  durationUs: number;
  requests: number;
  bytes: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latencyUs: { mean: number; max: number; p50: number; p90: number; p99: number };
  keysReused: number;
}

async function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const args = [
    `-t${spec.threads}`,
    `-c${spec.connections}`,
    `-d${spec.durationS}s`,
    "--timeout",
    "10s",
    "-s",
    WRK_SCRIPT,
  ];
  for (const [k, v] of Object.entries(spec.headers)) args.push("-H", `${k}: ${v}`);
  args.push(spec.url);
  const out = await runProcess(
    "wrk",
    args,
    {
      BENCH_METHOD: spec.method,
      BENCH_BODY_FILE: spec.bodyFile ?? "",
      BENCH_KEYS_FILE: spec.keysFile ?? "",
      BENCH_THREADS: String(spec.threads),
    },
    true,
  );
  const line = out.stdout.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
  if (out.code !== 0 || !line) throw new Error(`wrk failed (exit ${out.code}): ${out.stderr || out.stdout}`);
  const j = JSON.parse(line.slice("BENCH_RESULT ".length)) as WrkJson;
  const durationS = j.durationUs / 1e6;
  return {
    requests: j.requests,
    durationS,
    rps: j.requests / durationS,
    latencyMs: {
      p50: j.latencyUs.p50 / 1000,
      p90: j.latencyUs.p90 / 1000,
      p99: j.latencyUs.p99 / 1000,
      mean: j.latencyUs.mean / 1000,
      max: j.latencyUs.max / 1000,
    },
    non2xx: j.errors.status,
    socketErrors: j.errors.connect + j.errors.read + j.errors.write,
    timeouts: j.errors.timeout,
    bytesRead: j.bytes,
    keysReused: j.keysReused,
    cpuMs: out.cpuMs,
  };
}

interface AutocannonJson {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  latency: { mean: number; max: number; p50: number; p90: number; p99: number };
  requests: { total: number };
  throughput: { total: number };
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  if (spec.keysFile) throw new Error("the distinct-keys row needs wrk (apt-get install -y wrk)");
  const require = createRequire(import.meta.url);
  const bin = join(require.resolve("autocannon/package.json"), "..", "autocannon.js");
  const args = [bin, "-j", "-c", String(spec.connections), "-d", String(spec.durationS), "-m", spec.method];
  if (spec.threads > 1) args.push("-w", String(spec.threads));
  for (const [k, v] of Object.entries(spec.headers)) args.push("-H", `${k}=${v}`);
  if (spec.bodyFile) args.push("-i", spec.bodyFile);
  args.push(spec.url);
  const out = await runProcess(process.execPath, args, {}, true);
  if (out.code !== 0) throw new Error(`autocannon failed (exit ${out.code}): ${out.stderr}`);
  const j = JSON.parse(out.stdout) as AutocannonJson;
  return {
    requests: j.requests.total,
    durationS: j.duration,
    rps: j.requests.total / j.duration,
    latencyMs: { p50: j.latency.p50, p90: j.latency.p90, p99: j.latency.p99, mean: j.latency.mean, max: j.latency.max },
    non2xx: j.non2xx,
    socketErrors: j.errors - j.timeouts,
    timeouts: j.timeouts,
    bytesRead: j.throughput.total,
    keysReused: 0,
    cpuMs: out.cpuMs,
  };
}

export function runLoad(name: LoadGenName, spec: LoadSpec): Promise<LoadResult> {
  return name === "wrk" ? runWrk(spec) : runAutocannon(spec);
}
