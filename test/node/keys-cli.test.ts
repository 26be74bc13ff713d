import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../../src/management/lifecycle.ts";
import { findKeyById } from "../../src/storage/records.ts";
import { keyStore } from "../../scripts/lib/key-store.ts";
import { readDevVars } from "../../scripts/lib/local-state.ts";
import { inlineParams, wranglerD1, wranglerKv } from "../../scripts/lib/wrangler-state.ts";
import { freePorts, keysCli, killGroup, start, waitForOutput, type Started } from "../support/processes.ts";

/**
 * The key command line (docs/design.md §8), run for real against the local state of
 * a running `npm start`, then with the dev server stopped; every key it prints
 * is used through the gateway.
 */
const KEY = /pk_live_[A-Za-z0-9_-]{48}/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface KeyJson {
  id: string;
  name: string;
  organization_id: string;
  scopes: string[];
  state: string;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_from: string | null;
  rate_limit: { limit: number; period_s: number } | null;
  monthly_quota: number | null;
  allowed_cidrs?: string[] | null;
  mode: "live" | "test";
  key?: string;
}

interface UsageJson {
  key_id: string;
  granularity: string;
  buckets: ({ start: string } & Record<"2xx" | "3xx" | "4xx" | "5xx", number>)[];
}

describe("npm run keys", () => {
  let tmp: string;
  let server: Started;
  let gateway: string;
  let state: string[];

  const keys = async (args: string[], env: Record<string, string> = {}) => keysCli([...args, ...state], env);
  const json = async (args: string[]) => {
    const r = await keys([...args, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as KeyJson & { items: KeyJson[] };
  };
  const get = (key: string, path = "/api/v1/candidates") => fetch(`${gateway}${path}`, { headers: { authorization: `Bearer ${key}` } });
  /** Polls until the gateway answers `status` for `key`, up to `ms`. */
  async function eventually(key: string, status: number, ms: number) {
    const deadline = Date.now() + ms;
    for (;;) {
      const res = await get(key);
      const body = await res.text();
      if (res.status === status || Date.now() > deadline) return { status: res.status, body };
      await sleep(100);
    }
  }

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "gateway-keys-"));
    state = ["--persist-to", join(tmp, "state"), "--dev-vars", join(tmp, ".dev.vars")];
    await writeFile(join(tmp, ".dev.vars"), `KEY_HASH_SECRET=${randomBytes(48).toString("base64url")}\n`);
    const [port, originPort] = await freePorts(2);
    gateway = `http://127.0.0.1:${port}`;
    server = start({ PORT: String(port), ORIGIN_PORT: String(originPort) }, state);
    await waitForOutput(server, /^curl .*$/m, 110_000);
  }, 120_000);

  afterAll(async () => {
    if (server) killGroup(server.child, "SIGTERM");
    await server?.exited;
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 30_000);

  it("create prints the key once, with a warning; the key works through the running gateway at once", async () => {
    const r = await keys(["create", "--org", "acme", "--name", "Zapier", "--scopes", "candidates:read,jobs:read", "--expires-in", "90d"]);
    expect(r.code, r.stderr).toBe(0);
    const key = r.stdout.match(KEY)![0];
    expect(r.stdout).toContain("This is the only time the key is shown");
    expect(r.stdout).toMatch(/expires: 20\d\d-/);
    expect((await get(key)).status).toBe(200);
    expect((await get(key, "/api/v1/offers")).status).toBe(403);
  });

  it("--json prints exactly one JSON document: the key object plus key", async () => {
    const created = await json(["create", "--org", "acme", "--name", "json", "--scopes", "jobs:read"]);
    expect(created).toMatchObject({
      organization_id: "acme",
      name: "json",
      scopes: ["jobs:read"],
      state: "active",
      expires_at: null,
      mode: "live",
    });
    expect(created.key).toMatch(KEY);
    const shown = await json(["show", created.id]);
    expect(shown).not.toHaveProperty("key");
    expect(shown.id).toBe(created.id);
    const list = await json(["list", "--org", "acme"]);
    expect(list.items.map((k) => k.id)).toContain(created.id);
    expect(JSON.stringify(list)).not.toContain(created.key!);
  });

  it("revoke: the running gateway refuses the key within MEMORY_CACHE_TTL_MS, even after a cached hit", async () => {
    const created = await json(["create", "--org", "acme", "--name", "doomed", "--scopes", "candidates:read"]);
    expect((await get(created.key!)).status).toBe(200); // now in the gateway's memory and KV
    const r = await keys(["revoke", created.id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Revoked ${created.id}`);
    const refused = await eventually(created.key!, 401, 2_500);
    expect(refused.status).toBe(401);
    expect(refused.body).toContain("API key has been revoked");
    expect((await json(["show", created.id])).state).toBe("revoked");
    expect((await keys(["revoke", created.id])).code).toBe(0); // idempotent
    const rotated = await keys(["rotate", created.id]);
    expect(rotated.code).toBe(1); // the same rule as the API: a revoked key is not rotated
    expect(rotated.stderr).toContain("already revoked");
  });

  it("rotate with --grace: the old key works during the grace period, the new one at once", async () => {
    const old = await json(["create", "--org", "acme", "--name", "rotating", "--scopes", "candidates:read"]);
    expect((await get(old.key!)).status).toBe(200);
    const next = await json(["rotate", old.id, "--grace", "3s"]);
    expect(next).toMatchObject({ name: "rotating", scopes: ["candidates:read"], rotated_from: old.id });
    expect(next.key).toMatch(KEY);
    expect((await get(next.key!)).status).toBe(200);
    expect((await get(old.key!)).status).toBe(200);
    await sleep(3_100);
    expect((await eventually(old.key!, 401, 2_500)).status).toBe(401);
  }, 20_000);

  it("create --rate-limit --monthly-quota: on the key object, enforced by the running gateway with its headers", async () => {
    const created = await json([
      "create",
      "--org",
      "acme",
      "--name",
      "metered",
      "--scopes",
      "jobs:read",
      "--rate-limit",
      "2/3600",
      "--monthly-quota",
      "1000",
    ]);
    expect(created).toMatchObject({ rate_limit: { limit: 2, period_s: 3600 }, monthly_quota: 1000 });
    expect((await keys(["show", created.id])).stdout).toMatch(/limits\s+2 requests per 3600 s; 1000 requests per month/);
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 3; i++) {
      last = await get(created.key!, "/api/v1/jobs");
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 429]);
    expect(last!.headers.get("ratelimit-policy")).toMatch(/^"rate";q=2;w=3600, "monthly";q=1000;w=\d+$/);
    expect(last!.headers.get("ratelimit")).toMatch(/^"rate";r=0;t=\d+, "monthly";r=998;t=\d+$/);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(3500);
    expect(JSON.parse(await last!.text())).toMatchObject({ errors: [{ code: "rate_limited" }] });
  });
  it("create --allowed-cidrs: canonical blocks; the running gateway serves the key only from inside them", async () => {
    const created = await json([
      "create",
      "--org",
      "acme",
      "--name",
      "fenced",
      "--scopes",
      "candidates:read",
      "--allowed-cidrs",
      "192.0.2.0/24, 2001:DB8::/32",
    ]);
    expect(created.allowed_cidrs).toEqual(["192.0.2.0/24", "2001:db8::/32"]);
    const from = (ip: string) =>
      fetch(`${gateway}/api/v1/candidates`, { headers: { authorization: `Bearer ${created.key}`, "cf-connecting-ip": ip } });
    expect((await from("192.0.2.77")).status).toBe(200);
    expect((await from("2001:db8:ffff::1")).status).toBe(200);
    const refused = await from("198.51.100.7");
    expect(refused.status).toBe(403);
    const body = await refused.text();
    expect(JSON.parse(body).errors[0].code).toBe("forbidden");
    expect(body).not.toContain("198.51.100");
    expect((await keys(["show", created.id])).stdout).toContain("allowed from 192.0.2.0/24 2001:db8::/32");
  }, 120_000);

  it("usage: the counts of requests sent through wrangler dev, by status class (--json and text)", async () => {
    const created = await json(["create", "--org", "acme", "--name", "counted", "--scopes", "candidates:read"]);
    for (let i = 0; i < 3; i++) expect((await get(created.key!)).status).toBe(200);
    expect((await get(created.key!, "/api/v1/jobs")).status).toBe(403);
    // The dev server writes its batched counts within USAGE_FLUSH_INTERVAL_MS (1 s).
    const deadline = Date.now() + 30_000;
    let u: UsageJson;
    for (;;) {
      const r = await keys(["usage", created.id, "--json"]);
      expect(r.code, r.stderr).toBe(0);
      u = JSON.parse(r.stdout) as UsageJson;
      const last = u.buckets.at(-1)!;
      if ((last["2xx"] === 3 && last["4xx"] === 1) || Date.now() > deadline) break;
      await sleep(250);
    }
    expect(u.key_id).toBe(created.id);
    expect(u.buckets).toHaveLength(24);
    expect(u.buckets.at(-1)).toMatchObject({ "2xx": 3, "3xx": 0, "4xx": 1, "5xx": 0 });
    const text = await keys(["usage", created.id, "--granularity", "day"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Usage of ${created.id} "counted" per day`);
    expect(text.stdout).toMatch(/^total\s+3\s+0\s+1\s+0$/m);
  }, 120_000);

  it("create --mode test: a pk_test_ key, mode test everywhere, that reaches the test origin (locally the demo origin) as test", async () => {
    const created = await json(["create", "--org", "acme", "--name", "sandbox", "--scopes", "candidates:read", "--mode", "test"]);
    expect(created.key).toMatch(/^pk_test_[A-Za-z0-9_-]{48}$/);
    expect(created.mode).toBe("test");
    const res = await get(created.key!);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { meta: { api_key_mode: string } }).meta.api_key_mode).toBe("test");
    // Rotation keeps the mode; `show` names it.
    const next = await json(["rotate", created.id]);
    expect(next.key).toMatch(/^pk_test_/);
    expect(next.mode).toBe("test");
    expect((await keys(["show", next.id])).stdout).toMatch(/^mode\s+test$/m);
  }, 120_000);

  const BAD: [string, string[]][] = [
    ["an unknown --mode", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--mode", "prod"]],
    ["--mode on list", ["list", "--org", "acme", "--mode", "test"]],
    ["an unknown scope", ["create", "--org", "acme", "--name", "x", "--scopes", "candidates:delete"]],
    ["no --org", ["create", "--name", "x", "--scopes", "jobs:read"]],
    ["an org with spaces", ["create", "--org", "a b", "--name", "x", "--scopes", "jobs:read"]],
    [
      "both expiry flags",
      ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--expires-in", "1d", "--expires-at", "2099-01-01T00:00:00Z"],
    ],
    ["a past --expires-at", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--expires-at", "2020-01-01T00:00:00Z"]],
    ["a bad duration", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--expires-in", "soon"]],
    ["an unknown flag", ["list", "--org", "acme", "--verbose"]],
    ["a flag of another command", ["list", "--org", "acme", "--grace", "1h"]],
    ["a malformed id", ["revoke", "not-a-key"]],
    ["a grace over 7 days", ["rotate", "key_AAAAAAAAAAAAAAAAAAAA", "--grace", "8d"]],
    ["an unknown command", ["destroy"]],
    ["a rate limit of 0", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--rate-limit", "0/60"]],
    ["a rate-limit period over a day", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--rate-limit", "10/86401"]],
    ["a malformed rate limit", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--rate-limit", "fast"]],
    ["a monthly quota of 0", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--monthly-quota", "0"]],
    ["a negative monthly quota", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--monthly-quota=-5"]],
    ["--rate-limit on rotate", ["rotate", "key_AAAAAAAAAAAAAAAAAAAA", "--rate-limit", "1/1"]],
    ["host bits in --allowed-cidrs", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--allowed-cidrs", "10.1.0.0/8"]],
    [
      "a zone id in --allowed-cidrs",
      ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--allowed-cidrs", "fe80::1%eth0/64"],
    ],
    ["an empty --allowed-cidrs", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--allowed-cidrs", ""]],
    [
      "usage with --from after --to",
      ["usage", "key_AAAAAAAAAAAAAAAAAAAA", "--from", "2026-01-02T00:00:00Z", "--to", "2026-01-01T00:00:00Z"],
    ],
    ["usage with too many buckets", ["usage", "key_AAAAAAAAAAAAAAAAAAAA", "--from", "2020-01-01T00:00:00Z"]],
    ["usage with an unknown granularity", ["usage", "key_AAAAAAAAAAAAAAAAAAAA", "--granularity", "week"]],
  ];
  describe("bad usage", () => {
    let before: string;
    beforeAll(async () => {
      before = JSON.stringify(await json(["list", "--org", "acme"]));
    });
    it.each(BAD)("%s: exit 2 with a message on stderr", async (_, args) => {
      const r = await keys(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^keys: /);
      expect(r.stdout).toBe("");
    });
    it("changed nothing", async () => {
      expect(JSON.stringify(await json(["list", "--org", "acme"]))).toBe(before);
    });
  });

  it("--remote refuses without KEY_HASH_SECRET (exit 2)", async () => {
    const r = await keysCli(["list", "--org", "acme", "--remote"], { KEY_HASH_SECRET: "" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("KEY_HASH_SECRET");
  });

  it("an unknown key id is exit 1", async () => {
    const r = await keys(["show", "key_AAAAAAAAAAAAAAAAAAAA"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("No such key");
  });

  it("help prints the usage", async () => {
    const r = await keysCli(["help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: npm run -s keys -- <command>");
  });

  it("help names no document outside the repository", async () => {
    const r = await keysCli(["help"]);
    expect(r.stdout).not.toMatch(/DESIGN|FACTS|§/);
  });

  it.each([
    ["create", "--rate-limit"],
    ["rotate", "--grace"],
    ["usage", "--granularity"],
  ])("%s --help describes that command alone", async (command, flag) => {
    for (const args of [
      [command, "--help"],
      ["help", command],
    ]) {
      const r = await keysCli(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: npm run -s keys -- ${command}`);
      expect(r.stdout).toContain(flag);
      expect(r.stdout).not.toContain("secret-status [--json]");
    }
  });

  it.each([
    [["create", "--org", "acme", "--name", "x", "--scope", "jobs:read"], "unknown option --scope (did you mean --scopes?)"],
    [["rotate", "key_AAAAAAAAAAAAAAAAAAAA", "--grase", "1h"], "unknown option --grase (did you mean --grace?)"],
    [["lst", "--org", "acme"], 'unknown command "lst" (did you mean list?)'],
  ])("a typo is answered with the closest valid word: %j", async (args, message) => {
    const r = await keysCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`keys: ${message}`);
    const known = ["create", "rotate"].includes(args[0]!);
    expect(r.stderr).toContain(`Run \`npm run -s keys -- ${known ? `${args[0]} --help` : "help"}\` for usage.`);
  });

  it("the --remote storage path (wrangler d1 execute, wrangler kv key) works, run here against local state", async () => {
    const inline = inlineParams("SELECT ? AS a, ? AS b, '?' AS c, ? AS d", ["it's", 3, null]);
    expect(inline).toBe("SELECT 'it''s' AS a, 3 AS b, '?' AS c, NULL AS d");
    const secret = (await readDevVars(join(tmp, ".dev.vars")))!.KEY_HASH_SECRET!;
    const loc = { remote: false, persistTo: join(tmp, "state") } as const;
    const store = await keyStore(wranglerD1(loc), wranglerKv(loc), secret, 300, 0);
    const created = await createKey(store, {
      organizationId: "acme",
      name: "via wrangler's o'commands",
      scopes: ["jobs:read"],
      expiresAt: null,
      actor: "cli",
    });
    expect((await findKeyById(store.db, created.id))?.name).toBe("via wrangler's o'commands");
    expect((await get(created.key, "/api/v1/jobs")).status).toBe(200);
  }, 30_000);

  it("works on the same state with the dev server stopped", async () => {
    killGroup(server.child, "SIGTERM");
    await server.exited;
    const created = await json(["create", "--org", "offline", "--name", "later", "--scopes", "jobs:read"]);
    expect((await json(["list", "--org", "offline"])).items.map((k) => k.id)).toEqual([created.id]);
  }, 30_000);
});
