import type { KeyObject } from "../../management/object.ts";

/**
 * Which keys the list shows: a state (active by default, so revoked keys do
 * not sit among the working ones) and a search by name, key id or display
 * form. Applied to the keys loaded so far (the API lists every state, newest
 * first, and has no search of its own).
 */
export const STATE_FILTERS = {
  active: (k: KeyObject) => k.state === "active",
  expired: (k: KeyObject) => k.state === "expired",
  revoked: (k: KeyObject) => k.state === "revoked",
  all: () => true,
} as const satisfies Record<string, (k: KeyObject) => boolean>;

export type StateFilter = keyof typeof STATE_FILTERS;

export interface KeyFilter {
  state: StateFilter;
  query: string;
}

export const isStateFilter = (s: string): s is StateFilter => Object.hasOwn(STATE_FILTERS, s);

export function matches(k: KeyObject, filter: KeyFilter): boolean {
  if (!STATE_FILTERS[filter.state](k)) return false;
  const q = filter.query.trim().toLowerCase();
  return q === "" || [k.name, k.id, k.display].some((text) => text.toLowerCase().includes(q));
}
