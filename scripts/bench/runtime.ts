import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Miniflare } from "miniflare";
import { PROJECT_DIR, WRANGLER_CONFIG } from "../lib/local-state.ts";

/**
 * Every Worker of a bench in ONE Miniflare instance (one workerd process), bundled with esbuild the way wrangler resolves Workers.
 * `gateway` Workers get wrangler.toml's bindings, vars and compatibility settings (wrangler's `unstable_getMiniflareWorkerOptions`), so the
 * bench follows the project's configuration. Miniflare is wrangler's own copy (the one `wrangler dev` runs).
 */

export interface WorkerSpec {
  name: string;
  /** Entry module, relative to the project. */
  entry: string;
  /** wrangler.toml's bindings with these vars on top; else `plain` vars only. */
  gateway?: Record<string, string>;
  plain?: Record<string, string>;
}

export interface BenchRuntime {
  mf: Miniflare;
  /** Base URL and the Host header that reach each Worker. */
  targets: Map<string, { url: string; headers: Record<string, string> }>;
  versions: Record<string, string>;
  dispose(): Promise<void>;
}

interface MiniflareModule {
  Miniflare: typeof Miniflare;
  convertV4MiniflareOptions(options: Record<string, unknown>): ConstructorParameters<typeof Miniflare>[0];
}

const version = (require: NodeRequire, name: string) => (require(`${name}/package.json`) as { version: string }).version;

async function bundle(entry: string, define: Record<string, string>): Promise<string> {
  const esbuild = await import("esbuild");
  // What wrangler resolves for Workers.
  const result = await esbuild.build({
    entryPoints: [join(PROJECT_DIR, entry)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    define,
    write: false,
  });
  return result.outputFiles[0]!.text;
}

export async function startRuntime(specs: readonly WorkerSpec[], onLog: (level: string, message: string) => void): Promise<BenchRuntime> {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const fromConfig = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG);
  const base: Record<string, unknown> = fromConfig.workerOptions;
  const requireFromWrangler = createRequire(createRequire(import.meta.url).resolve("wrangler/package.json"));
  const miniflareEntry = requireFromWrangler.resolve("miniflare");
  const mod = (await import(pathToFileURL(miniflareEntry).href)) as MiniflareModule;
  const persistDir = await mkdtemp(join(tmpdir(), "ats-gateway-bench-"));
  const workers: Record<string, unknown>[] = [];
  for (const spec of specs) {
    const common = {
      name: spec.name,
      modules: [
        {
          type: "ESModule",
          path: join(PROJECT_DIR, ".bench-modules", `${spec.name}.mjs`),
          contents: await bundle(spec.entry, fromConfig.define),
        },
      ],
      // Reached through Miniflare's entry Worker, routed by Host: the setup docs/performance.md's figures were calibrated on.
      routes: [`${spec.name}.bench/*`],
    };
    workers.push(
      spec.gateway
        ? { ...base, ...common, bindings: { ...(base.bindings as object | undefined), ...spec.gateway } }
        : { ...common, compatibilityDate: base.compatibilityDate, compatibilityFlags: base.compatibilityFlags, bindings: spec.plain ?? {} },
    );
  }
  const mf = new mod.Miniflare(
    mod.convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      resourcePersistencePath: persistDir,
      workers,
      handleStructuredLogs: (log: { level: string; message: string }) => onLog(log.level, log.message),
    }),
  );
  const entryUrl = (await mf.ready).href.replace(/\/$/, "");
  const targets: BenchRuntime["targets"] = new Map(specs.map(({ name }) => [name, { url: entryUrl, headers: { Host: `${name}.bench` } }]));
  return {
    mf,
    targets,
    versions: {
      miniflare: version(requireFromWrangler, "miniflare"),
      workerd: version(createRequire(miniflareEntry), "workerd"),
      compatibilityDate: String(base.compatibilityDate),
    },
    async dispose() {
      await mf.dispose().catch(() => {});
      await rm(persistDir, { recursive: true, force: true });
    },
  };
}
