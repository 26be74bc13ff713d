import { bearerJwt, personFromAccessToken } from "./access-token.ts";
import type { People } from "./people.ts";
import type { Person } from "./person.ts";
import { assertSameOrigin, changesState } from "./same-origin.ts";
import { hasSessionCookie, liveSession } from "./session.ts";

/** A person the management API acts for, and how they proved it. */
export interface PersonAuth {
  person: Person;
  via: "session" | "bearer";
  /** A renewed session cookie to send back, when the session was refreshed. */
  setCookie: string | null;
}

/**
 * A person behind this request, or null when it carries no person's
 * credential (then it is an API key's request, or nobody's, as before sign-in
 * existed). An Authorization header decides: a JWT is a person's access
 * token, anything else is left to the key path. Without one, the session
 * cookie, same-origin only.
 */
export async function authenticatePerson(people: People, request: Request, now: number): Promise<PersonAuth | null> {
  const authorization = request.headers.get("authorization");
  if (authorization !== null) {
    const token = bearerJwt(authorization);
    if (token === null) return null;
    return { person: await personFromAccessToken(people, token, now), via: "bearer", setCookie: null };
  }
  if (!hasSessionCookie(request)) return null;
  // Before the cookie is even opened: a cross-site request gets nothing, not even a refresh.
  assertSameOrigin(request, changesState(request.method));
  const session = await liveSession(people, request, now);
  if (session === null) return null;
  return { person: session.person, via: "session", setCookie: session.setCookie };
}
