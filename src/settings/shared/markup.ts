/**
 * What the server-rendered page (src/settings/page.ts) and the client
 * (src/settings/client/) must agree on, kept in one browser-safe module so
 * neither can drift from the other: ids derived from the scope catalog, and
 * the key table's columns.
 */

/** The id of a scope's checkbox in the "Generate new key" dialog; its description is `${id}-desc`. */
export const scopeInputId = (scope: string): string => `scope-${scope === "*" ? "all" : scope.replace(":", "-")}`;

/**
 * The key table's columns, in order. The server renders the header row from
 * this list; the client has one cell renderer per id (a Record, so adding a
 * column here without a renderer is a type error in the client).
 */
export const KEY_COLUMNS = [
  // The name cell holds the key's display form too: one column fewer keeps rows on one or two lines at 1280 px.
  { id: "name", label: "Name", hideLabel: false },
  { id: "scopes", label: "Scopes", hideLabel: false },
  { id: "limits", label: "Limits", hideLabel: false },
  { id: "created", label: "Created", hideLabel: false },
  { id: "last_used", label: "Last used", hideLabel: false },
  { id: "expires", label: "Expires", hideLabel: false },
  { id: "state", label: "State", hideLabel: false },
  { id: "actions", label: "Actions", hideLabel: true },
] as const satisfies readonly { id: string; label: string; hideLabel: boolean }[];

export type KeyColumnId = (typeof KEY_COLUMNS)[number]["id"];

/**
 * The usage chart's drawing area. The page renders the <svg> element (so the
 * script needs no namespace URL of its own); the client draws the bars in it.
 */
export const USAGE_CHART = { width: 600, height: 160, axis: 18 } as const;
