import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The benchmark's origin: a tiny Node HTTP server, run by `npm run bench` as
 * its own process (its own event loop, not the one hosting Miniflare).
 *
 *   GET  /api/v1/<anything>        small JSON list (about 300 bytes)
 *   GET  /api/v1/<anything>/large  1 MiB body (BENCH_LARGE_BYTES); `?bytes=N` streams N bytes instead
 *   POST|PUT|PATCH /api/v1/…       drains the body, answers its size
 *   GET  /__bench/stats            requests and body bytes received so far
 *
 * Prints `{"port":N}` on stdout once listening on 127.0.0.1.
 *
 *   node scripts/bench/origin.ts [--port N]
 */

const LARGE_BYTES = Number(process.env.BENCH_LARGE_BYTES ?? String(1024 * 1024));

const SMALL = Buffer.from(
  JSON.stringify({
    success: true,
    data: [
      { id: "cand_001", name: "Ada Lovelace", stage: "interview" },
      { id: "cand_002", name: "Grace Hopper", stage: "offer" },
      { id: "cand_003", name: "Alan Turing", stage: "screening" },
    ],
    errors: [],
    meta: { next_cursor: null },
  }),
);
const LARGE = Buffer.alloc(LARGE_BYTES, "x");
const JSON_TYPE = "application/json; charset=utf-8";

const stats = { requests: 0, bodyBytes: 0, largeResponses: 0, bodyRequests: 0 };

function reply(res: ServerResponse, body: Buffer, type = JSON_TYPE): void {
  res.writeHead(200, { "content-type": type, "content-length": body.length });
  res.end(body);
}

const CHUNK = Buffer.alloc(64 * 1024, "z");

/** Writes `total` bytes in 64 KiB chunks, waiting for the socket to drain: memory stays flat. */
function streamBytes(res: ServerResponse, total: number): void {
  res.writeHead(200, { "content-type": "application/octet-stream", "content-length": total });
  let left = total;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) {
        res.once("drain", pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  if (url === "/__bench/stats") {
    reply(res, Buffer.from(JSON.stringify(stats)));
    return;
  }
  stats.requests++;
  if (req.method === "GET" || req.method === "HEAD") {
    req.resume();
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    if (path.endsWith("/large")) {
      stats.largeResponses++;
      const m = /[?&]bytes=(\d+)/.exec(url);
      if (m) streamBytes(res, Number(m[1]));
      else reply(res, LARGE, "application/octet-stream");
    } else {
      reply(res, SMALL);
    }
    return;
  }
  let received = 0;
  req.on("data", (chunk: Buffer) => {
    received += chunk.length;
  });
  req.on("end", () => {
    stats.bodyBytes += received;
    stats.bodyRequests++;
    reply(res, Buffer.from(`{"success":true,"data":{"received":${received}},"errors":[]}`));
  });
}

function parsePort(argv: readonly string[]): number {
  const i = argv.indexOf("--port");
  if (i === -1) return 0;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new Error(`--port needs a port number, got ${argv[i + 1]}`);
  return n;
}

const server = createServer({ keepAlive: true }, handle);
// workerd keeps its upstream connections open between requests: do not close them mid-run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.requestTimeout = 0;
server.listen({ host: "127.0.0.1", port: parsePort(process.argv.slice(2)) }, () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
