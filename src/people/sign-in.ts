import * as oauth from "oauth4webapi";
import { GatewayError } from "../errors.ts";
import { errorText, logLine } from "../log.ts";
import { keptClaims } from "./claims.ts";
import { clearCookie, cookieNames, readCookie, setCookie } from "./cookies.ts";
import type { People } from "./people.ts";
import { personFromClaims } from "./person.ts";
import { openSession, sessionCookie } from "./session.ts";

/**
 * Authorization Code + PKCE (S256) with state and nonce, the gateway as the
 * confidential client. What the callback must check (state, nonce, the PKCE
 * verifier) travels in a short-lived sealed cookie, never in the URL.
 */
export const LOGIN_PATH = "/settings/login";
export const CALLBACK_PATH = "/settings/callback";
export const LOGOUT_PATH = "/settings/logout";
/** Where a person lands after signing in or out. */
export const AFTER_PATH = "/settings/api-keys";

/** How long a person may take at the provider's login form. */
const SIGN_IN_WINDOW_MS = 10 * 60_000;

const originOf = (url: string) => new URL(url).origin;
const redirectUri = (url: string) => `${originOf(url)}${CALLBACK_PATH}`;

export interface Redirect {
  location: string;
  cookies: string[];
}

export async function startSignIn(people: People, url: string, now: number): Promise<Redirect> {
  const p = await people.provider.get();
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const location = new URL(p.as.authorization_endpoint!);
  for (const [k, v] of Object.entries({
    client_id: people.config.OIDC_CLIENT_ID,
    redirect_uri: redirectUri(url),
    response_type: "code",
    scope: people.config.OIDC_SCOPES,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  })) {
    location.searchParams.set(k, v);
  }
  const sealed = await people.sealer.seal("signin", { state, nonce, verifier }, now + SIGN_IN_WINDOW_MS);
  return { location: location.href, cookies: [setCookie(url, cookieNames(url).signin, sealed, SIGN_IN_WINDOW_MS / 1000)] };
}

/** A refused callback: 400 (or the 403 of a person without organization or role), the sign-in cookie cleared. */
function refused(url: string, message: string, err?: unknown): GatewayError {
  if (err !== undefined) logLine({ level: "warn", event: "oidc_callback_refused", message: `${message}: ${errorText(err)}` });
  const clear = { "set-cookie": clearCookie(url, cookieNames(url).signin) };
  if (err instanceof GatewayError && err.code === "forbidden") return new GatewayError("forbidden", err.message, clear);
  return new GatewayError("invalid_request", message, clear);
}

export async function finishSignIn(people: People, request: Request, now: number): Promise<Redirect> {
  const url = request.url;
  const raw = readCookie(request, cookieNames(url).signin);
  const tx = raw ? await people.sealer.open("signin", raw, now) : null;
  if (!tx || typeof tx.state !== "string" || typeof tx.nonce !== "string" || typeof tx.verifier !== "string") {
    throw refused(url, "Sign-in expired or was started in another browser: start again");
  }
  const p = await people.provider.get();
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(p.as, p.client, new URL(url), tx.state);
  } catch (err) {
    throw refused(
      url,
      err instanceof oauth.AuthorizationResponseError
        ? "The identity provider refused the sign-in"
        : "Sign-in response did not match this browser's sign-in (state)",
      err,
    );
  }
  let tokens: oauth.TokenEndpointResponse;
  try {
    const res = await oauth.authorizationCodeGrantRequest(p.as, p.client, p.clientAuth, params, redirectUri(url), tx.verifier, {
      ...p.http,
      signal: AbortSignal.timeout(10_000),
    });
    tokens = await oauth.processAuthorizationCodeResponse(p.as, p.client, res, { expectedNonce: tx.nonce, requireIdToken: true });
    // oauth4webapi checked iss, aud, exp, iat and nonce; the signature is checked against the provider's keys here.
    await p.keys.verify(tokens.id_token!, { issuer: p.as.issuer, audience: people.config.OIDC_CLIENT_ID }, now);
  } catch (err) {
    throw refused(url, "Sign-in failed: the identity provider's answer did not verify", err);
  }
  const claims = keptClaims(oauth.getValidatedIdTokenClaims(tokens) ?? {}, people.config);
  try {
    personFromClaims(claims, people.config);
  } catch (err) {
    throw refused(url, "Signed in, but this account cannot manage API keys", err);
  }
  const session = await sessionCookie(
    people,
    url,
    { claims, rt: tokens.refresh_token ?? null, idt: tokens.id_token ?? null, since: now, refreshed: now },
    now,
  );
  return { location: `${originOf(url)}${AFTER_PATH}`, cookies: [session, clearCookie(url, cookieNames(url).signin)] };
}

export interface SignedOut {
  /** The provider's end_session_endpoint with this session's hint, for the page to visit; null if it has none. */
  end_session_url: string | null;
  cookies: string[];
}

/**
 * Clears the session cookie, revokes the refresh token at the provider when it
 * can (so the session cannot be renewed even from a stolen copy) and names the
 * provider's logout URL. Works without a valid session too: signing out is
 * always allowed.
 */
export async function signOut(people: People, request: Request, now: number): Promise<SignedOut> {
  const url = request.url;
  const cookies = [clearCookie(url, cookieNames(url).session)];
  let data = null;
  try {
    data = await openSession(people, request, now);
  } catch {
    // Already invalid or expired: nothing to revoke, the cookie is cleared anyway.
  }
  const p = await people.provider.get();
  if (data?.rt && p.as.revocation_endpoint) {
    try {
      await oauth.processRevocationResponse(
        await oauth.revocationRequest(p.as, p.client, p.clientAuth, data.rt, { ...p.http, signal: AbortSignal.timeout(5_000) }),
      );
    } catch (err) {
      logLine({ level: "warn", event: "oidc_revocation_failed", message: errorText(err) });
    }
  }
  if (!p.as.end_session_endpoint) return { end_session_url: null, cookies };
  const end = new URL(p.as.end_session_endpoint);
  end.searchParams.set("client_id", people.config.OIDC_CLIENT_ID);
  end.searchParams.set("post_logout_redirect_uri", `${originOf(url)}${AFTER_PATH}`);
  if (data?.idt) end.searchParams.set("id_token_hint", data.idt);
  return { end_session_url: end.href, cookies };
}
