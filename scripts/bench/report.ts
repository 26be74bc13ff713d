import { meets, ROWS, TARGETS, type Target } from "./rows.ts";
import type { RunReport } from "./run.ts";

/** The bench's printed tables: one run, and the summary of `--runs N` (runs.md, for docs/performance.md). */
const fixed = (v: number | null, digits: number): string => (v === null || !Number.isFinite(v) ? "-" : v.toFixed(digits));

export function formatValue(t: Target, v: number | null): string {
  if (v === null) return "-";
  return t.unit === "×" ? `${v.toFixed(2)}×` : t.unit === "ms" ? `${v.toFixed(3)} ms` : `${v.toFixed(0)} µs`;
}

const limitOf = (t: Target) => (t.limit ? `${t.limit.kind === "min" ? "≥" : "≤"} ${formatValue(t, t.limit.value)}` : "no limit");

function markdown(headers: string[], rows: string[][]): string {
  const align = headers.map((_, i) => (i < 2 ? "---" : "---:"));
  return [headers, align, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}

/** One run: the rows were printed as they ran; the targets. */
export function formatRun(r: RunReport): string {
  const out = [`source ${r.source}; ${JSON.stringify(r.settings)}`, "Targets:"];
  for (const t of TARGETS) {
    const v = r.targets.find((x) => x.id === t.id)?.value ?? null;
    const ok = meets(t, v);
    out.push(
      `  ${ok === null ? (t.limit ? "----" : "info") : ok ? "PASS" : "FAIL"}  ${t.id.padEnd(5)} ${t.what}: ${formatValue(t, v)} (${limitOf(t)})`,
    );
  }
  const bad = [...r.rows, ...r.sequential].filter((x) => x.unexpected > 0);
  if (bad.length > 0) out.push(`NOT VALID: rows ${bad.map((x) => x.id).join(", ")} had unexpected statuses or failures`);
  for (const e of r.workerErrors) out.push(`worker ${e}`);
  return `${out.join("\n")}\n`;
}

function median(xs: readonly number[]): number | null {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? null : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Each target's value from each run, then min / median / max and the runs meeting it. */
export function formatRuns(runs: readonly RunReport[], command: string): string {
  const out = [
    `${runs.length} run${runs.length === 1 ? "" : "s"} of \`${command}\`, ${runs[0]?.startedAt ?? ""} – ${new Date().toISOString()}, source ${[...new Set(runs.map((r) => r.source))].join(", ")}.`,
    "Each value is from one run; min / median / max over the runs.",
    "",
  ];
  out.push(
    markdown(
      ["target", "what", "limit", "min", "median", "max", "runs meeting it"],
      TARGETS.map((t) => {
        const values = runs.map((r) => r.targets.find((x) => x.id === t.id)?.value ?? null).filter((v): v is number => v !== null);
        const met = t.limit ? `${values.filter((v) => meets(t, v)).length}/${runs.length}` : "(info)";
        const of = (f: (xs: number[]) => number | null) => formatValue(t, values.length ? f(values) : null);
        return [t.id, t.what, limitOf(t), of((xs) => Math.min(...xs)), of(median), of((xs) => Math.max(...xs)), met];
      }),
    ),
    "",
  );
  // Each row's figures over the runs: throughput per run, median p50 and workerd CPU.
  const ids = [...new Set(runs.flatMap((r) => [...r.rows, ...r.sequential].map((x) => x.id)))];
  const rowTable = ids.map((id) => {
    const of = runs.flatMap((r) => [...r.rows, ...r.sequential].filter((x) => x.id === id));
    const cpus = of.flatMap((x) => (x.cpuUs === null ? [] : [x.cpuUs]));
    const label = ROWS.find((x) => x.id === id.replace(/^s/, ""))?.label ?? "";
    return [id, label, of.map((x) => x.rps.toFixed(0)).join(" / "), fixed(median(of.map((x) => x.p50Ms)), 3), fixed(median(cpus), 0)];
  });
  out.push(markdown(["row (s: one connection)", "what", "req/s per run", "p50 ms (median)", "workerd CPU µs/req (median)"], rowTable));
  return `${out.join("\n")}\n`;
}
