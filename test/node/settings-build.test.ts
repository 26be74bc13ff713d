import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { buildSettings, bundleSettings, GENERATED_MODULE, generatedSource } from "../../scripts/build-settings.ts";

/**
 * scripts/build-settings.ts: the settings page's client (src/settings/client/)
 * bundled with esbuild into the module the Worker serves from. The Worker's
 * side (what it serves, under which headers) is test/worker/settings.test.ts.
 */

const PROJECT_DIR = fileURLToPath(new URL("../../", import.meta.url));

describe("the settings page's client bundle", () => {
  it("holds the client and the browser-safe server modules it shares, and nothing else", async () => {
    const { inputs, script, style } = await bundleSettings();
    expect(inputs).toContain("src/settings/client/main.ts");
    expect(inputs).toContain("src/settings/client/settings.css");
    // Shared with the server rather than rendered into a string: the scope catalog and the ids the page uses.
    expect(inputs).toContain("src/auth/scopes.ts");
    expect(inputs).toContain("src/settings/shared/markup.ts");
    // No dependency (zod, hono) and no server-only module; types (key object, request bodies) are erased.
    expect(inputs.filter((p) => !p.startsWith("src/"))).toEqual([]);
    for (const serverOnly of ["src/api/schemas.ts", "src/auth/scopes-schema.ts", "src/management/object.ts", "src/storage/records.ts"]) {
      expect(inputs).not.toContain(serverOnly);
    }
    expect(script.length).toBeGreaterThan(5_000);
    expect(style).toContain(".scope-rows");
  });

  it("keeps the page light: script and stylesheet together under 60 KiB", async () => {
    const { script, style } = await bundleSettings();
    const bytes = Buffer.byteLength(script) + Buffer.byteLength(style);
    expect(bytes).toBeLessThan(60 * 1024);
  });

  it("is rebuilt to the same bytes from the same sources, and written only when it changed", async () => {
    const bundle = await bundleSettings();
    expect(generatedSource(await bundleSettings())).toBe(generatedSource(bundle));
    await buildSettings();
    expect(await readFile(GENERATED_MODULE, "utf8")).toBe(generatedSource(bundle));
    expect(await buildSettings()).toBe(false);
  });

  it("wrangler runs the build before dev and deploy, and dev re-runs it on changes to the client, never to its output", async () => {
    const toml = await readFile(`${PROJECT_DIR}wrangler.toml`, "utf8");
    const build = /^\[build\]\n((?:[^[\n].*\n)+)/m.exec(toml)?.[1] ?? "";
    expect(build).toMatch(/^command = "node_modules\/\.bin\/node scripts\/build\.ts"$/m);
    // scripts/build.ts runs the settings build first, whatever the wrangler command.
    expect(await readFile(`${PROJECT_DIR}scripts/build.ts`, "utf8")).toContain("await buildSettings()");
    const watched = JSON.parse(/^watch_dir = (\[.*\])$/m.exec(build)?.[1] ?? "[]") as string[];
    expect(watched).toContain("src/settings/client");
    expect(watched).toContain("src/auth");
    // Watching the output would rebuild in a loop.
    for (const dir of watched) expect(`src/settings/generated/`.startsWith(`${dir}/`), dir).toBe(false);
    expect(await readFile(`${PROJECT_DIR}.gitignore`, "utf8")).toContain("src/settings/generated/assets.js");
  });

  it("its own tsconfig (npm run typecheck) checks every client module, not an empty set", () => {
    const configPath = `${PROJECT_DIR}src/settings/client/tsconfig.json`;
    const { config } = ts.readConfigFile(configPath, ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, `${PROJECT_DIR}src/settings/client`, undefined, configPath);
    const files = parsed.fileNames.map((f) => f.slice(PROJECT_DIR.length));
    for (const module of ["src/settings/client/main.ts", "src/settings/client/session.ts", "src/settings/shared/markup.ts"]) {
      expect(files, module).toContain(module);
    }
  });
});
