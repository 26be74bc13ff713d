import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Miniflare } from "miniflare";
import { PROJECT_DIR, WRANGLER_CONFIG } from "../lib/local-state.ts";

/**
 * Every Worker of the benchmark in ONE Miniflare instance (one workerd
 * process): the gateway (src/index.ts, bundled with esbuild exactly as its
 * own module graph), a pass-through Worker, a hello-world Worker and the CPU
 * micro-benchmark Worker. The gateway's bindings, vars and compatibility date
 * come from wrangler.toml through wrangler's `unstable_getMiniflareWorkerOptions`,
 * so the bench follows the project's configuration.
 *
 * Miniflare is the copy bundled with wrangler (the one `wrangler dev` runs),
 * loaded from wrangler's own dependency tree rather than the test plugin's.
 */

export type Via = "direct" | "entry";

export interface WorkerSpec {
  /** Unique Miniflare worker name; also its `<name>.bench` route in `entry` mode. */
  name: string;
  /** TypeScript/JavaScript entry module, bundled with esbuild. */
  entry: string;
  /** Use wrangler.toml's bindings (KV, D1, vars) with these var overrides. */
  gatewayBindings?: Record<string, string>;
  /** Plain text bindings only (no KV/D1). */
  plainBindings?: Record<string, string>;
  /** Module replacements at bundle time: src-relative path → replacement source (bench-only variants). */
  replace?: Record<string, string>;
  /** Compatibility flags added to wrangler.toml's (bench-only variants). */
  compatibilityFlags?: string[];
  /** A bench-only variant: if it no longer builds (src/ moved on), skip it instead of failing the run. */
  optional?: boolean;
}

export interface Target {
  /** Base URL the load generator calls (ends without a slash). */
  url: string;
  /** Extra headers every request to it needs (the Host that routes it, in `entry` mode). */
  headers: Record<string, string>;
}

export interface BenchRuntime {
  mf: Miniflare;
  targets: Map<string, Target>;
  versions: { miniflare: string; workerd: string; wrangler: string; esbuild: string };
  compatibilityDate: string;
  bundleBytes: Record<string, number>;
  /** The bundled module of each Worker (for reading CPU profiles). */
  bundles: Map<string, string>;
  persistDir: string;
  /** Optional Workers that did not build, with esbuild's first error. */
  skipped: { name: string; error: string }[];
  dispose(): Promise<void>;
}

interface MiniflareModule {
  Miniflare: typeof Miniflare;
  convertV4MiniflareOptions(options: Record<string, unknown>): ConstructorParameters<typeof Miniflare>[0];
}

const requireHere = createRequire(import.meta.url);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function packageVersion(require: NodeRequire, name: string): string {
  try {
    const pkg = require(`${name}/package.json`) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** The Miniflare wrangler itself depends on (node_modules/wrangler/node_modules/miniflare when nested). */
async function loadWranglerMiniflare(): Promise<{ mod: MiniflareModule; version: string; workerd: string }> {
  const requireFromWrangler = createRequire(requireHere.resolve("wrangler/package.json"));
  const entry = requireFromWrangler.resolve("miniflare");
  const mod = (await import(pathToFileURL(entry).href)) as MiniflareModule;
  const requireFromMiniflare = createRequire(entry);
  return {
    mod,
    version: packageVersion(requireFromWrangler, "miniflare"),
    workerd: packageVersion(requireFromMiniflare, "workerd"),
  };
}

/** A plugin that swaps whole modules for bench-only variants (measuring "without this piece"). */
function replacePlugin(replace: Record<string, string>) {
  const byPath = new Map(Object.entries(replace).map(([rel, source]) => [join(PROJECT_DIR, rel), source]));
  return {
    name: "bench-replace",
    setup(build: { onLoad(opts: { filter: RegExp }, cb: (args: { path: string }) => { contents: string; loader: "ts" } | undefined): void }) {
      build.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = byPath.get(args.path);
        return source === undefined ? undefined : { contents: source, loader: "ts" };
      });
    },
  };
}

