import { LOGIN_PATH } from "../people/sign-in.ts";
import { escapeHtml } from "./escape.ts";

/**
 * The settings page's sign-in for people (src/people/), when OIDC_ISSUER is
 * set: the first thing on the sign-in view; signing in with an API key stays
 * below it. A plain link: the page's CSP allows no form posts, and the
 * sign-in starts with a top-level GET anyway.
 */

export interface PersonSignIn {
  displayName: string;
  /**
   * The request carried a session cookie (valid or not: the page cannot tell, and need not). Only then
   * does the script ask /api/v1/session who it is: a visitor who never signed in costs no 401.
   */
  sessionCookie: boolean;
}

export function personSignInBlock(signIn: PersonSignIn): string {
  return [
    `<div id="person-signin" class="person-signin"${signIn.sessionCookie ? ` data-session="cookie"` : ""}>`,
    `<h2 id="signin-title">Sign in</h2>`,
    `<p>Sign in with your account to manage your organization's API keys.</p>`,
    `<p class="actions"><a class="button primary" id="person-signin-link" href="${LOGIN_PATH}">Sign in with ${escapeHtml(signIn.displayName)}</a></p>`,
    `<p id="person-signin-error" class="field-error" role="alert" hidden></p>`,
    `</div>`,
  ].join("\n");
}

/** The API-key sign-in's heading: the only way in without people, the second way with them. */
export const keySignInHeading = (signIn: PersonSignIn | null): string =>
  signIn ? `<h3 id="key-signin-title">Or sign in with an API key</h3>` : `<h2 id="signin-title">Sign in with an API key</h2>`;
