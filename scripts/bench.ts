import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_DIR } from "./lib/local-state.ts";
import { runAb } from "./bench/ab.ts";
import { wrkOnPath } from "./bench/processes.ts";
import { formatRun, formatRuns } from "./bench/report.ts";
import { runBench, type RunOptions, type RunReport } from "./bench/run.ts";
import { runScale } from "./bench/scale.ts";

/** `npm run bench` (docs/performance.md): the rows and targets of scripts/bench/rows.ts, or an in-isolate A/B. */

const USAGE = `Usage: npm run bench -- [options]

  --runs N            whole runs, each a fresh Miniflare (default 1); the summary of the
                      targets over them (min / median / max) goes to runs.md in --out
  --duration S        seconds measured per row (default 8)
  --warmup S          seconds of warm-up before each row, not measured (default 2)
  --connections N     wrk connections (default 10)
  --seq-seconds S     seconds per one-connection row, one request at a time (default 3; 0 skips)
  --rows LIST         only these rows, e.g. 3,6a (the rows their targets compare with are added)
  --out DIR           where results go (default bench/results, ignored by git)

  --ab LIST           instead: interleaved A/B of in-isolate variants (bench/workers/ab.ts), the
                      first the baseline, e.g. floor,gateway or hello-floor,no-key,missing-scope
  --pairs N           A/B pairs (default 10)
  --n N               requests per variant per pair (default 2000)
  --scale             instead: a key's first lookup against the number of keys in D1 (npm run bench:scale)
  --keys LIST         D1 sizes for --scale (default 10,10000,1000000)
  --sample N          keys looked up at each size (default 400)
  --help

Needs wrk (apt-get install -y wrk), except --ab and --scale.
`;

const OPTIONS = {
  runs: { type: "string", default: "1" },
  duration: { type: "string", default: "8" },
  warmup: { type: "string", default: "2" },
  connections: { type: "string", default: "10" },
  "seq-seconds": { type: "string", default: "3" },
  rows: { type: "string" },
  out: { type: "string", default: join(PROJECT_DIR, "bench", "results") },
  ab: { type: "string" },
  pairs: { type: "string", default: "10" },
  n: { type: "string", default: "2000" },
  scale: { type: "boolean", default: false },
  keys: { type: "string", default: "10,10000,1000000" },
  sample: { type: "string", default: "400" },
  help: { type: "boolean", short: "h", default: false },
} as const;

/** Said without a stack: the user can fix it. */
class Refusal extends Error {}
class UsageError extends Refusal {}

function whole(name: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`--${name} needs a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return n;
}

const list = (text: string) => text.split(",").flatMap((s) => (s.trim() ? [s.trim()] : []));

function parse(argv: string[]) {
  const values = (() => {
    try {
      return parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  })();
  const run: RunOptions = {
    durationS: whole("duration", values.duration, 1, 600),
    warmupS: whole("warmup", values.warmup, 0, 120),
    connections: whole("connections", values.connections, 1, 1000),
    seqS: whole("seq-seconds", values["seq-seconds"], 0, 600),
    rows: values.rows === undefined ? undefined : list(values.rows),
  };
  const variants = list(values.ab ?? "");
  if (values.ab !== undefined && variants.length < 2) throw new UsageError("--ab needs two variants or more, e.g. floor,gateway");
  const ab =
    values.ab === undefined ? null : { variants, pairs: whole("pairs", values.pairs, 1, 100), n: whole("n", values.n, 1, 100_000) };
  const keys = list(values.keys).map((k) => whole("keys", k, 0, 10_000_000));
  const scale = values.scale ? { keys: keys.sort((a, b) => a - b), sample: whole("sample", values.sample, 2, 100_000) } : null;
  return { help: values.help, scale, runs: whole("runs", values.runs, 1, 20), out: values.out, run, ab };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = ["npm run bench --", ...argv].join(" ");
  const o = parse(argv);
  if (o.help) return void process.stdout.write(USAGE);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await mkdir(o.out, { recursive: true });
  const saved = (file: string) => relative(process.cwd(), join(o.out, file));
  /** Writes the JSON and prints the table with where the JSON went. */
  const report = async (file: string, data: object, table: string) => {
    await writeFile(join(o.out, file), `${JSON.stringify({ command, ...data }, null, 2)}\n`);
    process.stdout.write(`\n${table}JSON: ${saved(file)}\n`);
  };
  if (o.scale) {
    const r = await runScale(o.scale, log);
    return report("scale.json", { ...o.scale, d1: r.d1 }, r.table);
  }
  if (o.ab) {
    const r = await runAb(o.ab, log);
    return report("ab.json", { ...o.ab, results: r.results }, r.table);
  }
  if (!wrkOnPath())
    throw new Refusal("wrk is not on PATH: install it with `apt-get install -y wrk` (as root; `apt-get update` first if not found)");
  const runs: RunReport[] = [];
  for (let i = 1; i <= o.runs; i++) {
    log(`\n=== run ${i} of ${o.runs} ===`);
    const run = await runBench(o.run, log);
    runs.push(run);
    await report(o.runs === 1 ? "latest.json" : `run-${i}.json`, run, formatRun(run));
  }
  await writeFile(join(o.out, "runs.md"), formatRuns(runs, command));
  process.stdout.write(`\n${formatRuns(runs, command)}\nSummary for docs/performance.md: ${saved("runs.md")}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof Refusal) {
    process.stderr.write(`npm run bench: ${err.message}\n${err instanceof UsageError ? `\n${USAGE}` : ""}`);
    process.exit(2);
  }
  process.stderr.write(`npm run bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
