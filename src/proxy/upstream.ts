import type { Config } from "../config.ts";
import { GatewayError } from "../errors.ts";
import type { KeyMode } from "../keys/format.ts";
import type { Upstream } from "./forward.ts";

/**
 * Which origin a key's requests go to, by the key's mode: live keys to
 * ORIGIN_URL (or the ORIGIN service binding), test keys to TEST_ORIGIN_URL,
 * always over HTTP(S). A test key never falls back to the live origin.
 */
const BASE_URL_OF: Readonly<Record<KeyMode, (config: Config) => string | undefined>> = {
  live: (config) => config.ORIGIN_URL,
  test: (config) => config.TEST_ORIGIN_URL,
};

export const TEST_MODE_DISABLED = "Test-mode keys are not enabled on this gateway";

export function upstreamFor(mode: KeyMode, config: Config, liveService: Fetcher | undefined): Upstream {
  const baseUrl = BASE_URL_OF[mode](config);
  if (baseUrl === undefined) throw new GatewayError("forbidden", TEST_MODE_DISABLED);
  return { baseUrl, fetcher: mode === "live" ? liveService : undefined, timeoutMs: config.ORIGIN_TIMEOUT_MS };
}

/** Whether keys of this mode can be created here: not when they could reach no origin. */
export function modeEnabled(mode: KeyMode, config: Config): boolean {
  return BASE_URL_OF[mode](config) !== undefined;
}
