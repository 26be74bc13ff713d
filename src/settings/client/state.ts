import type { KeyObject } from "../../keys/object.ts";

/** Who is signed in: the key (also in sessionStorage), its own key object, and whether it may change keys. */
export interface SignedIn {
  key: string;
  self: KeyObject;
  canWrite: boolean;
}

let current: SignedIn | null = null;

export const signedIn = (): SignedIn | null => current;

export function setSignedIn(next: SignedIn | null): void {
  current = next;
}

/** The signed-in key, for API calls; only called while signed in. */
export function currentKey(): string {
  if (!current) throw new Error("not signed in");
  return current.key;
}

export const isOwnKey = (id: string): boolean => current !== null && current.self.id === id;

/** As the page decides what to offer; the API enforces the full rule (docs/design.md §3). */
export const holdsScope = (held: readonly string[], scope: string): boolean => held.includes("*") || held.includes(scope);
