import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Miniflare } from "miniflare";
import { PROJECT_DIR, WRANGLER_CONFIG } from "../lib/local-state.ts";

/**
 * Every Worker of a bench in ONE Miniflare instance (one workerd process),
 * each bundled with esbuild the way wrangler resolves Workers. Workers given
 * `gateway` bindings get wrangler.toml's bindings, vars and compatibility
 * settings (through wrangler's `unstable_getMiniflareWorkerOptions`), so the
 * bench follows the project's configuration. Miniflare is the copy bundled
 * with wrangler (the one `wrangler dev` runs), not the test plugin's.
 */

/** entry: through Miniflare's entry Worker, routed by Host (the calibrated setup); direct: a socket per Worker. */
export type Via = "direct" | "entry";

export interface WorkerSpec {
  name: string;
  /** Entry module, relative to the project. */
  entry: string;
  /** wrangler.toml's bindings (KV, D1, vars) with these vars on top; else `plain` vars only. */
  gateway?: Record<string, string>;
  plain?: Record<string, string>;
}

export interface Target {
  url: string;
  /** The Host that routes to it in `entry` mode. */
  headers: Record<string, string>;
}

export interface BenchRuntime {
  mf: Miniflare;
  targets: Map<string, Target>;
  versions: Record<string, string>;
  dispose(): Promise<void>;
}

interface MiniflareModule {
  Miniflare: typeof Miniflare;
  convertV4MiniflareOptions(options: Record<string, unknown>): ConstructorParameters<typeof Miniflare>[0];
}

const requireHere = createRequire(import.meta.url);

function versionOf(require: NodeRequire, name: string): string {
  try {
    return (require(`${name}/package.json`) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}

async function bundle(entry: string, define: Record<string, string>): Promise<string> {
  const esbuild = await import("esbuild");
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
    logLevel: "silent",
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
  return out.text;
}

export async function startRuntime(
  via: Via,
  specs: readonly WorkerSpec[],
  onLog: (level: string, message: string) => void,
): Promise<BenchRuntime> {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const fromConfig = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG);
  const base: Record<string, unknown> = fromConfig.workerOptions;
  const baseBindings = typeof base.bindings === "object" && base.bindings !== null ? base.bindings : {};
  const requireFromWrangler = createRequire(requireHere.resolve("wrangler/package.json"));
  const miniflareEntry = requireFromWrangler.resolve("miniflare");
  const mod = (await import(pathToFileURL(miniflareEntry).href)) as MiniflareModule;
  const persistDir = await mkdtemp(join(tmpdir(), "ats-gateway-bench-"));

  const bundles = new Map<string, string>();
  const workers: Record<string, unknown>[] = [];
  for (const spec of specs) {
    const code = bundles.get(spec.entry) ?? (await bundle(spec.entry, fromConfig.define));
    bundles.set(spec.entry, code);
    const common = {
      name: spec.name,
      modules: [{ type: "ESModule", path: join(PROJECT_DIR, ".bench-modules", `${spec.name}.mjs`), contents: code }],
      ...(via === "direct" ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] } : { routes: [`${spec.name}.bench/*`] }),
    };
    workers.push(
      spec.gateway
        ? { ...base, ...common, bindings: { ...baseBindings, ...spec.gateway } }
        : { ...common, compatibilityDate: base.compatibilityDate, compatibilityFlags: base.compatibilityFlags, bindings: spec.plain ?? {} },
    );
  }
  const mf = new mod.Miniflare(
    mod.convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      resourcePersistencePath: persistDir,
      handleStructuredLogs: (log: { level: string; message: string }) => onLog(log.level, log.message),
      workers,
    }),
  );
  const entryUrl = (await mf.ready).href.replace(/\/$/, "");
  const targets = new Map<string, Target>();
  for (const spec of specs) {
    targets.set(
      spec.name,
      via === "direct"
        ? { url: (await mf.unsafeGetDirectURL(spec.name)).href.replace(/\/$/, ""), headers: {} }
        : { url: entryUrl, headers: { Host: `${spec.name}.bench` } },
    );
  }
  return {
    mf,
    targets,
    versions: {
      miniflare: versionOf(requireFromWrangler, "miniflare"),
      workerd: versionOf(createRequire(miniflareEntry), "workerd"),
      wrangler: versionOf(requireHere, "wrangler"),
      compatibilityDate: String(base.compatibilityDate),
    },
    async dispose() {
      await mf.dispose().catch(() => {});
      await rm(persistDir, { recursive: true, force: true });
    },
  };
}
