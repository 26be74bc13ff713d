import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECURITY_TEST_HASH_SECRET, startGateway, type Gateway } from "../support/gateway-server.ts";
import { keysCli } from "../support/processes.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";

/**
 * Rotating KEY_HASH_SECRET through wrangler's dev runtime and the key command
 * line, on one local state: keys made under version 1 work during the
 * rotation, the ones used are re-hashed, `secret-status` lists the rest, and
 * after the previous secret is dropped the re-hashed keys still work.
 */

const NEW_SECRET = "node-rotation-secret-0123456789abcdef0123456789abcdef";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let origin: RecordingOrigin;
let dir: string;
const gateways: Gateway[] = [];

beforeAll(async () => {
  origin = await startRecordingOrigin();
  dir = await mkdtemp(join(tmpdir(), "gateway-rotation-"));
});

afterAll(async () => {
  for (const gw of gateways) await gw.close();
  await origin?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const use = async (gw: Gateway, key: string) =>
  (await fetch(`${gw.url}/api/v1/candidates`, { headers: { authorization: `Bearer ${key}`, "cf-connecting-ip": "203.0.113.9" } })).status;

describe("KEY_HASH_SECRET rotation through wrangler dev and the command line", () => {
  it("re-hashes keys on use, lists the others, and keeps re-hashed keys working once the previous secret is gone", async () => {
    const rotating = await startGateway({
      originUrl: origin.url,
      persistTo: dir,
      vars: {
        KEY_HASH_SECRET: NEW_SECRET,
        KEY_HASH_SECRET_VERSION: "2",
        KEY_HASH_SECRET_PREVIOUS: SECURITY_TEST_HASH_SECRET,
        KEY_HASH_SECRET_PREVIOUS_VERSION: "1",
      },
    });
    gateways.push(rotating);
    // Made under the old secret (version 1), as before the rotation.
    const used = await rotating.createKey(["candidates:read"], { org: "rot" });
    const idle = await rotating.createKey(["candidates:read"], { org: "rot" });

    expect(await use(rotating, used.key)).toBe(200);
    const version = async (id: string) =>
      (await rotating.db.prepare("SELECT secret_version FROM api_keys WHERE id = ?").bind(id).first<{ secret_version: number }>())!
        .secret_version;
    for (let i = 0; i < 50 && (await version(used.row.id)) !== 2; i++) await sleep(100);
    expect(await version(used.row.id)).toBe(2);
    expect(await version(idle.row.id)).toBe(1);
    expect(await use(rotating, idle.key)).toBe(200); // still works, now re-hashed too
    for (let i = 0; i < 50 && (await version(idle.row.id)) !== 2; i++) await sleep(100);

    const idle2 = await rotating.createKey(["candidates:read"], { org: "rot" });
    await writeFile(join(dir, ".dev.vars"), `KEY_HASH_SECRET=${NEW_SECRET}\nKEY_HASH_SECRET_VERSION=2\n`);
    const status = await keysCli(["secret-status", "--json", "--persist-to", dir, "--dev-vars", join(dir, ".dev.vars")]);
    expect(status.code, status.stderr).toBe(0);
    const report = JSON.parse(status.stdout) as {
      current_version: number;
      versions: { version: number; active_keys: number }[];
      pending: { id: string; secret_version: number }[];
      previous_secret_droppable: boolean;
    };
    expect(report.current_version).toBe(2);
    expect(report.pending.map((k) => k.id)).toEqual([idle2.row.id]);
    expect(report.versions).toEqual([
      { version: 1, active_keys: 1 },
      { version: 2, active_keys: 2 },
    ]);
    expect(report.previous_secret_droppable).toBe(false);
    const text = await keysCli(["secret-status", "--persist-to", dir, "--dev-vars", join(dir, ".dev.vars")]);
    expect(text.stdout).toContain(idle2.row.id);
    expect(text.stdout).toContain("not yet re-hashed");

    const rotated = await startGateway({
      originUrl: origin.url,
      persistTo: dir,
      withoutMigrations: true,
      vars: { KEY_HASH_SECRET: NEW_SECRET, KEY_HASH_SECRET_VERSION: "2" },
    });
    gateways.push(rotated);
    expect(await use(rotated, used.key)).toBe(200);
    expect(await use(rotated, idle.key)).toBe(200);
    // Never used during the rotation: only the previous secret could have found it.
    expect(await use(rotated, idle2.key)).toBe(401);
  }, 240_000); // two gateway starts and two command-line runs: slow on a loaded machine

  it("secret-status refuses stray arguments with exit 2", async () => {
    const bad = await keysCli(["secret-status", "--org", "x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("secret-status does not take --org");
  });
});
