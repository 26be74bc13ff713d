import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The bench's origin, its own process (its own event loop, not the one hosting Miniflare), on 127.0.0.1; prints `{"port":N}` once
 * listening. GET …/large: 1 MiB (rows 7c, 7d); other GETs: a small JSON list; other methods: drains the body and answers its size (rows 7a,
 * 7b).
 */

const SMALL = Buffer.from(
  '{"success":true,"data":[{"id":"cand_001","name":"Ada Lovelace","stage":"interview"},{"id":"cand_002","name":"Grace Hopper",' +
    '"stage":"offer"},{"id":"cand_003","name":"Alan Turing","stage":"screening"}],"errors":[],"meta":{"next_cursor":null}}',
);
const LARGE = Buffer.alloc(1024 * 1024, "x");

const server = createServer({ keepAlive: true }, (req, res) => {
  const reply = (body: Buffer, type: string) => res.writeHead(200, { "content-type": type, "content-length": body.length }).end(body);
  if (req.method === "GET" || req.method === "HEAD") {
    req.resume();
    if ((req.url ?? "").split("?")[0]!.endsWith("/large")) reply(LARGE, "application/octet-stream");
    else reply(SMALL, "application/json; charset=utf-8");
    return;
  }
  let received = 0;
  req.on("data", (chunk: Buffer) => (received += chunk.length));
  req.on("end", () =>
    reply(Buffer.from(`{"success":true,"data":{"received":${received}},"errors":[]}`), "application/json; charset=utf-8"),
  );
});
// workerd keeps its upstream connections open between requests: do not close them mid-run.
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.requestTimeout = 0;
server.listen({ host: "127.0.0.1", port: 0 }, () =>
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`),
);
process.on("SIGTERM", () => server.close(() => process.exit(0)));
