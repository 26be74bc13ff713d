import { connect } from "node:net";

/**
 * HTTP/1.1 over a bare socket, for tests that must send a request line
 * exactly as written: `fetch` and `node:http` resolve `..`, merge or reject
 * odd paths and normalise header values before anything leaves the process.
 */

export interface RawResponse {
  status: number;
  /** Lower-cased names; a repeated header's values joined by ", ". */
  headers: Record<string, string>;
  body: string;
  /** Everything the server sent, for failure messages. */
  raw: string;
}

export interface RawRequest {
  method?: string;
  /** The request-target, byte for byte (`/a/../b`, `//x`, `http://host/p`, ...). */
  target: string;
  /** In order, repeats allowed; `Host` and `Connection: close` are added unless given. */
  headers?: readonly (readonly [string, string])[];
  body?: string;
}

const TIMEOUT_MS = 10_000;

/** The exact bytes of a request: `Connection: close`, so the response ends with the socket. */
export function requestBytes(req: RawRequest, port: number): string {
  const headers = [...(req.headers ?? [])];
  const has = (name: string) => headers.some(([n]) => n.toLowerCase() === name);
  if (!has("host")) headers.unshift(["Host", `127.0.0.1:${port}`]);
  if (!has("connection")) headers.push(["Connection", "close"]);
  if (req.body !== undefined && !has("content-length")) headers.push(["Content-Length", String(Buffer.byteLength(req.body))]);
  const head = `${req.method ?? "GET"} ${req.target} HTTP/1.1\r\n${headers.map(([n, v]) => `${n}: ${v}\r\n`).join("")}\r\n`;
  return head + (req.body ?? "");
}

/** Sends `bytes` as they are and reads the whole response (the server closes the connection). */
export function sendRaw(port: number, bytes: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(bytes));
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete response within ${TIMEOUT_MS} ms; got:\n${Buffer.concat(chunks).toString("latin1")}`));
    }, TIMEOUT_MS);
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", (err) => {
      clearTimeout(timer);
      // A server may reset after answering; what it sent still counts.
      if (chunks.length > 0) resolve(parseResponse(Buffer.concat(chunks)));
      else reject(err);
    });
    socket.on("end", () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}

export function rawRequest(port: number, req: RawRequest): Promise<RawResponse> {
  return sendRaw(port, requestBytes(req, port));
}

function parseResponse(buf: Buffer): RawResponse {
  const raw = buf.toString("latin1");
  const end = buf.indexOf("\r\n\r\n");
  if (end === -1) throw new Error(`not an HTTP response:\n${raw}`);
  const [statusLine, ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine!);
  if (!m) throw new Error(`bad status line: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let body = buf.subarray(end + 4);
  if (/\bchunked\b/i.test(headers["transfer-encoding"] ?? "")) body = dechunk(body);
  return { status: Number(m[1]), headers, body: body.toString("utf8"), raw };
}

function dechunk(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const lineEnd = buf.indexOf("\r\n", i);
    if (lineEnd === -1) break;
    const size = parseInt(buf.subarray(i, lineEnd).toString("latin1"), 16);
    if (!(size > 0)) break;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    i = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
