import * as oauth from "oauth4webapi";
import { GatewayError } from "../errors.ts";
import { errorText, logLine } from "../log.ts";
import { keptClaims, type KeptClaims } from "./claims.ts";
import { clearCookie, cookieNames, readCookie, setCookie } from "./cookies.ts";
import type { People } from "./people.ts";
import { personFromClaims, type Person } from "./person.ts";
import type { Provider } from "./provider.ts";

/**
 * A signed-in person's session, all of it in one sealed cookie (src/people/sealed.ts):
 * the kept ID token claims, the refresh token and the ID token (for the
 * provider's logout). It ends SESSION_LIFETIME_S after sign-in whatever
 * happens; every SESSION_REFRESH_INTERVAL_S it goes back to the provider with
 * the refresh token, so a person disabled there is out within that interval.
 */
export interface SessionData {
  claims: KeptClaims;
  /** The refresh token; without one the session cannot be renewed and ends at its first refresh. */
  rt: string | null;
  idt: string | null;
  /** Sign-in time and last refresh, epoch ms. */
  since: number;
  refreshed: number;
}

const toData = (p: Record<string, unknown>): SessionData | null => {
  const { claims, rt, idt, since, refreshed } = p;
  if (typeof claims !== "object" || claims === null || typeof since !== "number" || typeof refreshed !== "number") return null;
  return {
    claims: claims as KeptClaims,
    rt: typeof rt === "string" ? rt : null,
    idt: typeof idt === "string" ? idt : null,
    since,
    refreshed,
  };
};

export function sessionEnds(people: People, data: SessionData): number {
  return data.since + people.config.SESSION_LIFETIME_S * 1000;
}

/** The Set-Cookie header that stores `data` until the session's end. */
export async function sessionCookie(people: People, url: string, data: SessionData, now: number): Promise<string> {
  const ends = sessionEnds(people, data);
  const sealed = await people.sealer.seal("session", { ...data }, ends);
  return setCookie(url, cookieNames(url).session, sealed, (ends - now) / 1000);
}

export function signedOut(url: string, message = "Your session has ended: sign in again"): GatewayError {
  return new GatewayError("unauthorized", message, { "set-cookie": clearCookie(url, cookieNames(url).session) });
}

export function hasSessionCookie(request: Request): boolean {
  const raw = readCookie(request, cookieNames(request.url).session);
  return raw !== null && raw !== "";
}

/** The session the request's cookie holds, opened; null when it carries none. Invalid or expired: 401 and the cookie cleared. */
export async function openSession(people: People, request: Request, now: number): Promise<SessionData | null> {
  const raw = readCookie(request, cookieNames(request.url).session);
  if (raw === null || raw === "") return null;
  const payload = await people.sealer.open("session", raw, now);
  const data = payload === null ? null : toData(payload);
  if (data === null || now >= sessionEnds(people, data)) throw signedOut(request.url);
  return data;
}

export interface LiveSession {
  person: Person;
  data: SessionData;
  /** Set when the session was refreshed: the new cookie. */
  setCookie: string | null;
}

/** Opens, refreshes when due, and maps the person; null when the request has no session cookie. */
export async function liveSession(people: People, request: Request, now: number): Promise<LiveSession | null> {
  let data = await openSession(people, request, now);
  if (data === null) return null;
  let cookie: string | null = null;
  if (now - data.refreshed >= people.config.SESSION_REFRESH_INTERVAL_S * 1000) {
    data = await refreshOnce(people, data, request.url, now);
    cookie = await sessionCookie(people, request.url, data, now);
  }
  return { person: personFromClaims(data.claims, people.config), data, setCookie: cookie };
}

function refreshOnce(people: People, data: SessionData, url: string, now: number): Promise<SessionData> {
  const rt = data.rt;
  if (rt === null) return Promise.reject(signedOut(url, "Your session has ended (no refresh token): sign in again"));
  let pending = people.refreshes.get(rt);
  if (!pending) {
    pending = refresh(people, data, rt, url, now).finally(() => people.refreshes.delete(rt));
    people.refreshes.set(rt, pending);
  }
  return pending;
}

/**
 * The refresh token grant. The provider refusing it (disabled person, revoked
 * grant, expired token) ends the session; the provider not answering is a 503
 * and the session stays as it was: fail closed, but do not sign everyone out
 * for an outage.
 */
async function refresh(people: People, data: SessionData, rt: string, url: string, now: number): Promise<SessionData> {
  const p = await people.provider.get();
  let tokens: oauth.TokenEndpointResponse;
  try {
    const res = await oauth.refreshTokenGrantRequest(p.as, p.client, p.clientAuth, rt, { ...p.http, signal: AbortSignal.timeout(10_000) });
    tokens = await oauth.processRefreshTokenResponse(p.as, p.client, res);
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) throw signedOut(url);
    logLine({ level: "warn", event: "oidc_refresh_failed", message: errorText(err) });
    throw new GatewayError("service_unavailable", "The identity provider could not be reached to renew your session");
  }
  const claims = tokens.id_token ? await refreshedClaims(people, p, tokens, data, url, now) : data.claims;
  return { claims, rt: tokens.refresh_token ?? rt, idt: tokens.id_token ?? data.idt, since: data.since, refreshed: now };
}

/** A new ID token from the refresh: same checks as at sign-in, and the same person. */
async function refreshedClaims(
  people: People,
  p: Provider,
  tokens: oauth.TokenEndpointResponse,
  data: SessionData,
  url: string,
  now: number,
) {
  const claims = oauth.getValidatedIdTokenClaims(tokens);
  if (!claims || !tokens.id_token) throw signedOut(url);
  try {
    await p.keys.verify(tokens.id_token, { issuer: p.as.issuer, audience: people.config.OIDC_CLIENT_ID }, now);
  } catch {
    throw signedOut(url);
  }
  if (claims.sub !== data.claims.sub) throw signedOut(url);
  return keptClaims(claims, people.config);
}
