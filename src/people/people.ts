import type { OidcConfig } from "../config.ts";
import { ProviderHandle } from "./provider.ts";
import { Sealer } from "./sealed.ts";
import type { SessionData } from "./session.ts";

/** Everything sign-in keeps per isolate; null when OIDC_ISSUER is unset. */
export interface People {
  config: OidcConfig;
  provider: ProviderHandle;
  sealer: Sealer;
  /** Refreshes in flight, by refresh token: parallel requests of one session share one grant. */
  refreshes: Map<string, Promise<SessionData>>;
}

export function peopleFor(config: OidcConfig | null): People | null {
  if (config === null) return null;
  return { config, provider: new ProviderHandle(config), sealer: new Sealer(config.SESSION_SECRET), refreshes: new Map() };
}
