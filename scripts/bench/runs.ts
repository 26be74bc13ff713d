import type { Report, TargetCheck } from "./report.ts";
import { formatTargetValue, passes } from "./report.ts";

/**
 * `npm run bench -- --runs N`: every target as a ratio (or latency) from ONE
 * run, then min / median / max over the N runs. Runs are whole, separate
 * benches (a fresh Miniflare each), so one noisy stretch of a shared machine
 * moves one value, not the summary.
 */
export interface RunsSummary {
  schema: 1;
  runs: number;
  command: string;
  commits: string[];
  startedAt: string;
  finishedAt: string;
  files: string[];
  targets: {
    id: string;
    what: string;
    kind: TargetCheck["kind"];
    limit: number;
    informational: boolean;
    values: (number | null)[];
    min: number | null;
    median: number | null;
    max: number | null;
    /** Runs whose value met the limit. */
    passed: number;
  }[];
  /** req/s of each row, per run, and the workerd CPU µs per request (median). */
  rows: { id: string; label: string; rps: number[]; workerdCpuMicrosMedian: number | null }[];
  /** p50 ms of the one-connection rows, per run. */
  sequentialP50Ms: { id: string; label: string; values: number[] }[];
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarizeRuns(reports: readonly Report[], files: readonly string[], command: string): RunsSummary {
  const first = reports[0];
  if (!first) throw new Error("no runs to summarize");
  const targets = first.targets.map((t) => {
    const values = reports.map((r) => r.targets.find((x) => x.id === t.id)?.value ?? null);
    const known = values.filter((v): v is number => v !== null);
    return {
      id: t.id,
      what: t.what,
      kind: t.kind,
      limit: t.limit,
      informational: t.informational === true,
      values,
      min: known.length ? Math.min(...known) : null,
      median: median(known),
      max: known.length ? Math.max(...known) : null,
      passed: values.filter((v) => v !== null && passes({ ...t, value: v }) === true).length,
    };
  });
  const rows = first.rows.map((row) => ({
    id: row.id,
    label: row.label,
    rps: reports.map((r) => r.rows.find((x) => x.id === row.id)?.load.rps ?? NaN),
    workerdCpuMicrosMedian: median(
      reports.map((r) => r.rows.find((x) => x.id === row.id)?.cpuMicrosPerRequest.workerd).filter((v): v is number => typeof v === "number"),
    ),
  }));
  const sequentialP50Ms = first.sequential.map((q) => ({
    id: q.id,
    label: q.label,
    values: reports.map((r) => r.sequential.find((x) => x.id === q.id)?.latencyMs.p50 ?? NaN),
  }));
  return {
    schema: 1,
    runs: reports.length,
    command,
    commits: reports.map((r) => r.source.commit + (r.source.srcDirtyFiles > 0 ? "+dirty" : "")),
    startedAt: first.startedAt,
    finishedAt: reports.at(-1)!.finishedAt,
    files: [...files],
    targets,
    rows,
    sequentialP50Ms,
  };
}

/** A Markdown table of the summary (bench/results/runs.md), also printed. */
export function formatRunsSummary(s: RunsSummary): string {
  const fmt = (t: RunsSummary["targets"][number], v: number | null) => formatTargetValue({ id: t.id, what: t.what, value: v, limit: t.limit, kind: t.kind });
  const out: string[] = [];
  out.push(`# ${s.runs} bench runs, ${s.startedAt} – ${s.finishedAt}`);
  out.push("");
  out.push(`Command: \`${s.command}\`; commits: ${[...new Set(s.commits)].join(", ")}. Each value is from one run; min / median / max over the runs.`);
  out.push("");
  out.push("| target | what | limit | min | median | max | runs meeting it |");
  out.push("|---|---|---:|---:|---:|---:|---:|");
  for (const t of s.targets) {
    const limit = `${t.kind === "min" ? "≥" : "≤"} ${t.id.startsWith("T2") ? `${t.limit} ms` : `${t.limit}×`}`;
    out.push(`| ${t.id} | ${t.what} | ${limit} | ${fmt(t, t.min)} | ${fmt(t, t.median)} | ${fmt(t, t.max)} | ${t.informational ? "(info) " : ""}${t.passed}/${s.runs} |`);
  }
  out.push("");
  out.push("| row | what | req/s per run | workerd CPU µs/req (median) |");
  out.push("|---|---|---|---:|");
  for (const r of s.rows) {
    out.push(`| ${r.id} | ${r.label} | ${r.rps.map((v) => v.toFixed(0)).join(" / ")} | ${r.workerdCpuMicrosMedian === null ? "-" : r.workerdCpuMicrosMedian.toFixed(0)} |`);
  }
  if (s.sequentialP50Ms.length > 0) {
    out.push("");
    out.push("| one connection | what | p50 ms per run |");
    out.push("|---|---|---|");
    for (const q of s.sequentialP50Ms) out.push(`| ${q.id} | ${q.label} | ${q.values.map((v) => v.toFixed(3)).join(" / ")} |`);
  }
  return out.join("\n") + "\n";
}
