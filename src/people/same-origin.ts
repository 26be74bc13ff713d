import { GatewayError } from "../errors.ts";

/**
 * The session cookie authorizes same-origin requests only (CSRF): a request
 * whose Sec-Fetch-Site or Origin names another site is refused before
 * anything runs, and a state-changing one must say where it comes from (every
 * browser sends Origin on a POST, PATCH or DELETE; a request that does not is
 * not the page's). Bearer tokens need none of this: no browser adds them.
 */
export function assertSameOrigin(request: Request, stateChanging: boolean): void {
  const site = request.headers.get("sec-fetch-site");
  const origin = request.headers.get("origin");
  if (site !== null && site !== "same-origin") throw crossSite();
  if (origin !== null && origin !== new URL(request.url).origin) throw crossSite();
  if (stateChanging && site === null && origin === null) throw crossSite();
}

const crossSite = () => new GatewayError("forbidden", "Cross-site request refused: the session cookie works only on this site's own pages");

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
export const changesState = (method: string): boolean => !SAFE.has(method);
