/**
 * What the bench measures, as data: the rows (docs/performance.md has the same
 * table for readers) and the targets computed from one run's rows.
 */

/** Which key a row's requests carry (scripts/bench/seed.ts mints them). */
export type Auth = "none" | "main" | "malformed" | "unknown" | "limited" | "overlimit" | "cold";

export interface Row {
  id: string;
  label: string;
  /** "origin" or a Worker of scripts/bench/run.ts's WORKERS. */
  target: string;
  method: "GET" | "POST";
  path: string;
  auth: Auth;
  /** A 1 MiB request body. */
  largeBody?: boolean;
  expect: number;
}

const P = "/api/v1/candidates";

// Valid-key rows first; refusals last, since they count against the failed-authentication limiter.
export const ROWS: readonly Row[] = [
  { id: "1", label: "origin direct (no Worker)", target: "origin", method: "GET", path: P, auth: "none", expect: 200 },
  { id: "2", label: "pass-through: fetch(origin)", target: "pass", method: "GET", path: P, auth: "none", expect: 200 },
  { id: "2b", label: "hello-world (constant response)", target: "hello", method: "GET", path: "/", auth: "none", expect: 200 },
  {
    id: "2L",
    label: "pass-through + one JSON log line (floor of row 3)",
    target: "pass-log",
    method: "GET",
    path: P,
    auth: "none",
    expect: 200,
  },
  {
    id: "2bL",
    label: "hello-world + one JSON log line (floor of rows 6)",
    target: "hello-log",
    method: "GET",
    path: "/",
    auth: "none",
    expect: 200,
  },
  { id: "3", label: "gateway, key in isolate memory", target: "gateway", method: "GET", path: P, auth: "main", expect: 200 },
  { id: "3r", label: "gateway, rate-limited key under its limit", target: "gateway", method: "GET", path: P, auth: "limited", expect: 200 },
  { id: "2k", label: "pass-through + one KV read (floor of row 4)", target: "pass-kv", method: "GET", path: P, auth: "none", expect: 200 },
  { id: "4", label: "gateway, key in KV (memory cache off)", target: "gateway-kv", method: "GET", path: P, auth: "main", expect: 200 },
  {
    id: "5",
    label: "gateway, key only in D1 (each key used once)",
    target: "gateway-kv",
    method: "GET",
    path: P,
    auth: "cold",
    expect: 200,
  },
  {
    id: "7a",
    label: "pass-through, 1 MiB request body",
    target: "pass",
    method: "POST",
    path: P,
    auth: "none",
    largeBody: true,
    expect: 200,
  },
  {
    id: "7b",
    label: "gateway, 1 MiB request body",
    target: "gateway",
    method: "POST",
    path: P,
    auth: "main",
    largeBody: true,
    expect: 200,
  },
  { id: "7c", label: "pass-through, 1 MiB response body", target: "pass", method: "GET", path: `${P}/large`, auth: "none", expect: 200 },
  { id: "7d", label: "gateway, 1 MiB response body", target: "gateway", method: "GET", path: `${P}/large`, auth: "main", expect: 200 },
  { id: "6a", label: "refusal: no key (401)", target: "gateway", method: "GET", path: P, auth: "none", expect: 401 },
  {
    id: "6b",
    label: "refusal: malformed key, bad checksum (401)",
    target: "gateway",
    method: "GET",
    path: P,
    auth: "malformed",
    expect: 401,
  },
  { id: "6c", label: "refusal: unknown well-formed key (401)", target: "gateway", method: "GET", path: P, auth: "unknown", expect: 401 },
  { id: "6d", label: "refusal: missing scope (403)", target: "gateway", method: "GET", path: "/api/v1/jobs", auth: "main", expect: 403 },
  { id: "6r", label: "refusal: over its rate limit (429)", target: "gateway", method: "GET", path: P, auth: "overlimit", expect: 429 },
];

/** Rows also run at one connection, one request at a time (ids get an "s": s3, s2L, …). */
export const SEQUENTIAL_ROWS: readonly string[] = ["2L", "3", "3r", "4", "5", "6a"];

/** What one row measured. */
export interface RowResult {
  id: string;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** workerd CPU µs per request, from /proc: the primary figure. */
  cpuUs: number | null;
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
  /** A lower (≥) or upper (≤) limit; none: informational. */
  limit?: { kind: "min" | "max"; value: number };
  /** The rows it reads: `--rows` adds them. */
  rows: readonly string[];
  value(m: Measured): number | null;
}

const diff = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null ? null : a - b);
const throughput = (a: string, b: string) => (m: Measured) => {
  const x = m.rows.get(a);
  const y = m.rows.get(b);
  return x && y ? x.rps / y.rps : null;
};
const refusal = (id: string, what: string): Target => ({
  id: `T4${id.slice(1)}`,
  what: `row ${id} (${what}) vs row 2bL (hello-world + log line), throughput`,
  unit: "×",
  limit: { kind: "min", value: 0.9 },
  rows: [id, "2bL"],
  value: throughput(id, "2bL"),
});

export const TARGETS: readonly Target[] = [
  {
    id: "T1",
    what: "row 3 (key in memory) minus row 2L (pass-through + log line), workerd CPU per request",
    unit: "µs",
    limit: { kind: "max", value: 100 },
    rows: ["3", "2L"],
    value: (m) => diff(m.rows.get("3")?.cpuUs, m.rows.get("2L")?.cpuUs),
  },
  {
    id: "T1t",
    what: "row 3 vs row 2L, throughput",
    unit: "×",
    limit: { kind: "min", value: 0.85 },
    rows: ["3", "2L"],
    value: throughput("3", "2L"),
  },
  {
    id: "T2",
    what: "added p50 at one connection: s3 minus s2L (one request at a time)",
    unit: "ms",
    limit: { kind: "max", value: 0.15 },
    rows: ["3", "2L"],
    value: (m) => diff(m.sequential.get("3")?.p50Ms, m.sequential.get("2L")?.p50Ms),
  },
  {
    id: "T3",
    what: "row 4 (key in KV) vs row 2k (pass-through + one KV read), throughput",
    unit: "×",
    limit: { kind: "min", value: 0.9 },
    rows: ["4", "2k"],
    value: throughput("4", "2k"),
  },
  refusal("6a", "no key"),
  refusal("6b", "malformed key"),
  refusal("6c", "unknown key"),
  refusal("6d", "missing scope"),
  {
    id: "T5a",
    what: "row 7b vs row 7a, 1 MiB request body, throughput",
    unit: "×",
    limit: { kind: "min", value: 0.9 },
    rows: ["7b", "7a"],
    value: throughput("7b", "7a"),
  },
  {
    id: "T5b",
    what: "row 7d vs row 7c, 1 MiB response body, throughput",
    unit: "×",
    limit: { kind: "min", value: 0.9 },
    rows: ["7d", "7c"],
    value: throughput("7d", "7c"),
  },
  {
    id: "L-cpu",
    what: "limited key: row 3r minus row 3, workerd CPU per request (informational)",
    unit: "µs",
    rows: ["3r", "3"],
    value: (m) => diff(m.rows.get("3r")?.cpuUs, m.rows.get("3")?.cpuUs),
  },
  {
    id: "L-p50",
    what: "limited key: s3r minus s3, p50 at one connection (informational)",
    unit: "ms",
    rows: ["3r", "3"],
    value: (m) => diff(m.sequential.get("3r")?.p50Ms, m.sequential.get("3")?.p50Ms),
  },
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
