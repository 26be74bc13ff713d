/**
 * The signed-in (admin) key, kept in this tab's sessionStorage only: never a
 * cookie, localStorage or the URL, and forgotten when the tab closes or on
 * sign-out.
 */
const STORE = "ats-gateway.settings.api-key";

export function storedKey(): string | null {
  try {
    return window.sessionStorage.getItem(STORE);
  } catch {
    return null;
  }
}

/** `null` forgets the key. */
export function storeKey(key: string | null): void {
  try {
    if (key === null) window.sessionStorage.removeItem(STORE);
    else window.sessionStorage.setItem(STORE, key);
  } catch {
    // Storage disabled: the key then lives in this page's memory only.
  }
}
