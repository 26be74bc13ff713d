import { apiClient } from "./api.ts";
import { wireCreateDialog } from "./create-dialog.ts";
import { wireDialog } from "./dialogs.ts";
import { createKeyActions } from "./key-actions.ts";
import { createKeyDetail } from "./key-detail.ts";
import { wireKeyFilters } from "./key-filters-ui.ts";
import { keyHref } from "./key-link.ts";
import type { KeyObject } from "../../management/object.ts";
import type { RowAction } from "./row-menu.ts";
import { createKeyList } from "./key-list.ts";
import { KeyTable } from "./key-table.ts";
import { closeMenusOnOutsideClick, rowMenu } from "./row-menu.ts";
import { createSession } from "./session.ts";
import { currentKey, isOwnKey, signedIn } from "./state.ts";
import { wireReveal } from "./reveal.ts";
import { createUsageDialog } from "./usage-dialog.ts";

/**
 * The settings page's script (docs/design.md §8), served as /settings/api-keys/app.js
 * and loaded with `defer`: the page's markup comes from the Worker
 * (src/settings/page.ts); this wires it up. No framework, no network but
 * same-origin calls to /api/v1/api-keys with the key kept in sessionStorage.
 *
 * The modules are built here and handed what they need; callbacks defined
 * before their targets exist (the table's menus, the session's first load)
 * only run on user events, after everything below is wired.
 */
const api = apiClient(currentKey);
// Usage needs only api_keys:read, so every row has a menu; changing a key needs api_keys:write.
/** What can be done with a key, in its row's menu and its detail view alike. */
const actionsOf = (k: KeyObject): RowAction[] => [
  { label: "Usage\u2026", run: () => openUsage(table.get(k.id) ?? k) },
  ...(signedIn()?.canWrite ? actions.actionsFor(k) : []),
];
const table = new KeyTable((k) => ({
  mine: isOwnKey(k.id),
  menu: rowMenu(k.id, k.name, [{ label: "Details", run: () => window.location.assign(keyHref(k.id)) }, ...actionsOf(k)]),
}));
const session = createSession(api, table, {
  // A #key=<id> address opens that key's details once the list is there.
  started: () => list.load(true).then(() => detail.follow()),
  ended: () => list.forget(),
});
const list = createKeyList(api, table, session.failed);
const actions = createKeyActions(api, table, session);
const openUsage = createUsageDialog(api, table, session);
const detail = createKeyDetail(api, table, session, actionsOf);

session.wireSignIn();
wireCreateDialog(api, table, session);
wireReveal();
wireKeyFilters(table);
closeMenusOnOutsideClick();
for (const dialog of document.querySelectorAll("dialog")) wireDialog(dialog);

void session.resume();
