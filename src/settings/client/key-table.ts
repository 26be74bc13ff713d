import type { KeyObject } from "../../management/object.ts";
import { actorText } from "../../storage/actors.ts";
import { KEY_COLUMNS, type KeyColumnId } from "../shared/markup.ts";
import { byId, el, type Child } from "./dom.ts";
import type { FocusBack } from "./dialogs.ts";
import { matches, type KeyFilter } from "./key-filter.ts";
import { keyHref } from "./key-link.ts";
import { limitLines } from "./limits-text.ts";
import { exactUtc, expiresSoon, when } from "./times.ts";

/**
 * The keys table: one row per key, newest first, rendered from the key
 * objects the API returns. Columns are data: the header comes from
 * KEY_COLUMNS (rendered by the server), each cell from CELLS below. Rows stay
 * one or two lines: names are truncated (the full name in the title and the
 * detail view), times are relative (exact UTC on hover), scopes are capped.
 */
export interface RowContext {
  /** The signed-in key's own row. */
  mine: boolean;
  /** The row's menu, or null when the signed-in key may not change keys. */
  menu: HTMLElement | null;
}

interface Cell {
  className: string;
  render(k: KeyObject, row: RowContext): Child[];
}

/** Scopes shown as chips in a row (one per line at most two lines); the rest are counted ("+3"), all are in the detail view. */
const CHIP_LINES = 2;

function stateCell(k: KeyObject): Child[] {
  const badge = el("span", { className: `state state-${k.state}`, text: k.state });
  if (k.state === "active" && k.revoked_at && Date.parse(k.revoked_at) > Date.now()) {
    const note = el("span", { className: "state-note" }, ["stops ", when(k.revoked_at, "")]);
    note.title = `Rotated: works until ${exactUtc(k.revoked_at)}`;
    return [badge, note];
  }
  if (k.state === "revoked" && k.revoked_at) return [badge, el("span", { className: "state-note" }, [when(k.revoked_at, "")])];
  return [badge];
}

/** The key's own rate limit, quota and allowlist, one line each; "—" for a key with none of them. */
function limitsCell(k: KeyObject): Child[] {
  const lines = limitLines(k, false);
  if (lines.length === 0)
    return [el("span", { className: "none-limit", title: "No limits of its own; usable from any address", text: "\u2014" })];
  return [
    el(
      "ul",
      { className: "limits", title: limitLines(k, true).join("\n") },
      lines.map((text) => el("li", { text })),
    ),
  ];
}

function scopesCell(k: KeyObject): Child[] {
  const shown = k.scopes.length <= CHIP_LINES ? k.scopes.length : CHIP_LINES - 1;
  const chips: Child[] = k.scopes.slice(0, shown).map((s) => el("code", { className: "chip", text: s }));
  const rest = k.scopes.length - shown;
  if (rest > 0) chips.push(el("span", { className: "chip chip-more", title: k.scopes.join(" "), text: `+${rest} more` }));
  return [el("span", { className: "chips" }, chips)];
}

function expiresCell(k: KeyObject): Child[] {
  const soon = k.state === "active" && expiresSoon(k.expires_at);
  return [soon ? el("span", { className: "expires-soon" }, [when(k.expires_at, "Never")]) : when(k.expires_at, "Never")];
}