async function bundle(entry: string, define: Record<string, string>, replace: Record<string, string> | undefined): Promise<string> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: [join(PROJECT_DIR, entry)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    // What wrangler resolves for Workers.
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    external: ["cloudflare:*", "node:*"],
    define,
    write: false,
    logLevel: "silent",
    plugins: replace ? [replacePlugin(replace)] : [],
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error(`esbuild produced nothing for ${entry}`);
  return out.text;
}

export interface StartOptions {
  via: Via;
  workers: readonly WorkerSpec[];
  /** Opens workerd's V8 inspector (for CPU profiles); leave off for throughput rows. */
  inspect?: boolean;
  /** Counts the structured log lines workerd prints (one per gateway request), instead of printing them. */
  onLog(level: string, message: string): void;
}

export async function startRuntime(options: StartOptions): Promise<BenchRuntime> {
  const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
  const fromConfig = unstable_getMiniflareWorkerOptions(WRANGLER_CONFIG);
  const base: Record<string, unknown> = fromConfig.workerOptions;
  const baseBindings = isRecord(base.bindings) ? base.bindings : {};
  if (typeof base.compatibilityDate !== "string") throw new Error("wrangler.toml has no compatibility_date");
  const compatibilityDate = base.compatibilityDate;
  const compatibilityFlags = Array.isArray(base.compatibilityFlags) ? base.compatibilityFlags : [];
  const { mod, version, workerd } = await loadWranglerMiniflare();
  const persistDir = await mkdtemp(join(tmpdir(), "ats-gateway-bench-"));

  const bundleBytes: Record<string, number> = {};
  const bundles = new Map<string, string>();
  const workers: Record<string, unknown>[] = [];
  const skipped: { name: string; error: string }[] = [];
  const started: WorkerSpec[] = [];
  for (const spec of options.workers) {
    let code: string;
    try {
      code = await bundle(spec.entry, fromConfig.define, spec.replace);
    } catch (err) {
      if (!spec.optional) throw err;
      skipped.push({ name: spec.name, error: (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 3).join(" ") });
      continue;
    }
    started.push(spec);
    bundleBytes[spec.name] = code.length;
    bundles.set(spec.name, code);
    const source = {
      modules: [{ type: "ESModule", path: join(PROJECT_DIR, ".bench-modules", `${spec.name}.mjs`), contents: code }],
    };
    const socket =
      options.via === "direct"
        ? { unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }] }
        : { routes: [`${spec.name}.bench/*`] };
    if (spec.gatewayBindings) {
      workers.push({
        ...base,
        ...source,
        ...socket,
        name: spec.name,
        compatibilityFlags: [...compatibilityFlags, ...(spec.compatibilityFlags ?? [])],
        bindings: { ...baseBindings, ...spec.gatewayBindings },
      });
    } else {
      workers.push({
        ...source,
        ...socket,
        name: spec.name,
        compatibilityDate,
        compatibilityFlags,
        bindings: spec.plainBindings ?? {},
      });
    }
  }

  const mf = new mod.Miniflare(
    mod.convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      resourcePersistencePath: persistDir,
      ...(options.inspect ? { inspectorPort: 0 } : {}),
      handleStructuredLogs: (log: { level: string; message: string }) => options.onLog(log.level, log.message),
      workers,
    }),
  );
  const entryUrl = await mf.ready;
  const targets = new Map<string, Target>();
  for (const spec of started) {
    if (options.via === "direct") {
      const url = await mf.unsafeGetDirectURL(spec.name);
      targets.set(spec.name, { url: url.href.replace(/\/$/, ""), headers: {} });
    } else {
      targets.set(spec.name, { url: entryUrl.href.replace(/\/$/, ""), headers: { Host: `${spec.name}.bench` } });
    }
  }

  let disposed = false;
  return {
    mf,
    targets,
    versions: {
      miniflare: version,
      workerd,
      wrangler: packageVersion(requireHere, "wrangler"),
      esbuild: packageVersion(requireHere, "esbuild"),
    },
    compatibilityDate,
    bundleBytes,
    bundles,
    persistDir,
    skipped,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await mf.dispose().catch(() => {});
      await rm(persistDir, { recursive: true, force: true });
    },
  };
}
