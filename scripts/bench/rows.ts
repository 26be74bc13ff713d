/**
 * What the bench measures, as data: the rows (docs/performance.md has the same table for readers) and the targets computed from one run's
 * rows.
 */

/** Which key a row's requests carry (scripts/bench/seed.ts mints them). */
export type Auth = "none" | "main" | "malformed" | "unknown" | "limited" | "overlimit";

export interface Row {
  id: string;
  label: string;
  target: string; // "origin" or the name of a Worker in scripts/bench/run.ts
  method: "GET" | "POST";
  path: string;
  auth: Auth;
  largeBody?: boolean; // a 1 MiB request body
  expect: number;
}

const P = "/api/v1/candidates";
function row(id: string, target: string, auth: Auth, label: string, more: Partial<Row> = {}): Row {
  return { id, label, target, method: "GET", path: P, auth, expect: 200, ...more };
}

// Refusals last (they count against the failed-authentication limiter); each floor just before the rows
// compared with it, as workerd's CPU per request creeps up during a run (docs/performance.md).
export const ROWS: readonly Row[] = [
  row("1", "origin", "none", "origin direct (no Worker)"),
  row("2", "pass", "none", "pass-through: fetch(origin)"),
  row("2L", "pass-log", "none", "pass-through + one JSON log line (floor of row 3)"),
  row("2F", "forward-log", "none", "pass-through the gateway's way: its origin headers, timeout, X-Request-Id, log line"),
  row("3", "gateway", "main", "gateway, key in isolate memory"),
  row("3r", "gateway", "limited", "gateway, rate-limited key under its limit"),
  row("2k", "pass-kv", "none", "pass-through + one KV read (floor of row 4)"),
  row("4", "gateway-kv", "main", "gateway, key in KV (memory cache off)"),
  row("7a", "pass", "none", "pass-through, 1 MiB request body", { method: "POST", largeBody: true }),
  row("7b", "gateway", "main", "gateway, 1 MiB request body", { method: "POST", largeBody: true }),
  row("7c", "pass", "none", "pass-through, 1 MiB response body", { path: `${P}/large` }),
  row("7d", "gateway", "main", "gateway, 1 MiB response body", { path: `${P}/large` }),
  row("2b", "hello", "none", "hello-world (constant response)", { path: "/" }),
  row("2bL", "hello-log", "none", "hello-world + one JSON log line (floor of rows 6)", { path: "/" }),
  row("6a", "gateway", "none", "refusal: no key (401)", { expect: 401 }),
  row("6b", "gateway", "malformed", "refusal: malformed key, bad checksum (401)", { expect: 401 }),
  row("6c", "gateway", "unknown", "refusal: unknown well-formed key (401)", { expect: 401 }),
  row("6d", "gateway", "main", "refusal: missing scope (403)", { path: "/api/v1/jobs", expect: 403 }),
  row("6r", "gateway", "overlimit", "refusal: over its rate limit (429)", { expect: 429 }),
];

/** Rows also run at one connection, one request at a time (ids get an "s": s3, s2L, …). */
export const SEQUENTIAL_ROWS: readonly string[] = ["2L", "3", "3r", "4", "6a"];

export interface RowResult {
  id: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUs: number | null; // workerd CPU µs per request, from /proc: the primary figure
  requests: number;
  /** Responses outside the row's status class, socket errors and timeouts: must be 0. */
  unexpected: number;
}

export interface Measured {
  rows: ReadonlyMap<string, RowResult>;
  sequential: ReadonlyMap<string, RowResult>;
}

export interface Target {
  id: string;
  what: string;
  unit: "×" | "µs" | "ms";
  limit?: { kind: "min" | "max"; value: number }; // a lower (≥) or upper (≤) limit; none: informational
  rows: readonly string[]; // the rows it reads: `--rows` adds them
  value(m: Measured): number | null;
}

type Pick = (m: Measured, id: string) => number | null | undefined;
const cpu: Pick = (m, id) => m.rows.get(id)?.cpuUs;
const rps: Pick = (m, id) => m.rows.get(id)?.rps;
const seqP50: Pick = (m, id) => m.sequential.get(id)?.p50Ms;
const of = (pick: Pick, a: string, b: string, op: (x: number, y: number) => number) => (m: Measured) => {
  const x = pick(m, a);
  const y = pick(m, b);
  return x == null || y == null ? null : op(x, y);
};
/** Row a's throughput over row b's, at least `min`. */
const ratio = (id: string, a: string, b: string, what: string, min = 0.9): Target => {
  const value = of(rps, a, b, (x, y) => x / y);
  return { id, what: `row ${a} vs row ${b}, ${what}`, unit: "×", limit: { kind: "min", value: min }, rows: [a, b], value };
};
/** Row a's figure minus row b's, at most `max` (none: informational). */
const added = (id: string, pick: Pick, unit: Target["unit"], a: string, b: string, what: string, max?: number): Target => {
  const value = of(pick, a, b, (x, y) => x - y);
  return { id, what, unit, limit: max === undefined ? undefined : { kind: "max", value: max }, rows: [a, b], value };
};

export const TARGETS: readonly Target[] = [
  added("T1", cpu, "µs", "3", "2L", "row 3 minus row 2L (pass-through + log line), workerd CPU per request", 100),
  ratio("T1t", "3", "2L", "key in memory vs pass-through + log line, throughput", 0.85),
  added("T2", seqP50, "ms", "3", "2L", "added p50 at one connection: s3 minus s2L", 0.15),
  ratio("T3", "4", "2k", "key in KV vs pass-through + one KV read"),
  ratio("T4a", "6a", "2bL", "no key vs hello-world + log line"),
  ratio("T4b", "6b", "2bL", "malformed key vs hello-world + log line"),
  ratio("T4c", "6c", "2bL", "unknown key vs hello-world + log line"),
  ratio("T4d", "6d", "2bL", "missing scope vs hello-world + log line"),
  ratio("T5a", "7b", "7a", "1 MiB request body"),
  ratio("T5b", "7d", "7c", "1 MiB response body"),
  added("D1", cpu, "µs", "3", "2F", "the gateway's decisions: row 3 minus row 2F, workerd CPU per request"),
  added("L-cpu", cpu, "µs", "3r", "3", "limited key: row 3r minus row 3, workerd CPU per request"),
  added("L-p50", seqP50, "ms", "3r", "3", "limited key: s3r minus s3, p50 at one connection"),
];

export function meets(t: Target, v: number | null): boolean | null {
  if (v === null || !t.limit) return null;
  return t.limit.kind === "min" ? v >= t.limit.value : v <= t.limit.value;
}

/** `--rows`: the chosen rows plus the ones the targets that read them compare with, in table order. */
export function selectRows(chosen: readonly string[] | undefined): Row[] {
  if (!chosen) return [...ROWS];
  const unknown = chosen.filter((id) => !ROWS.some((r) => r.id === id));
  if (unknown.length > 0) throw new Error(`--rows: no row ${unknown.join(", ")} (rows: ${ROWS.map((r) => r.id).join(", ")})`);
  const wanted = new Set(chosen);
  for (const t of TARGETS) if (t.rows.some((id) => chosen.includes(id))) for (const id of t.rows) wanted.add(id);
  return ROWS.filter((r) => wanted.has(r.id));
}
