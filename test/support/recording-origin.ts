import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP origin for tests: it records every request it receives (what
 * the gateway forwarded, byte for byte) and behaves as the test asks through
 * the `x-origin-behavior` request header. Tests read the record over HTTP at
 * /__origin/requests, so code inside workerd can check it too.
 */
export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  bodySha256: string;
}

export interface RecordingOrigin {
  url: string;
  port: number;
  received: Received[];
  close(): Promise<void>;
}

const GATE_TIMEOUT_MS = 10_000;

export async function startRecordingOrigin(port = 0): Promise<RecordingOrigin> {
  const received: Received[] = [];
  // Gates let a test prove streaming: a chunk goes through before the next is sent.
  const gates = new Map<string, () => void>();
  const seen = new Set<string>();

  const server: Server = createServer((req, res) => {
    const url = req.url ?? "";
    if (url.startsWith("/__origin/")) return control(url, req.method ?? "GET", res);
    const behavior = String(req.headers["x-origin-behavior"] ?? "");
    const hash = createHash("sha256");
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      if (behavior.startsWith("mark-first-chunk:")) seen.add(behavior.slice("mark-first-chunk:".length));
    });
    req.on("end", () => {
      const record = { method: req.method ?? "", url, headers: req.headers, bodyBytes: bytes, bodySha256: hash.digest("hex") };
      received.push(record);
      void respond(behavior, record, res);
    });
  });

  function control(url: string, method: string, res: import("node:http").ServerResponse) {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url === "/__origin/requests" && method === "DELETE") {
      received.length = 0;
      return send(200, { ok: true });
    }
    if (url === "/__origin/requests") return send(200, received);
    const open = /^\/__origin\/gate\/([\w-]+)$/.exec(url);
    if (open) {
      gates.get(open[1]!)?.();
      return send(200, { opened: open[1] });
    }
    const mark = /^\/__origin\/seen\/([\w-]+)$/.exec(url);
    if (mark) return send(200, { seen: seen.has(mark[1]!) });
    return send(404, { error: "unknown control path" });
  }

  async function respond(behavior: string, record: Received, res: import("node:http").ServerResponse) {
    const colon = behavior.indexOf(":");
    const kind = colon === -1 ? behavior : behavior.slice(0, colon);
    const arg = colon === -1 ? "" : behavior.slice(colon + 1);
    switch (kind) {
      case "redirect": {
        // `redirect:URL` answers 302; `redirect:307:URL` (or 301, 303, 308) picks the status.
        const status = /^(30[12378]):(.*)$/.exec(arg);
        res.writeHead(status ? Number(status[1]) : 302, { location: (status ? status[2] : arg) || "http://127.0.0.1:1/elsewhere" });
        return res.end();
      }
      case "slow":
        await new Promise((r) => setTimeout(r, Number(arg)));
        break;
      case "status":
        res.writeHead(Number(arg), {
          "content-type": "application/json",
          "www-authenticate": 'Bearer realm="origin"',
          "x-origin-header": "kept",
        });
        return res.end(JSON.stringify({ origin_error: true }));
      case "bytes": {
        // A large response body, written in 64 KiB chunks.
        res.writeHead(200, { "content-type": "application/octet-stream" });
        const chunk = Buffer.alloc(65_536, 97);
        let left = Number(arg);
        while (left > 0) {
          const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
          if (!res.write(part)) await new Promise((r) => res.once("drain", r));
          left -= part.length;
        }
        return res.end();
      }
      case "gzip": {
        // `gzip:N`: N bytes of "a", gzip-compressed (with Content-Length) when the request accepts gzip.
        const plain = Buffer.alloc(Number(arg), 97);
        const gzip = /\bgzip\b/.test(String(record.headers["accept-encoding"] ?? ""));
        const body = gzip ? gzipSync(plain) : plain;
        res.writeHead(200, {
          "content-type": "text/plain",
          "content-length": String(body.length),
          ...(gzip ? { "content-encoding": "gzip" } : {}),
        });
        return res.end(body);
      }
      case "gated-response": {
        // First chunk, then wait until the test has read it and opens the gate.
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first-chunk;");
        await new Promise<void>((r) => {
          gates.set(arg, r);
          setTimeout(r, GATE_TIMEOUT_MS);
        });
        return res.end("second-chunk");
      }
    }
    res.writeHead(200, { "content-type": "application/json", "x-origin-header": "kept" });
    res.end(JSON.stringify({ data: { path: record.url }, received: { method: record.method, bytes: record.bodyBytes } }));
  }

  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    received,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
