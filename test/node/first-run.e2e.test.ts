import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runNodeScript } from "../../scripts/lib/local-state.ts";
import { freePorts, killGroup, PROJECT_DIR, spawnNode, type Started } from "../support/processes.ts";

/**
 * A newcomer's first run, on a fresh copy of the repository: only the files
 * git knows (no .dev.vars, no .wrangler state, no built settings bundle) and
 * the installed node_modules (linked, as `npm install` would have left them).
 * Then, in order: the key command line before anything ran, plain
 * `npx wrangler dev` with no flag but the port, the command line on the state
 * it made, and on a database nobody migrated.
 */

const KEY = /pk_live_[A-Za-z0-9_-]{48}/;
const READY_TIMEOUT_MS = 110_000;
/** Lines wrangler or workerd print that look like failures but are not (docs/development.md). */
const NOISE = [/types might be out of date/i, /will not work in local development/i, /no such Durable Object class/i];

async function freshCopy(into: string): Promise<void> {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
  })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    if (!existsSync(join(PROJECT_DIR, file))) continue; // deleted in the work tree, not yet committed
    await mkdir(dirname(join(into, file)), { recursive: true });
    await copyFile(join(PROJECT_DIR, file), join(into, file));
  }
  await symlink(join(PROJECT_DIR, "node_modules"), join(into, "node_modules"), "dir");
}

function wranglerDev(copy: string, port: number): Started {
  // As a newcomer runs it: without the variable the test configuration sets to keep the build step out of other tests' way.
  const { GATEWAY_LOCAL_SETUP: _, ...env } = process.env;
  const wrangler = join(copy, "node_modules", "wrangler", "bin", "wrangler.js");
  return spawnNode([wrangler, "dev", "--ip", "127.0.0.1", "--port", String(port)], copy, {
    ...env,
    WRANGLER_SEND_METRICS: "false",
    CI: "true",
  });
}

describe("a fresh copy: npm install, then plain npx wrangler dev", () => {
  let tmp: string;
  let copy: string;
  let server: Started;
  let gateway: string;
  const keys = (args: string[]) => runNodeScript(join(copy, "scripts", "keys.ts"), args, { ...process.env });

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "gateway-fresh-"));
    copy = join(tmp, "repo");
    await freshCopy(copy);
  }, 60_000);

  afterAll(async () => {
    if (server) {
      killGroup(server.child, "SIGTERM");
      const timer = setTimeout(() => killGroup(server.child, "SIGKILL"), 10_000);
      await server.exited;
      clearTimeout(timer);
      killGroup(server.child, "SIGKILL");
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 30_000);

  it("the key command line before anything ran says which command creates the secrets", async () => {
    expect(existsSync(join(copy, ".dev.vars"))).toBe(false);
    const r = await keys(["list", "--org", "demo"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("has no KEY_HASH_SECRET: run `npm start` or `npx wrangler dev` once");
  });

  it("serves a working gateway: secrets created, migrations applied, /healthz ok, no misleading warnings", async () => {
    const [port] = await freePorts(1);
    gateway = `http://127.0.0.1:${port}`;
    server = wranglerDev(copy, port!);
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let health: Response | null = null;
    while (Date.now() < deadline && server.child.exitCode === null) {
      health = await fetch(`${gateway}/healthz`).catch(() => null);
      if (health) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(health?.status, server.output()).toBe(200);
    expect(await health!.json()).toEqual({ success: true, data: { status: "ok" }, errors: [] });
    const out = server.output();
    expect(out).toContain("Created .dev.vars with a random KEY_HASH_SECRET and IDENTITY_SIGNING_KEY.");
    const names = (await readdir(join(copy, "migrations"))).filter((n) => n.endsWith(".sql")).sort();
    expect(out).toContain(`Applied local D1 migrations: ${names.join(", ")}.`);
    for (const noise of NOISE) expect(out).not.toMatch(noise);
    expect(await readFile(join(copy, ".dev.vars"), "utf8")).toMatch(/^KEY_HASH_SECRET=[A-Za-z0-9_-]{64}$/m);
  }, 120_000);

  it("the key command line works on that state; the key authenticates; the 502 (no origin runs) names the origin", async () => {
    const r = await keys(["create", "--org", "demo", "--name", "first", "--scopes", "candidates:read"]);
    expect(r.code, r.stderr).toBe(0);
    for (const noise of NOISE) expect(r.stderr).not.toMatch(noise);
    const key = r.stdout.match(KEY)![0];
    const res = await fetch(`${gateway}/api/v1/candidates`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(502);
    expect((await res.json()) as unknown).toMatchObject({ errors: [{ code: "bad_gateway" }] });
    await new Promise((r) => setTimeout(r, 200));
    const line = server
      .output()
      .split("\n")
      .find((l) => l.includes('"event":"origin_unreachable"'));
    expect(line).toBeDefined();
    expect(JSON.parse(line!)).toMatchObject({ origin: "http://127.0.0.1:8788" });
  }, 30_000);

  it("on a database nobody migrated, the command line names the command to run, which then works", async () => {
    const empty = join(tmp, "unmigrated");
    const r = await keys(["list", "--org", "demo", "--persist-to", empty]);
    expect(r.code).toBe(1);
    const hint = `npx wrangler d1 migrations apply DB --local --persist-to ${empty}`;
    expect(r.stderr).toContain(`The local D1 database has no tables yet: run \`${hint}\` first`);
    const wrangler = join(copy, "node_modules", "wrangler", "bin", "wrangler.js");
    const applied = await runNodeScript(
      wrangler,
      ["d1", "migrations", "apply", "DB", "--local", "--config", join(copy, "wrangler.toml"), "--persist-to", empty],
      { ...process.env, CI: "true" },
    );
    expect(applied.code, applied.stderr).toBe(0);
    const again = await keys(["list", "--org", "demo", "--persist-to", empty]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe("No keys in organization demo.\n");
  }, 60_000);
});
