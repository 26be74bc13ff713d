import type { ProfileSummary } from "./cpu-profile.ts";
import type { LoadResult } from "./loadgen.ts";
import type { StreamCheck } from "./stream-check.ts";

/** The shape of bench/results/latest.json (schema 1). */

export interface RowResult {
  id: string;
  label: string;
  target: string;
  method: string;
  path: string;
  expectStatus: number;
  group: string;
  /** Row ids this row's throughput is divided by. */
  compare: string[];
  load: LoadResult;
  probeStatus: number;
  probeBytes: number;
  /** CPU time per request of each process, in microseconds (from /proc; null where unavailable). */
  cpuMicrosPerRequest: { workerd: number | null; origin: number | null; loadgen: number | null; benchHost: number | null };
  workerdPeakRssMiB: number | null;
  logLinesPerRequest: number | null;
  keysSeeded: number;
  cpuProfile: ProfileSummary | null;
  /** Responses outside the expected status class, socket errors and timeouts: must be 0. */
  unexpected: number;
}

export interface SequentialResult {
  id: string;
  label: string;
  requests: number;
  statuses: Record<string, number>;
  expectStatus: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; min: number; max: number };
}

export interface TargetCheck {
  id: string;
  what: string;
  value: number | null;
  limit: number;
  kind: "min" | "max";
  /** Shown, never counted as a target of docs/design.md §11. */
  informational?: boolean;
}

export interface Report {
  schema: 1;
  startedAt: string;
  finishedAt: string;
  command: string;
  source: { commit: string; srcDirtyFiles: number };
  settings: Record<string, unknown>;
  environment: Record<string, unknown>;
  rows: RowResult[];
  profile: RowResult[];
  streaming: StreamCheck[];
  sequential: SequentialResult[];
  micro: Record<string, unknown> | null;
  /** `--micro-cpu`: workerd CPU µs per call of single steps, from /proc (setupMs: one call's fixed cost). */
  microCpu?: Record<string, number | string> | null;
  memory: Record<string, number | null>;
  workerLogLines: number;
  workerErrors: string[];
  targets: TargetCheck[];
}

/** Milliseconds for latency targets (T2…), a ratio for the others. */
export function formatTargetValue(t: TargetCheck): string {
  if (t.value === null) return "not measured";
  return t.id.startsWith("T2") ? `${t.value.toFixed(3)} ms` : `${t.value.toFixed(2)}×`;
}

export function passes(t: TargetCheck): boolean | null {
  if (t.value === null) return null;
  return t.kind === "min" ? t.value >= t.limit : t.value <= t.limit;
}

