import { errorText, logLine } from "../log.ts";
import type { FailureLimiter } from "./failure-limiter.ts";

/**
 * The optional Cloudflare Rate Limiting binding that shares failed-
 * authentication counts between isolates (wrangler.toml, [env.production]).
 *
 * The isolate's own FailureLimiter stays the authority on the hot path: it
 * is exact (AUTH_FAIL_LIMIT, Retry-After), costs no I/O and answers before any
 * lookup. But each isolate only sees its own share of a flood, so every
 * failure is also reported to the binding, after the response; when the
 * binding says this client went over across the location, the isolate limits
 * it locally for a whole window. The binding cannot be the check itself: each
 * `limit()` call counts, it has no "peek", and it gives no retry time.
 */
export const RATE_LIMIT_BINDING = "AUTH_FAIL_RATE_LIMITER";

export interface SharedFailureCounter {
  limit(options: { key: string }): Promise<{ success: boolean }>;
}

/** The binding when this deployment declares it; absent, counts stay per isolate. */
export function sharedCounterOf(env: object): SharedFailureCounter | undefined {
  const binding: unknown = (env as Record<string, unknown>)[RATE_LIMIT_BINDING];
  const limit = (binding as Partial<SharedFailureCounter> | undefined)?.limit;
  return typeof limit === "function" ? (binding as SharedFailureCounter) : undefined;
}

/** Reports one failure; resolves after noting a verdict of "over the limit" in `local`. */
export async function reportFailure(shared: SharedFailureCounter, local: FailureLimiter, key: string): Promise<void> {
  try {
    const { success } = await shared.limit({ key });
    if (!success) local.block(key, Date.now());
  } catch (err) {
    // The local limiter still holds; a binding fault must not turn into refusals.
    logLine({ level: "warn", event: "rate_limit_binding_failed", message: errorText(err) });
  }
}
