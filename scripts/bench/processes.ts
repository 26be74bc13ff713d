import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The two processes a bench spawns besides workerd: the origin and wrk. Both asynchronously, never spawnSync: the Node event loop hosting
 * Miniflare must never block, or workerd stops answering mid-run (docs/performance.md).
 */

const HERE = fileURLToPath(new URL(".", import.meta.url));

export function startOrigin(): Promise<{ url: string; stop(): void }> {
  const child = spawn(process.execPath, [join(HERE, "origin.ts")], { stdio: ["ignore", "pipe", "inherit"] });
  process.once("exit", () => child.kill("SIGTERM")); // also when the bench dies half-way
  return new Promise((resolve, reject) => {
    let buf = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => {
      buf += s;
      if (!buf.includes("\n")) return;
      const { port } = JSON.parse(buf.split("\n")[0]!) as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGTERM") });
    });
    child.once("exit", (code) => reject(new Error(`bench origin exited (${code}) before listening`)));
    child.once("error", reject);
  });
}

/** wrk is required: autocannon runs in Node on the same 2 cores and has 1 ms latency resolution. */
export const wrkOnPath = () => (process.env.PATH ?? "").split(delimiter).some((dir) => dir && existsSync(join(dir, "wrk")));

export type LoadSpec = {
  url: string;
  method: string;
  headers: Record<string, string>;
  connections: number;
  durationS: number;
  bodyFile?: string;
};

export interface LoadResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Statuses outside 2xx/3xx. */
  non2xx: number;
  failures: number;
}

export function runWrk(spec: LoadSpec): Promise<LoadResult> {
  const args = ["-t1", `-c${spec.connections}`, `-d${spec.durationS}s`, "--timeout", "10s", "-s", join(HERE, "wrk.lua")];
  for (const [k, v] of Object.entries(spec.headers)) args.push("-H", `${k}: ${v}`);
  args.push(spec.url);
  const env = { ...process.env, BENCH_METHOD: spec.method, BENCH_BODY_FILE: spec.bodyFile ?? "" };
  return new Promise((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"], env });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.once("error", reject);
    child.once("close", (code) => {
      const line = out.split("\n").find((l) => l.startsWith("BENCH_RESULT "));
      if (code !== 0 || !line) return reject(new Error(`wrk failed (exit ${code}): ${out.slice(0, 500)}`));
      const j = JSON.parse(line.slice("BENCH_RESULT ".length)) as Record<string, number>;
      const requests = j.requests ?? 0;
      resolve({
        requests,
        rps: requests / ((j.durationUs ?? 1) / 1e6),
        p50Ms: (j.p50Us ?? NaN) / 1000,
        p99Ms: (j.p99Us ?? NaN) / 1000,
        non2xx: j.non2xx ?? 0,
        failures: (j.socketErrors ?? 0) + (j.timeouts ?? 0),
      });
    });
  });
}
