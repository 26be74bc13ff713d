import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts, killGroup, PROJECT_DIR, refused, start, waitForOutput, type Started } from "../support/processes.ts";
import { rawRequest } from "../support/raw-http.ts";
import { startRecordingOrigin, type RecordingOrigin } from "../support/recording-origin.ts";

/**
 * `npm start -- --origin URL`: the local gateway in front of a real origin
 * (here a recording one), with no demo origin; and what the runtime under
 * `wrangler dev` does to hop-by-hop and encoding headers, as that origin sees
 * them (docs/origin.md, "What the runtime changes").
 */

const KEY = /pk_live_[A-Za-z0-9_-]{48}/;

describe("npm start -- --origin URL", () => {
  let tmp: string;
  let origin: RecordingOrigin;
  let run: Started;
  let port: number;
  let demoPort: number;
  let key: string;

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "gateway-origin-"));
    origin = await startRecordingOrigin();
    [port, demoPort] = (await freePorts(2)) as [number, number];
    run = start({ PORT: String(port), ORIGIN_PORT: String(demoPort) }, [
      "--origin",
      origin.url,
      "--persist-to",
      join(tmp, "state"),
      "--dev-vars",
      join(tmp, ".dev.vars"),
    ]);
    await waitForOutput(run, /^curl .*$/m, 110_000);
    key = (await waitForOutput(run, new RegExp(`^DEMO_ADMIN_KEY=(${KEY.source})$`, "m"), 1_000))[1]!;
  }, 120_000);

  afterAll(async () => {
    if (run) {
      killGroup(run.child, "SIGTERM");
      await run.exited;
      killGroup(run.child, "SIGKILL");
    }
    await origin?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 30_000);

  it("names the origin and starts no demo origin", async () => {
    expect(run.output()).toContain(`Origin:      ${origin.url}; no demo origin started`);
    expect(run.output()).not.toContain("Demo origin:");
    expect(await refused(`http://127.0.0.1:${demoPort}/healthz`)).toBe(true);
  });

  it("proxied requests reach that origin", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/candidates?x=1`, {
      headers: { authorization: `Bearer ${key}`, "x-request-id": "origin-flag-1" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ data: { path: "/api/v1/candidates?x=1" } });
    expect(origin.received.find((r) => r.headers["x-request-id"] === "origin-flag-1")?.url).toBe("/api/v1/candidates?x=1");
  });

  it("a header the client names in Connection still reaches the origin: the runtime removes Connection before the Worker sees it", async () => {
    await rawRequest(port, {
      target: "/api/v1/candidates",
      headers: [
        ["Authorization", `Bearer ${key}`],
        ["X-Request-Id", "origin-connection-1"],
        ["Connection", "close, x-hop-named"],
        ["X-Hop-Named", "reached"],
      ],
    });
    const got = origin.received.find((r) => r.headers["x-request-id"] === "origin-connection-1");
    expect(got?.headers["x-hop-named"]).toBe("reached");
  });

  it("the origin is offered gzip and br whatever the client accepts; a client asking for identity gets the body decoded, without Content-Length", async () => {
    const res = await rawRequest(port, {
      target: "/api/v1/candidates",
      headers: [
        ["Authorization", `Bearer ${key}`],
        ["X-Request-Id", "origin-encoding-1"],
        ["Accept-Encoding", "identity"],
        ["X-Origin-Behavior", "gzip:5000"],
      ],
    });
    const got = origin.received.find((r) => r.headers["x-request-id"] === "origin-encoding-1");
    expect(got?.headers["accept-encoding"]).toBe("br, gzip");
    expect(res.status).toBe(200);
    expect(res.headers["content-encoding"]).toBeUndefined();
    expect(res.headers["content-length"]).toBeUndefined();
    expect(res.headers["transfer-encoding"]).toBe("chunked");
    expect(res.body).toBe("a".repeat(5000));
  });
});

describe("npm start with the example's secrets", () => {
  it("refuses the placeholder KEY_HASH_SECRET by name, before starting anything", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "gateway-example-"));
    try {
      await copyFile(join(PROJECT_DIR, ".dev.vars.example"), join(tmp, ".dev.vars"));
      const [port, demoPort] = (await freePorts(2)) as [number, number];
      const run = start({ PORT: String(port), ORIGIN_PORT: String(demoPort) }, [
        "--persist-to",
        join(tmp, "state"),
        "--dev-vars",
        join(tmp, ".dev.vars"),
      ]);
      const { code } = await run.exited;
      expect(code).toBe(1);
      expect(run.output()).toMatch(/KEY_HASH_SECRET in .*\.dev\.vars is still the example's placeholder/);
      expect(run.output()).not.toContain("replace-with-at-least-32-random-bytes");
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }, 30_000);
});
