import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomSigningKey } from "../../scripts/lib/local-state.ts";
import { MANAGEMENT_ROUTES } from "../support/management-routes.ts";
import { freePorts } from "../support/processes.ts";

/**
 * /openapi.json, fetched from the real Worker under `wrangler dev` and checked
 * with the npm OpenAPI validator (@seriousme/openapi-schema-validator). The
 * validator reads its JSON Schemas from disk, which it cannot do inside
 * workerd, so this runs in Node; test/worker/openapi.test.ts checks the
 * document's content inside workerd.
 */

const PROJECT_DIR = fileURLToPath(new URL("../../", import.meta.url));
const WRANGLER = join(PROJECT_DIR, "node_modules", "wrangler", "bin", "wrangler.js");
const READY_TIMEOUT_MS = 90_000;
const REDOCLY = join(PROJECT_DIR, "node_modules", "@redocly", "cli", "bin", "cli.js");

/** `redocly lint FILE` with the project's redocly.yaml, offline: no telemetry, no update check. */
function redoclyLint(file: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [REDOCLY, "lint", file, "--config", join(PROJECT_DIR, "redocly.yaml"), "--format", "stylish"], {
      cwd: PROJECT_DIR,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.once("close", (code) => resolve({ code: code ?? 1, out }));
  });
}

let dir = "";
let child: ChildProcess | null = null;
let output = "";
let baseUrl = "";

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "openapi-test-"));
  const devVars = join(dir, ".dev.vars");
  await writeFile(devVars, `KEY_HASH_SECRET=${randomBytes(48).toString("base64url")}\nIDENTITY_SIGNING_KEY='${randomSigningKey()}'\n`);
  const [port, inspectorPort] = await freePorts(2);
  baseUrl = `http://127.0.0.1:${port}`;
  child = spawn(
    process.execPath,
    [
      WRANGLER,
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      join(dir, "state"),
      "--env-file",
      devVars,
      "--show-interactive-dev-session=false",
    ],
    { cwd: PROJECT_DIR, detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (output += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (output += s));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not answer within ${READY_TIMEOUT_MS} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
});

afterAll(async () => {
  if (child?.pid !== undefined && child.exitCode === null) {
    const exited = new Promise((r) => child!.once("exit", r));
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child!.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000);
    await exited;
    clearTimeout(timer);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("GET /openapi.json under wrangler dev", () => {
  it("is a valid OpenAPI 3.1 document with every management route and the bearer scheme", async () => {
    const res = await fetch(`${baseUrl}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const doc = (await res.json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
      components: { securitySchemes: Record<string, unknown> };
    };

    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors, JSON.stringify(result.errors, null, 2)).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");

    for (const [method, path] of MANAGEMENT_ROUTES) {
      expect(doc.paths[path]?.[method], `${method.toUpperCase()} ${path}`).toBeDefined();
      // A key; for people (docs/sign-in.md) also the provider's access token and the session cookie. GET /self: keys only.
      expect(doc.paths[path]![method]!.security).toEqual(
        path.endsWith("/self") ? [{ bearer: [] }] : [{ bearer: [] }, { bearerJwt: [] }, { sessionCookie: [] }],
      );
    }
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.securitySchemes.bearerJwt).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(doc.components.securitySchemes.sessionCookie).toMatchObject({ type: "apiKey", in: "cookie" });
    expect(doc.paths["/api/v1/session"]?.get).toBeDefined();
    expect(doc.paths["/settings/logout"]?.post).toBeDefined();
  });

  it("passes `redocly lint` (redocly.yaml: the recommended rules) with no error and no warning", async () => {
    const file = join(dir, "openapi.json");
    await writeFile(file, await (await fetch(`${baseUrl}/openapi.json`)).text());
    const r = await redoclyLint(file);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("Your API description is valid");
    expect(r.out).not.toMatch(/warning/i);
  }, 60_000);

  it("the linter is not a rubber stamp either: a copy without operationIds and servers fails it", async () => {
    const doc = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { operationId?: string }>>;
      servers?: unknown;
    };
    delete doc.servers;
    for (const item of Object.values(doc.paths)) for (const op of Object.values(item)) delete op.operationId;
    const file = join(dir, "broken.json");
    await writeFile(file, JSON.stringify(doc));
    const r = await redoclyLint(file);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain("no-empty-servers");
    expect(r.out).toContain("operation-operationId");
  }, 60_000);

  it("the validator is not a rubber stamp: it rejects a broken copy", async () => {
    const doc = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as Record<string, unknown>;
    const broken = { ...doc, paths: { "/x": { get: { responses: { 200: { content: {} } } } } } };
    const result = await new Validator().validate(broken);
    expect(result.valid).toBe(false);
  });
});