const CELLS: Record<KeyColumnId, Cell> = {
  name: {
    className: "cell-name",
    render: (k, row) => [
      el("a", { className: "key-link", href: keyHref(k.id), title: k.name, text: k.name }),
      el("span", { className: "key-line" }, [
        k.mode === "test"
          ? el("span", {
              className: "mode-badge",
              title: "Test-mode key (pk_test_…): its requests go to the test environment",
              text: "test",
            })
          : null,
        el("code", { className: "display", text: k.display }),
        row.mine ? el("span", { className: "yours", text: " \u00b7 this session's key" }) : null,
      ]),
    ],
  },
  scopes: { className: "", render: scopesCell },
  limits: { className: "cell-limits", render: limitsCell },
  created: {
    className: "",
    render: (k) => [
      when(k.created_at, ""),
      el("span", { className: "created-by hint", title: `by ${actorText(k.created_by)}`, text: `by ${actorText(k.created_by)}` }),
    ],
  },
  last_used: { className: "", render: (k) => [when(k.last_used_at, "Never")] },
  expires: { className: "", render: expiresCell },
  state: { className: "", render: stateCell },
  actions: { className: "cell-actions", render: (_k, row) => [row.menu] },
};

function renderRow(k: KeyObject, row: RowContext): HTMLTableRowElement {
  // One wrapper per cell: at phone width each cell is a two-column grid (label, value).
  const cells = KEY_COLUMNS.map((c) =>
    el("td", { "data-label": c.label, className: CELLS[c.id].className }, [
      el("div", { className: "cell-value" }, CELLS[c.id].render(k, row)),
    ]),
  );
  return el("tr", { "data-key-id": k.id, className: `is-${k.state}` }, cells);
}

export class KeyTable {
  private readonly keys = new Map<string, KeyObject>();
  private readonly body = byId("keys-body");
  private readonly empty = byId("keys-empty");
  private filter: KeyFilter = { state: "active", query: "" };
  /** Runs after any key changes (the detail view refreshes from it). */
  onChange: (k: KeyObject) => void = () => {};

  constructor(private readonly context: (k: KeyObject) => RowContext) {}

  get(id: string): KeyObject | undefined {
    return this.keys.get(id);
  }

  /** The loaded key that replaced `id` by rotation, if any. */
  successorOf(id: string): KeyObject | undefined {
    for (const k of this.keys.values()) if (k.rotated_from === id) return k;
    return undefined;
  }

  get size(): number {
    return this.keys.size;
  }

  clear(): void {
    this.keys.clear();
    this.body.replaceChildren();
  }

  /** Adds or replaces a key's row; new keys go on top (newest first) or, when paging, at the end. */
  upsert(k: KeyObject, atTop: boolean): void {
    this.keys.set(k.id, k);
    const row = renderRow(k, this.context(k));
    row.hidden = !matches(k, this.filter);
    const old = this.rowOf(k.id);
    const focusWasIn = old?.contains(document.activeElement) ?? false;
    if (old) old.replaceWith(row);
    else if (atTop) this.body.prepend(row);
    else this.body.append(row);
    if (focusWasIn) row.querySelector<HTMLElement>(".menu-button")?.focus();
    this.showEmpty();
    this.onChange(k);
  }

  setFilter(filter: KeyFilter): void {
    this.filter = filter;
    for (const row of this.body.querySelectorAll<HTMLTableRowElement>("tr[data-key-id]")) {
      const k = this.keys.get(row.dataset.keyId ?? "");
      row.hidden = !k || !matches(k, filter);
    }
    this.showEmpty();
  }

  /** How many loaded keys the filter shows. */
  get shown(): number {
    return [...this.keys.values()].filter((k) => matches(k, this.filter)).length;
  }

  showEmpty(): void {
    const shown = this.shown;
    this.empty.hidden = shown > 0;
    this.empty.textContent = this.keys.size === 0 ? "No keys yet." : "No keys match: change the state or the search.";
  }

  /** Focus goes back to the row's menu button (found again: the row may have been re-rendered), else the title. */
  rowButton(id: string): FocusBack {
    return () => {
      const button = this.rowOf(id)?.querySelector<HTMLElement>(".menu-button");
      return button && !button.closest("tr")?.hidden ? button : byId("keys-title");
    };
  }

  private rowOf(id: string): HTMLTableRowElement | null {
    return this.body.querySelector<HTMLTableRowElement>(`tr[data-key-id="${CSS.escape(id)}"]`);
  }
}
