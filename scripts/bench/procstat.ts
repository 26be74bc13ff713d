import { existsSync, readdirSync, readFileSync } from "node:fs";

/** CPU time from /proc (Linux), the bench's primary figure; null where /proc is missing. Ticks: Linux USER_HZ, 100 on mainstream kernels. */
const TICKS_PER_SECOND = 100;

/** [pid, comm, state, ppid, …]: the command name may hold spaces, so fields start after the last ')'. */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    const close = text.lastIndexOf(")");
    return [text.slice(0, text.indexOf("(")).trim(), text.slice(text.indexOf("(") + 1, close), ...text.slice(close + 2).split(" ")];
  } catch {
    return null;
  }
}

/** User + system CPU milliseconds a process has used so far (utime and stime: fields 14 and 15). */
export function cpuMs(pid: number | null): number | null {
  const f = pid === null ? null : statFields(pid);
  const ticks = f ? Number(f[13]) + Number(f[14]) : NaN;
  return Number.isFinite(ticks) ? (ticks * 1000) / TICKS_PER_SECOND : null;
}

/** The pid of a direct child of `parent` named `comm` (the workerd Miniflare spawned). */
export function findChild(parent: number, comm: string): number | null {
  const pids = existsSync("/proc") ? readdirSync("/proc").filter((e) => /^\d+$/.test(e)) : [];
  const child = pids.find((pid) => {
    const f = statFields(Number(pid));
    return f?.[1] === comm && Number(f[3]) === parent;
  });
  return child === undefined ? null : Number(child);
}
