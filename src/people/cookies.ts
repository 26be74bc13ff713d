import { parse } from "hono/utils/cookie";

/**
 * The gateway's two cookies and how they are written: HttpOnly and
 * SameSite=Lax always; on https also Secure and the __Host- prefix (bound to
 * this host, path /, no Domain). Lax, not Strict: the identity provider's
 * redirect back to /settings/callback is a cross-site navigation and must
 * carry the sign-in cookie.
 */
export interface CookieNames {
  session: string;
  signin: string;
}

const PLAIN: CookieNames = { session: "gw_session", signin: "gw_signin" };
const HOST_BOUND: CookieNames = { session: "__Host-gw_session", signin: "__Host-gw_signin" };

export const isHttps = (url: string): boolean => url.startsWith("https:");

export const cookieNames = (url: string): CookieNames => (isHttps(url) ? HOST_BOUND : PLAIN);

/** One cookie's value from the Cookie header, or null. */
export function readCookie(request: Request, name: string): string | null {
  const header = request.headers.get("cookie");
  if (header === null || !header.includes(name)) return null;
  return parse(header, name)[name] ?? null;
}

export function setCookie(url: string, name: string, value: string, maxAgeSeconds: number): string {
  const secure = isHttps(url) ? "; Secure" : "";
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}${secure}`;
}

export const clearCookie = (url: string, name: string): string => setCookie(url, name, "", 0);
