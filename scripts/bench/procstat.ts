import { readFileSync, readdirSync } from "node:fs";

/**
 * CPU time and resident memory of the processes in a run, read from /proc
 * (Linux). Everything answers null where /proc is missing, so the bench still
 * runs elsewhere, with fewer columns.
 */

/** Linux USER_HZ: 100 on every mainstream kernel build. */
const TICKS_PER_SECOND = 100;

function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name is in parentheses and may hold spaces: fields start after the last ')'.
    const close = text.lastIndexOf(")");
    const open = text.indexOf("(");
    return [text.slice(0, open).trim(), text.slice(open + 1, close), ...text.slice(close + 2).split(" ")];
  } catch {
    return null;
  }
}

/** User + system CPU milliseconds a process has used so far. */
export function cpuMs(pid: number | null): number | null {
  if (pid === null) return null;
  const f = statFields(pid);
  if (!f) return null;
  // After pid and comm: state is index 2; utime is field 14 (index 13), stime 15 (index 14).
  const ticks = Number(f[13]) + Number(f[14]);
  return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : null;
}

/** Resident set size in MiB. */
export function rssMiB(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** The pid of a direct child of `parent` whose command name is `comm` (e.g. the workerd Miniflare spawned). */
export function findChild(parent: number, comm: string): number | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const f = statFields(Number(e));
    if (f && f[1] === comm && Number(f[3]) === parent) return Number(e);
  }
  return null;
}

/** Samples a process's RSS while a measurement runs: the peak and the last value. */
export class RssSampler {
  readonly #pid: number | null;
  #timer: NodeJS.Timeout | null = null;
  peak: number | null = null;

  constructor(pid: number | null) {
    this.#pid = pid;
  }

  start(intervalMs = 200): void {
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    const v = rssMiB(this.#pid);
    if (v !== null && (this.peak === null || v > this.peak)) this.peak = v;
  }

  stop(): number | null {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.sample();
    return this.peak;
  }
}
