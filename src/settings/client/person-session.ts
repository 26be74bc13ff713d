import type { KeyObject } from "../../management/object.ts";
import { ApiError, call } from "./api.ts";
import { byId } from "./dom.ts";

/**
 * A person signed in through the identity provider (src/people/): the page
 * holds no credential at all, the HttpOnly session cookie does. Present only
 * when the page offers "Sign in with …" (#person-signin: OIDC_ISSUER is set).
 */
interface SessionInfo {
  actor: { type: "user"; id: string; email: string | null; name: string | null } | { type: "key"; id: string };
  organization_id: string;
  scopes: string[];
}

export const offersPersonSignIn = (): boolean => document.getElementById("person-signin") !== null;

/** The page was served to a request with a session cookie (src/settings/person-markup.ts): worth asking who. */
export const mayHaveSession = (): boolean => document.getElementById("person-signin")?.dataset.session === "cookie";

/**
 * The person the session cookie names, as the page's `self` (the create dialog
 * offers the scopes it holds); null when nobody is signed in.
 */
export async function resumePerson(): Promise<KeyObject | null> {
  let info: SessionInfo;
  try {
    info = await call<SessionInfo>(null, "GET", "", undefined, "/api/v1/session");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    // A 403 (no organization or role any more) or an outage: say so above the sign-in button.
    personSignInError(err instanceof Error ? err.message : String(err));
    return null;
  }
  if (info.actor.type !== "user") return null;
  const who = info.actor.name ?? info.actor.email ?? info.actor.id;
  return {
    id: "",
    name: who,
    organization_id: info.organization_id,
    display: info.actor.email ?? info.actor.id,
    scopes: info.scopes,
    state: "active",
    created_at: "",
    created_by: "",
    last_used_at: null,
    expires_at: null,
    revoked_at: null,
    rotated_from: null,
    rate_limit: null,
    monthly_quota: null,
    allowed_cidrs: null,
    mode: "live",
  };
}

export function personSignInError(message: string): void {
  const p = document.getElementById("person-signin-error");
  if (!p) return;
  p.textContent = message;
  p.hidden = message === "";
}

/** Ends the session at the gateway, then at the provider when it has a logout page (it comes back here). */
export async function signOutPerson(): Promise<void> {
  let next = "/settings/api-keys";
  try {
    const out = await call<{ end_session_url: string | null }>(null, "POST", "", undefined, "/settings/logout");
    if (out.end_session_url) next = out.end_session_url;
  } finally {
    byId("session").hidden = true;
    window.location.assign(next);
  }
}
