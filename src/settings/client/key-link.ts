/**
 * A key's detail view has its own URL, #key=<id>: it can be linked, reloaded
 * and left with the Back button. Ids are [A-Za-z0-9_] (src/keys/ids.ts), but
 * are encoded anyway.
 */
const PREFIX = "#key=";

export const keyHref = (id: string): string => `${PREFIX}${encodeURIComponent(id)}`;

/** The key id in the address, or null. */
export function keyInHash(hash = window.location.hash): string | null {
  if (!hash.startsWith(PREFIX)) return null;
  try {
    return decodeURIComponent(hash.slice(PREFIX.length)) || null;
  } catch {
    return null;
  }
}

/** Leaves the detail view's URL without a new history entry. */
export function clearKeyHash(): void {
  if (keyInHash() !== null) history.replaceState(null, "", window.location.pathname + window.location.search);
}
