import { el } from "./dom.ts";

/**
 * A key row's "⋮" menu (WAI-ARIA menu button): Enter or click opens it,
 * arrows/Home/End move, Escape closes it back onto its button, Tab or a click
 * elsewhere closes it. One menu is open at a time.
 */
export interface RowAction {
  label: string;
  run: () => void;
  danger?: boolean;
}

let open: { button: HTMLButtonElement; menu: HTMLElement } | null = null;

export function closeMenu(focusButton: boolean): void {
  if (!open) return;
  const { button, menu } = open;
  open = null;
  menu.hidden = true;
  button.setAttribute("aria-expanded", "false");
  if (focusButton) button.focus();
}

const itemsOf = (menu: HTMLElement): HTMLElement[] => [...menu.querySelectorAll<HTMLElement>("[role=menuitem]")];

/** Opens `menu` with the item at `focusIndex` focused (negative: the last). */
function openMenu(button: HTMLButtonElement, menu: HTMLElement, focusIndex: number): void {
  closeMenu(false);
  menu.hidden = false;
  button.setAttribute("aria-expanded", "true");
  open = { button, menu };
  const items = itemsOf(menu);
  items[focusIndex < 0 ? items.length - 1 : focusIndex]?.focus();
}

/** Where a key moves the focus among `count` items from `at`; null for keys the menu does not handle. */
function nextIndex(key: string, at: number, count: number): number | null {
  const moves: Record<string, number> = { ArrowDown: (at + 1) % count, ArrowUp: (at - 1 + count) % count, Home: 0, End: count - 1 };
  return moves[key] ?? null;
}

export function rowMenu(id: string, name: string, actions: readonly RowAction[]): HTMLElement {
  const menuId = `menu-${id}`;
  const button = el("button", {
    type: "button",
    className: "menu-button",
    "aria-haspopup": "menu",
    "aria-expanded": "false",
    "aria-controls": menuId,
    "aria-label": `Actions for ${name}`,
    // A vertical ellipsis (kebab), light: the row's content matters more than its menu.
    text: "\u22ee",
  });
  const menu = el("div", { className: "menu", id: menuId, role: "menu", "aria-label": `Actions for ${name}`, hidden: true });
  for (const action of actions) {
    const item = el("button", {
      type: "button",
      role: "menuitem",
      tabindex: "-1",
      className: action.danger ? "danger-item" : "",
      text: action.label,
    });
    item.addEventListener("click", () => {
      closeMenu(false);
      action.run();
    });
    menu.append(item);
  }
  button.addEventListener("click", () => {
    if (open && open.menu === menu) closeMenu(true);
    else openMenu(button, menu, 0);
  });
  button.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      openMenu(button, menu, e.key === "ArrowDown" ? 0 : -1);
    }
  });
  menu.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.preventDefault();
      closeMenu(true);
      return;
    }
    if (e.key === "Tab") {
      closeMenu(false);
      return;
    }
    const items = itemsOf(menu);
    const next = nextIndex(e.key, items.indexOf(document.activeElement as HTMLElement), items.length);
    if (next !== null) {
      e.preventDefault();
      items[next]?.focus();
    }
  });
  return el("div", { className: "row-menu" }, [button, menu]);
}

/** A click outside the open menu and its button closes it. */
export function closeMenusOnOutsideClick(): void {
  document.addEventListener("click", (e) => {
    const target = e.target instanceof Node ? e.target : null;
    if (open && !open.menu.contains(target) && !open.button.contains(target)) closeMenu(false);
  });
}
