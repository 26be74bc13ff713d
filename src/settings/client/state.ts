import type { KeyObject } from "../../management/object.ts";

/**
 * Who is signed in: the key (also in sessionStorage), its own key object, and whether it may change keys.
 * A person (person-session.ts) has no key: `key` is null, the session cookie authorizes, and `self`
 * stands for them (their organization and scopes; an id no key has).
 */
export interface SignedIn {
  key: string | null;
  self: KeyObject;
  canWrite: boolean;
}

let current: SignedIn | null = null;

export const signedIn = (): SignedIn | null => current;

export function setSignedIn(next: SignedIn | null): void {
  current = next;
}

/** The signed-in key, for API calls (null for a person); only called while signed in. */
export function currentKey(): string | null {
  if (!current) throw new Error("not signed in");
  return current.key;
}

export const isOwnKey = (id: string): boolean => current !== null && current.self.id === id;

/** As the page decides what to offer; the API enforces the full rule (docs/design.md §3). */
export const holdsScope = (held: readonly string[], scope: string): boolean => held.includes("*") || held.includes(scope);
