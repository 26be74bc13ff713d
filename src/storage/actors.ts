/**
 * Who did something to a key: a key id, "cli", "secret-scanning" (text, as
 * always), or a person signed in through OpenID Connect. A person is stored as
 * two columns (migrations/0006_user_actors.sql): the text column holds
 * "user:" + subject, so queries and old readers still see one string, and the
 * JSON column holds what the audit trail shows.
 */
export interface UserActor {
  type: "user";
  /** The identity provider's `sub`. */
  id: string;
  email: string | null;
}

export type Actor = string | UserActor;

export interface ActorColumns {
  text: string;
  user: string | null;
}

export function actorColumns(actor: Actor): ActorColumns {
  if (typeof actor === "string") return { text: actor, user: null };
  return { text: `user:${actor.id}`, user: JSON.stringify({ id: actor.id, email: actor.email }) };
}

/** Back from the two columns; a JSON column that does not parse falls back to the text (never throws). */
export function actorFromColumns(text: string, user: string | null): Actor {
  if (user === null) return text;
  try {
    const parsed = JSON.parse(user) as { id?: unknown; email?: unknown };
    if (typeof parsed.id === "string")
      return { type: "user", id: parsed.id, email: typeof parsed.email === "string" ? parsed.email : null };
  } catch {
    // Written by actorColumns only: unreachable unless the row was edited by hand.
  }
  return text;
}

/** One line for people to read: the key id or "cli" as is, a person by email (or subject). */
export const actorText = (actor: Actor): string => (typeof actor === "string" ? actor : (actor.email ?? `user ${actor.id}`));
