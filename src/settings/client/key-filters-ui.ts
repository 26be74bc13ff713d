import { byId } from "./dom.ts";
import { isStateFilter } from "./key-filter.ts";
import type { KeyTable } from "./key-table.ts";
import { announce } from "./messages.ts";

/** The list's state filter and search box (src/settings/page.ts), applied as the reader changes them. */
export function wireKeyFilters(table: KeyTable): void {
  const state = byId("state-filter", HTMLSelectElement);
  const search = byId("key-search", HTMLInputElement);
  let timer = 0;
  const apply = (say: boolean) => {
    const value = state.value;
    table.setFilter({ state: isStateFilter(value) ? value : "active", query: search.value });
    if (say) announce(`${table.shown} ${table.shown === 1 ? "key" : "keys"} shown.`);
  };
  // The browser may restore the controls on reload: the list follows what they show.
  apply(false);
  state.addEventListener("change", () => apply(true));
  search.addEventListener("input", () => {
    apply(false);
    // Announced once typing pauses, not on every keystroke.
    window.clearTimeout(timer);
    timer = window.setTimeout(() => apply(true), 500);
  });
}
