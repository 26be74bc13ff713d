import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts, killGroup, PROJECT_DIR, refused, start, waitForOutput, type Started } from "../support/processes.ts";

/**
 * `npm start` end to end: the real scripts/start.ts, the real `wrangler dev`
 * and the demo origin, on free ports with a temporary state directory and
 * secrets file (the developer's .dev.vars and .wrangler/state stay untouched).
 */

const DEV_VARS = join(PROJECT_DIR, ".dev.vars");
const KEY = /pk_live_[A-Za-z0-9_-]{48}/;
const READY_TIMEOUT_MS = 110_000;

function sh(command: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile("sh", ["-c", command], { timeout: 15_000 }, (err, stdout) => {
      const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
      resolve({ code, stdout });
    });
  });
}

/** The same key with one character of its random part changed: well-formed alphabet, wrong checksum. */
function mistype(key: string): string {
  const i = 20;
  const replacement = key[i] === "A" ? "B" : "A";
  return key.slice(0, i) + replacement + key.slice(i + 1);
}

describe("npm start (scripts/start.ts) through the real wrangler dev", () => {
  let tmp: string;
  let gatewayPort: number;
  let originPort: number;
  let spare: number[];
  let idpPort: number;
  let run: Started;
  /** Every start.ts this file launched, for the final clean-up. */
  const launched: Started[] = [];
  let gateway: string;
  let adminKey: string;
  let readKey: string;
  let curlLine: string;
  let developerDevVars: string | null;

  beforeAll(async () => {
    developerDevVars = existsSync(DEV_VARS) ? await readFile(DEV_VARS, "utf8") : null;
    tmp = await mkdtemp(join(tmpdir(), "gateway-start-"));
    const ports = await freePorts(5);
    gatewayPort = ports[0]!;
    originPort = ports[1]!;
    spare = ports.slice(2, 4);
    // The local identity provider's port (scripts/local-idp.ts), free too, so a developer's `npm start` on 8789 is no obstacle.
    idpPort = ports[4]!;
    gateway = `http://127.0.0.1:${gatewayPort}`;
    run = start({ IDP_PORT: String(idpPort), PORT: String(gatewayPort), ORIGIN_PORT: String(originPort) }, stateArgs());
    launched.push(run);
    curlLine = (await waitForOutput(run, /^curl .*$/m, READY_TIMEOUT_MS))[0];
    adminKey = (await waitForOutput(run, new RegExp(`^DEMO_ADMIN_KEY=(${KEY.source})$`, "m"), 1_000))[1]!;
    readKey = (await waitForOutput(run, new RegExp(`^DEMO_READ_KEY=(${KEY.source})$`, "m"), 1_000))[1]!;
  }, 120_000);

  const stateArgs = () => ["--persist-to", join(tmp, "state"), "--dev-vars", join(tmp, ".dev.vars")];

  afterAll(async () => {
    for (const r of launched) {
      if (r.child.exitCode === null && r.child.signalCode === null) {
        killGroup(r.child, "SIGTERM");
        const timer = setTimeout(() => killGroup(r.child, "SIGKILL"), 10_000);
        await r.exited;
        clearTimeout(timer);
      }
      // Whatever start.ts left behind in its group (it should leave nothing).
      killGroup(r.child, "SIGKILL");
    }
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 30_000);

  it("prints the local identity provider's demo people", () => {
    expect(run.output()).toContain(`through the local identity provider (http://127.0.0.1:${idpPort})`);
    expect(run.output()).toMatch(/^DEMO_PERSON=admin@demo\.test \S+ \(admin of organization "demo"\)$/m);
    expect(run.output()).toMatch(/^DEMO_PERSON=viewer@demo\.test \S+ \(viewer of organization "demo"\)$/m);
  });

  it("prints two distinct keys and a curl line with the read key inlined", () => {
    expect(adminKey).not.toBe(readKey);
    expect(curlLine).toBe(`curl -H "Authorization: Bearer ${readKey}" ${gateway}/api/v1/candidates`);
  });

  it("prints nothing that looks like a failure when nothing failed", () => {
    const noise = [/will not work in local development/i, /no such Durable Object class/i];
    // wrangler checks worker-configuration.d.ts against the secrets in the project's own .dev.vars
    // (what npm start writes by default), which this run leaves alone: it uses --dev-vars in a
    // temporary folder. With the default file the check passes (test/node/first-run.e2e.test.ts).
    if (existsSync(join(PROJECT_DIR, ".dev.vars"))) noise.push(/types might be out of date/i);
    for (const pattern of noise) expect(run.output()).not.toMatch(pattern);
  });

  it("applies every migration to fresh local state and names each once", async () => {
    const names = (await readdir(join(PROJECT_DIR, "migrations"))).filter((n) => n.endsWith(".sql")).sort();
    expect(run.output()).toContain(`Applied ${names.join(", ")}.`);
  });

  it("writes the secrets to the given file, not the project's .dev.vars", async () => {
    const written = await readFile(join(tmp, ".dev.vars"), "utf8");
    expect(written).toMatch(/^KEY_HASH_SECRET=[A-Za-z0-9_-]{64}$/m);
    expect(written).toMatch(/^IDENTITY_SIGNING_KEY='\{"kty":"OKP","crv":"Ed25519","x":"[A-Za-z0-9_-]{43}","d":"[A-Za-z0-9_-]{43}"\}'$/m);
    expect(existsSync(DEV_VARS) ? await readFile(DEV_VARS, "utf8") : null).toBe(developerDevVars);
  });

  it.skipIf(!existsSync("/usr/bin/curl") && !existsSync("/bin/curl"))("the printed curl line works when pasted", async () => {
    const { code, stdout } = await sh(`${curlLine} -s`);
    expect(code).toBe(0);
    const body = JSON.parse(stdout) as { success: boolean; meta: { organization_id: string } };
    expect(body.success).toBe(true);
    expect(body.meta.organization_id).toBe("demo");
  });

  it("admin key: GET /api/v1/candidates reaches the demo origin as organization demo", async () => {
    const res = await fetch(`${gateway}/api/v1/candidates`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(res.status).toBe(200);
    const requestId = res.headers.get("x-request-id");
    expect(requestId).toBeTruthy();
    const body = (await res.json()) as {
      success: boolean;
      data: { id: string }[];
      meta: {
        served_by: string;
        organization_id: string;
        api_key_id: string;
        api_key_scopes: string[];
        request_id: string;
        api_key_mode: string;
      };
    };
    expect(body.success).toBe(true);
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.meta.served_by).toBe("demo-origin");
    expect(body.meta.organization_id).toBe("demo");
    expect(body.meta.api_key_id).toMatch(/^key_[0-9A-Za-z]{20}$/);
    expect(body.meta.api_key_scopes).toEqual(["*"]);
    expect(body.meta.request_id).toBe(requestId);
    expect(body.meta.api_key_mode).toBe("live");
  });

  it("read key: POST /api/v1/jobs is 403 insufficient_scope", async () => {
    const res = await fetch(`${gateway}/api/v1/jobs`, {
      method: "POST",
      headers: { authorization: `Bearer ${readKey}`, "content-type": "application/json" },
      body: JSON.stringify({ title: "Nope" }),
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="api", error="insufficient_scope", scope="jobs:write"');
    expect(await res.text()).toBe(
      '{"success":false,"data":null,"errors":[{"code":"forbidden","message":"Insufficient permissions: requires jobs:write"}]}',
    );
  });

  it("no key: 401 Missing API key", async () => {
    const res = await fetch(`${gateway}/api/v1/candidates`);
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="api"');
    expect(await res.json()).toEqual({
      success: false,
      data: null,
      errors: [{ code: "unauthorized", message: "Missing API key" }],
    });
  });

  it("a mistyped key: 401 Invalid API key with error=invalid_token", async () => {
    const typo = mistype(adminKey);
    expect(typo).not.toBe(adminKey);
    expect(typo).toMatch(new RegExp(`^${KEY.source}$`));
    const res = await fetch(`${gateway}/api/v1/candidates`, { headers: { authorization: `Bearer ${typo}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toBeTruthy();
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="api", error="invalid_token"');
    expect(await res.json()).toEqual({
      success: false,
      data: null,
      errors: [{ code: "unauthorized", message: "Invalid API key" }],
    });
  });

  it("a busy gateway port makes a second start fail at once with a clear message", async () => {
    const second = start({ IDP_PORT: String(idpPort), PORT: String(gatewayPort), ORIGIN_PORT: String(spare[0]) }, stateArgs());
    launched.push(second);
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.output()).toContain(`Port ${gatewayPort} on 127.0.0.1 is already in use`);
    expect(second.output()).toContain("PORT=");
    expect(second.output()).not.toContain("DEMO_ADMIN_KEY=");
  }, 30_000);

  it("a busy origin port is named too", async () => {
    const second = start({ IDP_PORT: String(idpPort), PORT: String(spare[1]), ORIGIN_PORT: String(originPort) }, stateArgs());
    launched.push(second);
    const { code } = await second.exited;
    expect(code).toBe(1);
    expect(second.output()).toContain(`Port ${originPort} on 127.0.0.1 is already in use`);
    expect(second.output()).toContain("ORIGIN_PORT=");
  }, 30_000);

  it("SIGTERM stops wrangler dev and the origin, and exits 0", async () => {
    process.kill(run.child.pid!, "SIGTERM"); // start.ts alone: it must forward the signal itself
    const { code } = await run.exited;
    expect(code).toBe(0);
    expect(await refused(`${gateway}/healthz`)).toBe(true);
    expect(await refused(`http://127.0.0.1:${originPort}/healthz`)).toBe(true);
  }, 30_000);

  it("a restart on the same state revokes the earlier demo keys, even where KV cached them", async () => {
    // The admin key answered above from D1, which cached its record in the local KV.
    const again = start({ IDP_PORT: String(idpPort), PORT: String(gatewayPort), ORIGIN_PORT: String(originPort) }, stateArgs());
    launched.push(again);
    await waitForOutput(again, /^curl .*$/m, READY_TIMEOUT_MS);
    expect(again.output()).toContain('Revoked 2 earlier demo key(s) in organization "demo".');
    const newAdmin = (await waitForOutput(again, new RegExp(`^DEMO_ADMIN_KEY=(${KEY.source})$`, "m"), 1_000))[1]!;
    expect(newAdmin).not.toBe(adminKey);
    // Same secrets file: the new key works, the old one is refused as revoked.
    const fresh = await fetch(`${gateway}/api/v1/candidates`, { headers: { authorization: `Bearer ${newAdmin}` } });
    expect(fresh.status).toBe(200);
    await fresh.arrayBuffer();
    const old = await fetch(`${gateway}/api/v1/candidates`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(old.status).toBe(401);
    expect(await old.json()).toEqual({
      success: false,
      data: null,
      errors: [{ code: "unauthorized", message: "API key has been revoked" }],
    });
  }, 120_000);
});
