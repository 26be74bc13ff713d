import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { PROJECT_DIR, runNodeScript, type CommandResult } from "../../scripts/lib/local-state.ts";

/** Real processes for Node tests: `npm start` (scripts/start.ts) and the key command line. */
export { PROJECT_DIR };
const START_SCRIPT = join(PROJECT_DIR, "scripts", "start.ts");
const KEYS_SCRIPT = join(PROJECT_DIR, "scripts", "keys.ts");

export interface Started {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node scripts/start.ts`, as `npm start` runs it, in its own process group so the whole tree can be stopped. */
export function start(env: Record<string, string>, args: string[]): Started {
  return spawnNode([START_SCRIPT, ...args], PROJECT_DIR, { ...process.env, ...env });
}

/** A Node script with this Node, output captured, in its own process group (stop it with killGroup). */
export function spawnNode(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (output += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (output += s));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

export async function waitForOutput(run: Started, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void run.exited.then(() => (gone = true));
  for (;;) {
    const m = run.output().match(pattern);
    if (m) return m;
    if (gone) throw new Error(`start.ts exited before printing ${pattern}:\n${run.output()}`);
    if (Date.now() > deadline) throw new Error(`start.ts did not print ${pattern} within ${timeoutMs} ms:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Distinct free ports: all held open together, then released. */
export async function freePorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < n; i++) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
  }
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

export async function refused(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return false;
  } catch {
    return true;
  }
}

/** `npm run -s keys -- ARGS`, as a user runs it: the real script, output captured. */
export function keysCli(args: readonly string[], env: Record<string, string> = {}): Promise<CommandResult> {
  return runNodeScript(KEYS_SCRIPT, args, { ...process.env, ...env });
}
