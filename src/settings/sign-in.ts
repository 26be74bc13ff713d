import type { Context } from "hono";
import { GatewayError, OWN_RESPONSE_HEADERS, successEnvelope } from "../errors.ts";
import type { AppEnv } from "../gateway/context.ts";
import type { People } from "../people/people.ts";
import { assertSameOrigin } from "../people/same-origin.ts";
import { AFTER_PATH, finishSignIn, signOut, startSignIn, type Redirect } from "../people/sign-in.ts";
import { escapeHtml } from "./escape.ts";
import { SECURITY_HEADERS } from "./serve.ts";

/**
 * The sign-in routes of the settings page (src/people/sign-in.ts does the
 * work): GET /settings/login, GET /settings/callback, POST /settings/logout.
 * Without OIDC_ISSUER they do not exist (404), as before sign-in did.
 */
type Ctx = Context<AppEnv>;

function peopleOf(c: Ctx): People {
  const people = c.get("state").runtime.people;
  if (people === null) throw new GatewayError("not_found", "No such route");
  return people;
}

function redirect(r: Redirect): Response {
  const headers = new Headers({ location: r.location, "cache-control": "no-store", "referrer-policy": "no-referrer" });
  for (const cookie of r.cookies) headers.append("set-cookie", cookie);
  return new Response(null, { status: 302, headers });
}

export const loginHandler = async (c: Ctx) => redirect(await startSignIn(peopleOf(c), c.req.url, Date.now()));

/**
 * The provider sends the person's browser here, so a refusal a person can read: the same status and
 * message as the envelope, as a small page with a way back, when the browser asks for HTML.
 */
export const callbackHandler = async (c: Ctx) => {
  try {
    return redirect(await finishSignIn(peopleOf(c), c.req.raw, Date.now()));
  } catch (err) {
    if (!(err instanceof GatewayError) || !(c.req.header("accept") ?? "").includes("text/html")) throw err;
    return refusalPage(err);
  }
};

function refusalPage(err: GatewayError): Response {
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in refused · Settings</title><link rel="icon" href="data:,"></head>
<body><main><h1>Sign-in refused</h1><p id="signin-refusal">${escapeHtml(err.message)}</p>
<p><a href="${AFTER_PATH}">Back to the sign-in page</a></p></main></body></html>
`;
  const headers = new Headers({
    ...SECURITY_HEADERS,
    ...err.headers,
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
  });
  return new Response(body, { status: err.status, headers });
}

/** A fetch from the page (same-origin only); answers where to go next, so the page can visit the provider's logout. */
export const logoutHandler = async (c: Ctx) => {
  const people = peopleOf(c);
  assertSameOrigin(c.req.raw, true);
  const out = await signOut(people, c.req.raw, Date.now());
  const headers = new Headers(OWN_RESPONSE_HEADERS);
  for (const cookie of out.cookies) headers.append("set-cookie", cookie);
  return new Response(JSON.stringify(successEnvelope({ end_session_url: out.end_session_url })), { status: 200, headers });
};
