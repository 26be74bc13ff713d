import type { KeyObject } from "../../management/object.ts";
import { actorText } from "../../storage/actors.ts";
import { KEY_COLUMNS, type KeyColumnId } from "../shared/markup.ts";
import { byId, el, when, type Child } from "./dom.ts";
import type { FocusBack } from "./dialogs.ts";

/**
 * The keys table: one row per key, newest first, rendered from the key
 * objects the API returns. Columns are data: the header comes from
 * KEY_COLUMNS (rendered by the server), each cell from CELLS below.
 */
export interface RowContext {
  /** The signed-in key's own row. */
  mine: boolean;
  /** The row's "…" menu, or null when the signed-in key may not change keys. */
  menu: HTMLElement | null;
}

interface Cell {
  className: string;
  render(k: KeyObject, row: RowContext): Child[];
}

function stateCell(k: KeyObject): Child[] {
  const badge = el("span", { className: `state state-${k.state}`, text: k.state });
  if (k.state === "active" && k.revoked_at && Date.parse(k.revoked_at) > Date.now()) {
    return [badge, el("span", { className: "state-note" }, ["rotated; stops ", when(k.revoked_at, "")])];
  }
  if (k.state === "revoked" && k.revoked_at) return [badge, el("span", { className: "state-note" }, [when(k.revoked_at, "")])];
  return [badge];
}

const count = (n: number, one: string, many: string): string => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`;

/** "100 per 60 s", with round periods said as minutes, hours or a day. */
function perPeriod(limit: number, periodS: number): string {
  const units: [number, string][] = [[86400, "day"], [3600, "hour"], [60, "minute"]];
  const unit = units.find(([s]) => periodS % s === 0);
  const period = !unit ? `${periodS.toLocaleString("en-US")} s` : periodS === unit[0] ? unit[1] : `${periodS / unit[0]} ${unit[1]}s`;
  return `${count(limit, "request", "requests")} per ${period}`;
}

/** The key's own rate limit, quota and allowlist, one line each; "—" for a key with none of them. */
function limitsCell(k: KeyObject): Child[] {
  const lines: string[] = [];
  if (k.rate_limit) lines.push(`Rate: ${perPeriod(k.rate_limit.limit, k.rate_limit.period_s)}`);
  if (k.monthly_quota !== null) lines.push(`Quota: ${count(k.monthly_quota, "request", "requests")} a month`);
  const blocks = k.allowed_cidrs;
  if (blocks) lines.push(`IPs: ${blocks.length === 1 ? blocks[0]! : count(blocks.length, "block", "blocks")}`);
  if (lines.length === 0) return [el("span", { className: "none-limit", title: "No limits of its own; usable from any address", text: "\u2014" })];
  const list = el("ul", { className: "limits" }, lines.map((text) => el("li", { text })));
  if (blocks && blocks.length > 1) list.lastElementChild?.setAttribute("title", blocks.join("\n"));
  return [list];
}

const CELLS: Record<KeyColumnId, Cell> = {
  name: {
    className: "cell-name",
    render: (k, row) => [
      el("strong", { text: k.name }),
      k.mode === "test" ? el("span", { className: "mode-badge", title: "Test-mode key (pk_test_…): its requests go to the test environment", text: "test" }) : null,
      row.mine ? el("span", { className: "state-note", text: "this session's key" }) : null,
    ],
  },
  display: { className: "", render: (k) => [el("code", { className: "display", text: k.display })] },
  scopes: { className: "", render: (k) => [el("span", { className: "chips" }, k.scopes.map((s) => el("code", { className: "chip", text: s })))] },
  limits: { className: "cell-limits", render: limitsCell },
  created: {
    className: "",
    render: (k) => [when(k.created_at, ""), el("span", { className: "created-by hint", text: `by ${actorText(k.created_by)}` })],
  },
  last_used: { className: "", render: (k) => [when(k.last_used_at, "Never")] },
  expires: { className: "", render: (k) => [when(k.expires_at, "Never")] },
  state: { className: "", render: stateCell },
  actions: { className: "cell-actions", render: (_k, row) => [row.menu] },
};

function renderRow(k: KeyObject, row: RowContext): HTMLTableRowElement {
  // One wrapper per cell: at phone width each cell is a two-column grid (label, value).
  const cells = KEY_COLUMNS.map((c) =>
    el("td", { "data-label": c.label, className: CELLS[c.id].className }, [el("div", { className: "cell-value" }, CELLS[c.id].render(k, row))]),
  );
  return el("tr", { "data-key-id": k.id, className: `is-${k.state}` }, cells);
}

export class KeyTable {
  private readonly keys = new Map<string, KeyObject>();
  private readonly body = byId("keys-body");
  private readonly empty = byId("keys-empty");

  constructor(private readonly context: (k: KeyObject) => RowContext) {}

  get(id: string): KeyObject | undefined {
    return this.keys.get(id);
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
    const old = this.rowOf(k.id);
    const focusWasIn = old?.contains(document.activeElement) ?? false;
    if (old) old.replaceWith(row);
    else if (atTop) this.body.prepend(row);
    else this.body.append(row);
    if (focusWasIn) row.querySelector<HTMLElement>(".menu-button")?.focus();
    this.showEmpty();
  }

  showEmpty(): void {
    this.empty.hidden = this.keys.size > 0;
  }

  /** Focus goes back to the row's menu button (found again: the row may have been re-rendered), else the title. */
  rowButton(id: string): FocusBack {
    return () => this.rowOf(id)?.querySelector<HTMLElement>(".menu-button") ?? byId("keys-title");
  }

  private rowOf(id: string): HTMLTableRowElement | null {
    return this.body.querySelector<HTMLTableRowElement>(`tr[data-key-id="${CSS.escape(id)}"]`);
  }
}
