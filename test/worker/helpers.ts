import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import worker from "../../src/index.ts";
import type { KeyMode } from "../../src/keys/format.ts";
import { importHashKey } from "../../src/keys/hash.ts";
import { mintKey } from "../../src/management/issue.ts";
import type { RateLimit } from "../../src/limits/policy.ts";
import { insertKey, type KeyRow } from "../../src/storage/records.ts";

export const BASE = "https://api.example.test";

export interface TestKey {
  key: string;
  row: KeyRow;
}

let counter = 0;
export const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

/** Inserts a key straight into the real local D1, as the management API would. */
export async function createKey(
  scopes: string[],
  opts: {
    org?: string;
    expiresAt?: string | null;
    name?: string;
    rateLimit?: RateLimit | null;
    monthlyQuota?: number | null;
    allowedCidrs?: string[] | null;
    mode?: KeyMode;
  } = {},
): Promise<TestKey> {
  const secret = await importHashKey(env.KEY_HASH_SECRET);
  const { row, plaintext } = await mintKey(
    secret,
    {
      organizationId: opts.org ?? unique("org"),
      name: opts.name ?? "test key",
      scopes,
      expiresAt: opts.expiresAt ?? null,
      actor: "cli",
      rateLimit: opts.rateLimit ?? null,
      monthlyQuota: opts.monthlyQuota ?? null,
      allowedCidrs: opts.allowedCidrs ?? null,
      mode: opts.mode ?? "live",
    },
    new Date(),
  );
  await insertKey(env.DB, row);
  return { key: plaintext, row };
}

export interface CallInit extends RequestInit {
  key?: string;
  ip?: string;
}

/** A request as a client sends it; each call gets its own client IP unless told, so failure limits never leak between tests. */
export function request(path: string, init: CallInit = {}): Request {
  const { key, ip, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key !== undefined) headers.set("authorization", `Bearer ${key}`);
  headers.set("cf-connecting-ip", ip ?? `10.${counter % 250}.${(counter++ >> 8) % 250}.${Math.floor(Math.random() * 250)}`);
  return new Request(BASE + path, { ...rest, headers });
}

/** Through the Worker as deployed: the shared env and isolate. */
export function call(path: string, init: CallInit = {}): Promise<Response> {
  return exports.default.fetch(request(path, init));
}

/** A management API call (`/api/v1/api-keys…`) with an optional JSON body, answered with the parsed envelope. */
export async function keysApi(key: string, method: string, path: string, body?: unknown, ip?: string) {
  const res = await call(`/api/v1/api-keys${path}`, {
    key,
    method,
    ...(ip === undefined ? {} : { ip }),
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  return { res, body: await envelope(res) };
}

/**
 * A gateway with its own env object, hence its own cold isolate state (memory
 * caches, limiter) and configuration; `settle` waits for its waitUntil work.
 */
export function gatewayWith(overrides: Record<string, unknown>) {
  const ownEnv = { ...env, ...overrides } as typeof env;
  const pending: ExecutionContext[] = [];
  return {
    env: ownEnv,
    async fetch(path: string, init: CallInit = {}): Promise<Response> {
      const ctx = createExecutionContext();
      pending.push(ctx);
      return worker.fetch(request(path, init), ownEnv, ctx);
    },
    async settle(): Promise<void> {
      await Promise.all(pending.splice(0).map((ctx) => waitOnExecutionContext(ctx)));
    },
  };
}

/** Wraps a real binding so that, while `outage.down`, every use of it throws. */
export function withOutage<T extends object>(binding: T, outage: { down: boolean }): T {
  return new Proxy(binding, {
    get(target, prop) {
      if (outage.down) throw new Error("simulated storage outage");
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export interface OriginRecord {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  bodySha256: string;
}

/** What the real origin received for requests carrying this request id. */
export async function originReceived(requestId: string): Promise<OriginRecord[]> {
  const res = await fetch(`${env.TEST_ORIGIN_URL}/__origin/requests`);
  const all = (await res.json()) as OriginRecord[];
  return all.filter((r) => r.headers["x-request-id"] === requestId);
}

export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function envelope(res: Response): Promise<{ success: boolean; data: unknown; errors: { code: string; message: string }[] }> {
  return (await res.json()) as { success: boolean; data: unknown; errors: { code: string; message: string }[] };
}

/** The JSON log lines the gateway writes while `fn` runs (docs/design.md §10). */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[]; raw: string }> {
  const original = console.log;
  const raw: string[] = [];
  console.log = (...args: unknown[]) => {
    raw.push(args.map(String).join(" "));
  };
  try {
    const result = await fn();
    return { result, lines: raw.map((l) => JSON.parse(l) as Record<string, unknown>), raw: raw.join("\n") };
  } finally {
    console.log = original;
  }
}

/** The per-request line (the one with a status) among captured lines. */
export function requestLine(lines: Record<string, unknown>[]): Record<string, unknown> {
  const found = lines.filter((l) => "status" in l);
  if (found.length !== 1) throw new Error(`expected one request log line, got ${found.length}`);
  return found[0]!;
}
