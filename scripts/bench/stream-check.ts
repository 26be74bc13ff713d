import { request } from "node:http";
import { RssSampler, rssMiB } from "./procstat.ts";

/**
 * Does workerd's memory grow with body size? One request at a time, bodies of
 * growing size up and down through a Worker, sampling workerd's RSS every
 * 20 ms: a Worker that streams stays flat, one that buffers grows by about the
 * body size (or more) per request in flight.
 */

export interface StreamCheck {
  target: string;
  direction: "request" | "response";
  bytes: number;
  status: number;
  seconds: number;
  /** Peak workerd RSS during the request minus RSS just before it. */
  rssGrowthMiB: number | null;
}

const CHUNK = Buffer.alloc(64 * 1024, "u");

function send(url: string, headers: Record<string, string>, direction: "request" | "response", bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(direction === "response" ? `${url}?bytes=${bytes}` : url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: direction === "request" ? "POST" : "GET",
        headers: direction === "request" ? { ...headers, "content-type": "application/octet-stream", "content-length": String(bytes) } : headers,
      },
      (res) => {
        res.on("data", () => {});
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.setTimeout(120_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.on("error", reject);
    if (direction === "response") {
      req.end();
      return;
    }
    let left = bytes;
    const pump = (): void => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!req.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

export async function streamCheck(
  workerdPid: number | null,
  targets: { name: string; requestUrl: string; responseUrl: string; headers: Record<string, string> }[],
  sizesMiB: readonly number[],
): Promise<StreamCheck[]> {
  const out: StreamCheck[] = [];
  for (const direction of ["request", "response"] as const) {
    for (const bytes of sizesMiB.map((m) => m * 1024 * 1024)) {
      for (const t of targets) {
        const before = rssMiB(workerdPid);
        const sampler = new RssSampler(workerdPid);
        sampler.start(20);
        const t0 = performance.now();
        const status = await send(direction === "request" ? t.requestUrl : t.responseUrl, t.headers, direction, bytes);
        const seconds = (performance.now() - t0) / 1000;
        const peak = sampler.stop();
        out.push({
          target: t.name,
          direction,
          bytes,
          status,
          seconds,
          rssGrowthMiB: before === null || peak === null ? null : Math.max(0, peak - before),
        });
      }
    }
  }
  return out;
}
