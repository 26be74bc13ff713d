import { expect } from "vitest";
import type { Gateway, LogLine } from "../support/gateway-server.ts";
import { rawRequest, type RawRequest, type RawResponse } from "../support/raw-http.ts";
import type { Received, RecordingOrigin } from "../support/recording-origin.ts";

/**
 * Shared by the hostile-input suite: one raw request through the real
 * gateway, and everything observable about it (the response, what the origin
 * received meanwhile, the gateway's log line).
 */

export interface Sent {
  res: RawResponse;
  requestId: string;
  /** Everything the origin received while the request ran (tests in a file run one at a time). */
  received: Received[];
}

export interface HostileRequest extends RawRequest {
  /** Sent as `Authorization: Bearer <key>`. */
  key?: string;
  /** CF-Connecting-IP; a fresh documentation address by default, so failure counts never leak between tests. */
  ip?: string;
}

let sequence = 0;
const nextId = (label: string) => `${label}-${process.pid}-${++sequence}`;
/** TEST-NET-2 addresses, one per request unless a test picks its own. */
export const freshIp = () => `198.51.${(sequence >> 8) % 256}.${sequence % 256}`;

export async function send(gw: Gateway, origin: RecordingOrigin, req: HostileRequest): Promise<Sent> {
  const requestId = nextId("sec");
  const headers: [string, string][] = [
    ["X-Request-Id", requestId],
    ["CF-Connecting-IP", req.ip ?? freshIp()],
  ];
  if (req.key !== undefined) headers.push(["Authorization", `Bearer ${req.key}`]);
  headers.push(...(req.headers ?? []).map(([n, v]) => [n, v] as [string, string]));
  const before = origin.received.length;
  const res = await rawRequest(gw.port, { ...req, headers });
  return { res, requestId, received: origin.received.slice(before) };
}

export interface Envelope {
  success: boolean;
  data: unknown;
  errors: { code: string; message: string }[];
}

/** docs/design.md §5: status, envelope, and the headers every gateway error carries. */
export function expectEnvelope(res: RawResponse, status: number, code: string): Envelope {
  expect(res.status, res.raw.slice(0, 600)).toBe(status);
  expect(res.headers["content-type"]).toMatch(/^application\/json/);
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(res.headers["x-request-id"]).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
  const body = JSON.parse(res.body) as Envelope;
  expect(body).toEqual({ success: false, data: null, errors: [{ code, message: expect.any(String) }] });
  return body;
}

/** A refusal: the envelope, and the origin saw nothing at all. */
export function expectRefused(sent: Sent, status: number, code: string): Envelope {
  const body = expectEnvelope(sent.res, status, code);
  expect(sent.received, `origin received ${JSON.stringify(sent.received.map((r) => r.url))}`).toEqual([]);
  return body;
}

/** Forwarded exactly once, with this method and this path (and query), byte for byte. */
export function expectForwarded(sent: Sent, method: string, url: string): Received {
  expect(sent.res.status, sent.res.raw.slice(0, 600)).toBe(200);
  expect(sent.received).toHaveLength(1);
  const got = sent.received[0]!;
  expect(got.method).toBe(method);
  expect(got.url).toBe(url);
  expect(got.headers["x-request-id"]).toBe(sent.requestId);
  return got;
}

/** The gateway's per-request log line (docs/design.md §10), once it has arrived. */
export async function logOf(gw: Gateway, requestId: string): Promise<LogLine> {
  const [line] = await gw.requestLogs((l) => l.request_id === requestId, 1);
  return line!;
}