const num = (v: number | null | undefined, digits = 0): string =>
  v === null || v === undefined || !Number.isFinite(v) ? "-" : v.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(headers: string[], rows: string[][], rightAlign: ReadonlySet<number>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (rightAlign.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

function ratioCell(row: RowResult, byId: ReadonlyMap<string, RowResult>, other: string): string {
  const o = byId.get(other);
  return o ? `${(row.load.rps / o.load.rps).toFixed(2)}×` : "-";
}

function rowsTable(rows: readonly RowResult[], byId: ReadonlyMap<string, RowResult>): string {
  return table(
    ["row", "what", "req/s", "p50 ms", "p99 ms", "vs row 2", "vs 2b", "vs pair", "workerd CPU µs/req", "workerd RSS MiB", "check"],
    rows.map((r) => {
      const pair = r.compare.find((c) => c !== "2" && c !== "2b");
      return [
        r.id,
        r.label,
        num(r.load.rps),
        num(r.load.latencyMs.p50, 3),
        num(r.load.latencyMs.p99, 3),
        r.id === "2" ? "1.00×" : ratioCell(r, byId, "2"),
        r.group === "reject" || r.id === "2b" || r.id === "2bL" ? ratioCell(r, byId, "2b") : "",
        pair ? ratioCell(r, byId, pair) : "",
        num(r.cpuMicrosPerRequest.workerd, 0),
        num(r.workerdPeakRssMiB, 0),
        r.unexpected === 0 ? `${r.expectStatus} ok` : `BAD ×${r.unexpected}`,
      ];
    }),
    new Set([2, 3, 4, 5, 6, 7, 8, 9]),
  );
}

export function formatReport(r: Report): string {
  const s = r.settings;
  const e = r.environment;
  const out: string[] = [];
  const byId = new Map(r.rows.map((x) => [x.id, x]));
  out.push("");
  out.push(`command:  ${r.command}`);
  out.push(`source:   commit ${r.source.commit}${r.source.srcDirtyFiles > 0 ? ` + ${r.source.srcDirtyFiles} uncommitted file(s) in src/` : ""}`);
  out.push(
    `settings: ${String(s.loadgen)} ${String(s.loadgenVersion)}, ${String(s.connections)} connections, ${String(s.threads)} thread(s), ` +
      `${String(s.warmupS)} s warm-up + ${String(s.durationS)} s per row, via ${String(s.via)}; 1 MiB bodies; ` +
      `gateway vars: AUTH_FAIL_LIMIT=1000000 (rejection rows), row 4/5 worker MEMORY_CACHE_TTL_MS=0`,
  );
  out.push(
    `runtime:  Miniflare ${String(e.miniflare)} (wrangler ${String(e.wrangler)}), workerd ${String(e.workerd)}, compatibility_date ${String(e.compatibilityDate)}, ` +
      `Node ${String(e.node)}, ${String(e.cpus)} CPUs (${String(e.cpuModel)})`,
  );
  out.push("");
  out.push(rowsTable(r.rows, byId));
  if (r.profile.length > 0) {
    out.push("");
    out.push("Profile (bench-only gateway variants; compare with rows 3 and 6a above):");
    out.push(rowsTable(r.profile, byId));
  }
  for (const row of [...r.rows, ...r.profile]) {
    const p = row.cpuProfile;
    if (!p) continue;
    out.push("");
    out.push(`CPU profile of row ${row.id} (${row.target} isolate, ${p.sampledMs} ms sampled, idle excluded): by module`);
    out.push(table(["module", "self %"], p.byModule.slice(0, 15).map((m) => [m.module, m.selfPct.toFixed(1)]), new Set([1])));
    out.push("top functions (inclusive):");
    out.push(table(["function", "module", "total %"], p.topInclusive.slice(0, 20).map((f) => [f.fn, f.module, f.totalPct.toFixed(1)]), new Set([2])));
    out.push("top functions (self):");
    out.push(table(["function", "module", "self %"], p.topSelf.slice(0, 15).map((f) => [f.fn, f.module, f.selfPct.toFixed(1)]), new Set([2])));
  }
  out.push("");
  out.push("Targets (docs/design.md §11):");
  for (const t of r.targets) {
    const p = passes(t);
    const value = formatTargetValue(t);
    const verdict = p === null ? "----" : t.informational ? (p ? "info" : "INFO") : p ? "PASS" : "FAIL";
    out.push(`  ${verdict}  ${t.id.padEnd(4)} ${t.what}: ${value}`);
  }
  // On this machine each Worker row is bound by workerd's one thread: req/s ≈ 1e6 / (workerd CPU µs per request).
  const cpu = (id: string) => byId.get(id)?.cpuMicrosPerRequest.workerd ?? null;
  const budget = (id: string, base: string, factor: number, what: string) => {
    const have = cpu(id);
    const floor = cpu(base);
    if (have === null || floor === null) return;
    out.push(`  budget ${what}: workerd CPU ${num(have, 0)} µs/request; ≥ ${factor.toFixed(2)}× row ${base} allows ≤ ${num(floor / factor, 0)} µs (row ${base}: ${num(floor, 0)} µs)`);
  };
  out.push("CPU budgets (throughput here tracks workerd CPU per request):");
  budget("3", "2L", 0.95, "row 3");
  budget("3", "2", 0.9, "row 3");
  budget("3", "2LS", 0.95, "row 3 (informational)");
  budget("4", "2k", 0.9, "row 4");
  for (const id of ["6a", "6b", "6c", "6d"]) budget(id, "2bL", 0.95, `row ${id}`);
  if (r.sequential.length > 0) {
    out.push("");
    out.push("One request at a time (1 connection, each timed to the last body byte):");
    out.push(
      table(
        ["row", "what", "requests", "p50 ms", "p90 ms", "p99 ms", "mean ms", "statuses"],
        r.sequential.map((q) => [
          q.id,
          q.label,
          String(q.requests),
          num(q.latencyMs.p50, 3),
          num(q.latencyMs.p90, 3),
          num(q.latencyMs.p99, 3),
          num(q.latencyMs.mean, 3),
          Object.entries(q.statuses).map(([k, v]) => `${k}×${v}`).join(" "),
        ]),
        new Set([2, 3, 4, 5, 6]),
      ),
    );
  }
  const micro = r.micro as {
    iterations?: number;
    clocks?: { performanceNowMs: number; dateNowMs: number; advanceDuringCpuWork: boolean };
    stepsMicroseconds?: Record<string, number>;
    pipelineMicroseconds?: Record<string, number>;
    pipelineStatuses?: Record<string, number>;
    consoleLogLineMicroseconds?: number;
  } | null;
  if (micro?.stepsMicroseconds) {
    out.push("");
    out.push(
      `CPU per step inside workerd (µs per call, ${String(micro.iterations)} iterations; clocks advance during CPU work locally: ` +
        `${micro.clocks?.advanceDuringCpuWork ? "yes" : "NO"}, performance.now +${num(micro.clocks?.performanceNowMs, 1)} ms, Date.now +${num(micro.clocks?.dateNowMs, 0)} ms over a busy loop):`,
    );
    const steps = Object.entries(micro.stepsMicroseconds);
    out.push(table(["step", "µs"], steps.map(([k, v]) => [k, num(v, 2)]), new Set([1])));
    if (micro.pipelineMicroseconds) {
      out.push("");
      out.push("Whole gateway (app.fetch in the isolate, no network; µs per request incl. log line):");
      out.push(
        table(
          ["path", "status", "µs"],
          Object.entries(micro.pipelineMicroseconds).map(([k, v]) => [k, String(micro.pipelineStatuses?.[k] ?? "-"), num(v, 1)]),
          new Set([1, 2]),
        ),
      );
      out.push(`console.log of one log line: ${num(micro.consoleLogLineMicroseconds, 2)} µs`);
    }
  }
  if (r.microCpu) {
    out.push("");
    out.push("CPU per step from /proc (--micro-cpu; workerd CPU time around one step, minus a call's setup, per call):");
    out.push(table(["step", "µs CPU"], Object.entries(r.microCpu).filter(([k]) => k !== "setupMs").map(([k, v]) => [k, typeof v === "number" ? num(v, 2) : v]), new Set([1])));
  }
  if (r.streaming.length > 0) {
    out.push("");
    out.push("Streaming check (one request at a time; workerd RSS peak during the request minus just before):");
    out.push(
      table(
        ["body", "MiB", "pass-through: RSS +MiB", "s", "gateway: RSS +MiB", "s", "buffering control: RSS +MiB", "s", "status"],
        [...new Set(r.streaming.map((c) => `${c.direction} ${c.bytes}`))].map((k) => {
          const [direction, bytes] = k.split(" ") as [string, string];
          const p = r.streaming.find((c) => c.direction === direction && String(c.bytes) === bytes && c.target === "passthrough");
          const g = r.streaming.find((c) => c.direction === direction && String(c.bytes) === bytes && c.target === "gateway");
          const b = r.streaming.find((c) => c.direction === direction && String(c.bytes) === bytes && c.target === "buffering");
          return [
            direction,
            num(Number(bytes) / 1048576, 0),
            num(p?.rssGrowthMiB, 1),
            num(p?.seconds, 2),
            num(g?.rssGrowthMiB, 1),
            num(g?.seconds, 2),
            num(b?.rssGrowthMiB, 1),
            num(b?.seconds, 2),
            [p?.status, g?.status, b?.status].join("/"),
          ];
        }),
        new Set([1, 2, 3, 4, 5, 6, 7]),
      ),
    );
  }
  out.push("");
  const m = r.memory;
  out.push(
    `memory:   workerd RSS ${num(m.workerdRssMiBAtStart, 0)} MiB at start, ${num(m.workerdRssMiBAtEnd, 0)} MiB at end; ` +
      `peak per row in the table (1 MiB rows vs the others). Origin received ${num((m.originBodyBytesReceived ?? 0) / 1048576, 0)} MiB in ${num(m.originBodyRequests, 0)} bodies.`,
  );
  if (r.workerErrors.length > 0) {
    out.push(`worker warnings/errors (${r.workerErrors.length} shown):`);
    for (const w of r.workerErrors) out.push(`  ${w}`);
  }
  return out.join("\n") + "\n";
}
