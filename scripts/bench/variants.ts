import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_DIR } from "../lib/local-state.ts";

/**
 * Bench-only variants of the gateway for `npm run bench -- --profile`: the
 * same src/index.ts bundle with a module patched at bundle time, to measure
 * what a piece costs by running without it (or with a cheaper version of it).
 * Nothing here changes src/: each patch is applied to the text of the current
 * file, and a variant whose patch no longer applies (src/ moved on) is skipped
 * with a note instead of measuring something else.
 */
export interface Variant {
  name: string;
  label: string;
  /** Project-relative module path → patch of its current source (null: does not apply). */
  patches: Record<string, (source: string) => string | null>;
  /** Another entry module instead of src/index.ts (a bench-only file under bench/variants/). */
  entry?: string;
  /** Compatibility flags added to wrangler.toml's. */
  compatibilityFlags?: string[];
  /** Run only when named in --variants (a long series, not part of a plain --profile). */
  onlyWhenNamed?: boolean;
}

/** Replaces `from` once; null when it is not there (the variant no longer applies). */
const swap = (from: string, to: string) => (source: string) => (source.includes(from) ? source.replace(from, to) : null);

type Patches = Variant["patches"];

/** Applies each patch in turn; null as soon as one no longer applies. */
const chain =
  (...patches: ((source: string) => string | null)[]) =>
  (source: string): string | null =>
    patches.reduce<string | null>((cur, patch) => (cur === null ? null : patch(cur)), source);

/** Measurement only (drops the origin timeout, not a proposal): what the per-request timer costs. */
const FORWARD_NO_TIMER = chain(
  swap(
    "  const controller = new AbortController();\n  const timer = setTimeout(() => controller.abort(), upstream.timeoutMs);",
    "  const controller = new AbortController();",
  ),
  swap("  } finally {\n    clearTimeout(timer);\n  }", "  }"),
);

/** No log lines at all: what the request line (and any other) costs. */
const NO_LOG = chain(swap("console.log(JSON.stringify(fields));", ""), swap("console.log(requestLogLine(fields));", ""));

/** The request line serialized but never printed: the serialization alone against the console call. */
const LOG_BUILD_ONLY = chain(
  swap("console.log(requestLogLine(fields));", "lastLine = requestLogLine(fields);"),
  (source) => `export let lastLine = "";\n${source}`,
);

/**
 * Measurement only: the steps of the proxied path beyond the log line and the
 * signature (bench row 2LS), each removed in turn on top of the ones before
 * (ladder-1 … ladder-7), to see whether one of them is the distance between
 * row 3 and row 2LS. None is a proposal: each is required behaviour.
 */
const LADDER_STEPS: readonly { label: string; patches: Patches }[] = [
  {
    label: "origin response not re-wrapped (no X-Request-Id)",
    patches: {
      "src/proxy/forward.ts": swap("return new Response(res.body, res);", "return res;"),
      "src/gateway/pipeline.ts": swap('res.headers.set("x-request-id", state.requestId);', ""),
    },
  },
  { label: "no origin timer", patches: { "src/proxy/forward.ts": FORWARD_NO_TIMER } },
  { label: "no byte-exact origin URL check", patches: { "src/proxy/forward.ts": swap("if (new URL(url).href !== url) {", 'if (url === "") {') } },
  { label: "no usage count", patches: { "src/gateway/pipeline.ts": swap("if (state.identified) countUsage(", "if (state.identified && res.status < 0) countUsage(") } },
  { label: "no revocation-feed check", patches: { "src/auth/authenticate.ts": swap("if (hash !== null) await rt.revocations.ready(", 'if (hash === "") await rt.revocations.ready(') } },
  { label: "no last-used write check", patches: { "src/gateway/pipeline.ts": swap("    noteLastUsed(rt, env, ctx, auth.key.id, now);\n", "") } },
  {
    label: "only X-Gateway-Identity added to the origin's headers",
    patches: {
      "src/proxy/origin-headers.ts": swap(
        '  out.set("x-api-key-id", id.key.id);',
        '  if (id.identityToken !== undefined) out.set("x-gateway-identity", id.identityToken);\n  return out;\n  out.set("x-api-key-id", id.key.id);',
      ),
    },
  },
];

function ladder(): Variant[] {
  const out: Variant[] = [];
  const acc: Record<string, ((source: string) => string | null)[]> = {};
  LADDER_STEPS.forEach((step, i) => {
    for (const [file, patch] of Object.entries(step.patches)) (acc[file] ??= []).push(patch);
    const patches = Object.fromEntries(Object.entries(acc).map(([file, list]) => [file, chain(...list)]));
    out.push({ name: `ladder-${i + 1}`, label: `ladder: ${i > 0 ? "… + " : ""}${step.label}`, patches, onlyWhenNamed: true });
  });
  return out;
}

export const PROFILE_VARIANTS: readonly Variant[] = [
  // The same gateway in its own isolate, measured in the same stretch of the run as the variants.
  { name: "gw-base", label: "unchanged (control)", patches: {} },
  { name: "gw-nolog", label: "no log line", patches: { "src/log.ts": NO_LOG } },
  { name: "gw-logjson", label: "log line built, not printed", patches: { "src/log.ts": LOG_BUILD_ONLY } },
  {
    name: "gw-logobject",
    label: "console.log(fields) instead of a JSON string",
    patches: { "src/log.ts": swap("console.log(requestLogLine(fields));", "console.log(fields);") },
  },
  { name: "gw-notimer", label: "no origin timer (bound only)", patches: { "src/proxy/forward.ts": FORWARD_NO_TIMER } },
  ...ladder(),
];

/** The module replacements of a variant for the bundler, or the file whose patch no longer applies. */
export function variantReplacements(v: Variant): { replace: Record<string, string> } | { stale: string } {
  const replace: Record<string, string> = {};
  for (const [file, patch] of Object.entries(v.patches)) {
    const patched = patch(readFileSync(join(PROJECT_DIR, file), "utf8"));
    if (patched === null) return { stale: file };
    replace[file] = patched;
  }
  return { replace };
}
