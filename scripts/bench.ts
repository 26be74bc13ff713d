import { mkdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { PROJECT_DIR } from "./lib/local-state.ts";
import { runAb } from "./bench/ab.ts";
import { requireWrk } from "./bench/processes.ts";
import { formatRun, formatRuns } from "./bench/report.ts";
import { runBench, type RunOptions, type RunReport } from "./bench/run.ts";

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
  --help

Needs wrk (apt-get install -y wrk), except --ab.
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
  help: { type: "boolean", short: "h", default: false },
} as const;

class UsageError extends Error {}

function whole(name: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n >= min && n <= max)) throw new UsageError(`--${name} needs a whole number from ${min} to ${max}, not ${JSON.stringify(text)}`);
  return n;
}

const list = (text: string) =>
  text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

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
  const ab =
    values.ab === undefined
      ? null
      : { variants: list(values.ab), pairs: whole("pairs", values.pairs, 1, 100), n: whole("n", values.n, 1, 100_000) };
  if (ab && ab.variants.length < 2) throw new UsageError("--ab needs two variants or more, e.g. floor,gateway");
  return { help: values.help, runs: whole("runs", values.runs, 1, 20), out: values.out, run, ab };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const command = ["npm run bench --", ...argv].join(" ");
  const o = parse(argv);
  if (o.help) return void process.stdout.write(USAGE);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await mkdir(o.out, { recursive: true });
  const saved = (file: string) => relative(process.cwd(), join(o.out, file));
  if (o.ab) {
    const { results, table } = await runAb(o.ab, log);
    await writeFile(join(o.out, "ab.json"), `${JSON.stringify({ command, ...o.ab, results }, null, 2)}\n`);
    process.stdout.write(`\n${table}\nJSON: ${saved("ab.json")}\n`);
    return;
  }
  requireWrk();
  const runs: RunReport[] = [];
  for (let i = 1; i <= o.runs; i++) {
    log(`\n=== run ${i} of ${o.runs} ===`);
    runs.push(await runBench(o.run, log));
    const file = o.runs === 1 ? "latest.json" : `run-${i}.json`;
    await writeFile(join(o.out, file), `${JSON.stringify({ command, ...runs.at(-1) }, null, 2)}\n`);
    process.stdout.write(`\n${formatRun(runs.at(-1)!)}JSON: ${saved(file)}\n`);
  }
  await writeFile(join(o.out, "runs.md"), formatRuns(runs, command));
  process.stdout.write(`\n${formatRuns(runs, command)}\nSummary for docs/performance.md: ${saved("runs.md")}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`npm run bench: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`npm run bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
