import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKey } from "../../src/keys/lifecycle.ts";
import { findKeyById } from "../../src/storage/records.ts";
import { keyStore } from "../../scripts/lib/key-store.ts";
import { readDevVars } from "../../scripts/lib/local-state.ts";
import { inlineParams, wranglerD1, wranglerKv } from "../../scripts/lib/wrangler-state.ts";
import { freePorts, keysCli, killGroup, start, waitForOutput, type Started } from "../support/processes.ts";

/**
 * The key command line (DESIGN §8), run for real against the local state of
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
  mode: "live" | "test";
  key?: string;
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
  const get = (key: string, path = "/api/v1/candidates") =>
    fetch(`${gateway}${path}`, { headers: { authorization: `Bearer ${key}` } });
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
    // A short second tombstone write keeps revoke and rotate quick here (default 5 s).
    await writeFile(join(tmp, ".dev.vars"), `KEY_HASH_SECRET=${randomBytes(48).toString("base64url")}\nTOMBSTONE_REWRITE_DELAY_MS=500\n`);
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
    expect(created).toMatchObject({ organization_id: "acme", name: "json", scopes: ["jobs:read"], state: "active", expires_at: null, mode: "live" });
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
    ["both expiry flags", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--expires-in", "1d", "--expires-at", "2099-01-01T00:00:00Z"]],
    ["a past --expires-at", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--expires-at", "2020-01-01T00:00:00Z"]],
    ["a bad duration", ["create", "--org", "acme", "--name", "x", "--scopes", "jobs:read", "--expires-in", "soon"]],
    ["an unknown flag", ["list", "--org", "acme", "--verbose"]],
    ["a flag of another command", ["list", "--org", "acme", "--grace", "1h"]],
    ["a malformed id", ["revoke", "not-a-key"]],
    ["a grace over 7 days", ["rotate", "key_AAAAAAAAAAAAAAAAAAAA", "--grace", "8d"]],
    ["an unknown command", ["destroy"]],
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

  it("the --remote storage path (wrangler d1 execute, wrangler kv key) works, run here against local state", async () => {
    const inline = inlineParams("SELECT ? AS a, ? AS b, '?' AS c, ? AS d", ["it's", 3, null]);
    expect(inline).toBe("SELECT 'it''s' AS a, 3 AS b, '?' AS c, NULL AS d");
    const secret = (await readDevVars(join(tmp, ".dev.vars")))!.KEY_HASH_SECRET!;
    const loc = { remote: false, persistTo: join(tmp, "state") } as const;
    const store = await keyStore(wranglerD1(loc), wranglerKv(loc), secret, 300, 0);
    const created = await createKey(store, { organizationId: "acme", name: "via wrangler's o'commands", scopes: ["jobs:read"], expiresAt: null, actor: "cli" });
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
