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
}

/** Replaces `from` once; null when it is not there (the variant no longer applies). */
const swap = (from: string, to: string) => (source: string) => (source.includes(from) ? source.replace(from, to) : null);

const NO_LOG = () => "export function logLine(_fields: Record<string, unknown>): void {}\n";

/** GatewayError without a captured stack trace: refusals are expected outcomes, their stack is never shown. */
const ERRORS_NO_STACK = swap(
  "    super(message);\n    this.name = \"GatewayError\";",
  "    const limit = Error.stackTraceLimit;\n    Error.stackTraceLimit = 0;\n    super(message);\n    Error.stackTraceLimit = limit;\n    this.name = \"GatewayError\";",
);

/** Measurement only (drops the origin timeout, not a proposal): what the per-request timer costs. */
const FORWARD_NO_TIMER = (source: string) => {
  const a = swap(
    "  const controller = new AbortController();\n  const timer = setTimeout(() => controller.abort(), upstream.timeoutMs);",
    "  const controller = new AbortController();",
  )(source);
  return a === null ? null : swap("  } finally {\n    clearTimeout(timer);\n  }", "  }")(a);
};

/**
 * The log line written without console.log's formatting: one pre-serialized
 * string (console.log of a string still goes through the runtime's inspect
 * formatting). Measures the serialization alone vs the console call.
 */
const LOG_STRINGIFY_ONLY = () =>
  "export let lastLine = \"\";\nexport function logLine(fields: Record<string, unknown>): void {\n  lastLine = JSON.stringify(fields);\n}\n";

export const PROFILE_VARIANTS: readonly Variant[] = [
  // The same gateway in its own isolate, measured in the same stretch of the run as the variants.
  { name: "gw-base", label: "unchanged (control)", patches: {} },
  { name: "gw-nolog", label: "no log line", patches: { "src/log.ts": NO_LOG } },
  { name: "gw-logjson", label: "log line serialized, not printed", patches: { "src/log.ts": LOG_STRINGIFY_ONLY } },
  {
    name: "gw-logobject",
    label: "console.log(fields) instead of a JSON string",
    patches: { "src/log.ts": swap("console.log(JSON.stringify(fields));", "console.log(fields);") },
  },
  { name: "gw-nostack", label: "GatewayError without stack trace", patches: { "src/errors.ts": ERRORS_NO_STACK } },
  { name: "gw-notimer", label: "no origin timer (bound only)", patches: { "src/proxy/forward.ts": FORWARD_NO_TIMER } },
  {
    name: "gw-all",
    label: "no log + no stack",
    patches: { "src/log.ts": NO_LOG, "src/errors.ts": ERRORS_NO_STACK },
  },
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
