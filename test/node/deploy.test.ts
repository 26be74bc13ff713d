import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";

/**
 * `npm run deploy` ships `wrangler deploy --env production`. Its dry run
 * builds exactly that bundle, offline, without an account: it must succeed
 * and stay under 1 MiB, both as uploaded and compressed (the "gzip" figure of
 * wrangler's "Total Upload", which is what Cloudflare's plan limits measure).
 * Production is minified (wrangler.toml [env.production] minify = true).
 */

const PROJECT_DIR = fileURLToPath(new URL("../../", import.meta.url));
const WRANGLER = join(PROJECT_DIR, "node_modules", "wrangler", "bin", "wrangler.js");
const LIMIT_BYTES = 1024 * 1024;

const run = promisify(execFile);
const dirs: string[] = [];

afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

describe("wrangler deploy --dry-run --env production", () => {
  it("builds the production bundle offline, under 1 MiB", { timeout: 120_000 }, async ({ annotate }) => {
    const outdir = await mkdtemp(join(tmpdir(), "deploy-dry-run-"));
    dirs.push(outdir);
    const { stdout, stderr } = await run(process.execPath, [WRANGLER, "deploy", "--dry-run", "--env", "production", "--outdir", outdir], {
      cwd: PROJECT_DIR,
      timeout: 110_000,
      maxBuffer: 16 * 1024 * 1024,
      // No account, no token, no telemetry: the dry run must not need the network.
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_API_TOKEN: "", CLOUDFLARE_ACCOUNT_ID: "" },
    });
    const output = stdout + stderr;
    expect(output).toContain("--dry-run: exiting now.");
    // The production environment carries its own bindings (they are not inherited from the top level).
    expect(output).toMatch(/env\.KEYS_CACHE\b.*KV Namespace/);
    expect(output).toMatch(/env\.DB\b.*D1 Database/);
    expect(output).toMatch(/env\.ORIGIN_URL\b/);

    const files = (await readdir(outdir)).filter((f) => f.endsWith(".js") || f.endsWith(".mjs") || f.endsWith(".wasm"));
    expect(files).toContain("index.js");
    let bytes = 0;
    let gzipped = 0;
    for (const f of files) {
      const content = await readFile(join(outdir, f));
      bytes += (await stat(join(outdir, f))).size;
      gzipped += gzipSync(content, { level: 9 }).length;
    }
    await annotate(`production bundle: ${kib(bytes)}, gzip ${kib(gzipped)} (${files.join(", ")})`);
    expect(bytes, `bundle is ${kib(bytes)}, gzip ${kib(gzipped)}`).toBeLessThan(LIMIT_BYTES);
    expect(gzipped, `bundle is ${kib(bytes)}, gzip ${kib(gzipped)}`).toBeLessThan(LIMIT_BYTES);
    // What wrangler reports as the gzip size agrees with ours (level differences aside).
    const reported = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
    expect(reported, output).not.toBeNull();
    expect(Number(reported![2]) * 1024).toBeLessThan(LIMIT_BYTES);

    // Secrets are never bundled: neither the test secret nor anything from .dev.vars.
    const bundle = await readFile(join(outdir, "index.js"), "utf8");
    expect(bundle).not.toContain("test-only-secret");
    expect(bundle).not.toMatch(/KEY_HASH_SECRET\s*=\s*["'][^"']{32,}/);
  });
});
