import type { KeyObject } from "../../management/object.ts";
import { actorText } from "../../storage/actors.ts";
import type { Api, KeyEvent } from "./api.ts";
import { openDialog } from "./dialogs.ts";
import { byId, el, type Child } from "./dom.ts";
import { clearKeyHash, keyHref, keyInHash } from "./key-link.ts";
import type { KeyTable } from "./key-table.ts";
import { perPeriod } from "./limits-text.ts";
import { fieldError, showAlert } from "./messages.ts";
import type { RowAction } from "./row-menu.ts";
import type { Session } from "./session.ts";
import { exactUtc, expiresSoon, relative, whenExact } from "./times.ts";

/**
 * A key's whole story in a drawer with its own URL (#key=<id>, key-link.ts):
 * its full name, id (with Copy), mode, scopes, limits, every allowlist block,
 * expiry, creation, last use, the keys a rotation links it to, what can be
 * done with it, and its events (GET …/{id}/events).
 */
const EVENT_LABELS: Record<KeyEvent["type"], string> = {
  created: "Created",
  renamed: "Renamed",
  rotated: "Rotated",
  revoked: "Revoked",
  revoked_leaked: "Revoked: found published",
};

/** Who acted: a key the page has loaded is named, with its id; anyone else as src/storage/actors.ts says. */
function actorName(actor: KeyObject["created_by"], table: KeyTable): string {
  const k = typeof actor === "string" ? table.get(actor) : undefined;
  return k ? `${k.name} (${k.id})` : actorText(actor);
}

const fact = (term: string, ...value: Child[]): HTMLElement[] => [el("dt", { text: term }), el("dd", {}, value)];

function keyLink(id: string, k: KeyObject | undefined): HTMLElement {
  return el("a", { href: keyHref(id), className: "key-ref" }, [k ? `${k.name} (${k.display})` : id]);
}

function copyButton(id: string): HTMLElement {
  const status = el("span", { className: "hint", role: "status" });
  const button = el("button", { type: "button", className: "small", id: "detail-copy-id", text: "Copy id" });
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(id);
      status.textContent = "Copied.";
    } catch {
      status.textContent = "Copying is blocked here: select the id and copy it.";
    }
  });
  return el("span", { className: "with-copy" }, [el("code", { id: "detail-id", text: id }), button, status]);
}

function stateText(k: KeyObject): Child[] {
  const until = k.state === "active" && k.revoked_at && Date.parse(k.revoked_at) > Date.now() ? k.revoked_at : null;
  if (until) return [`active; rotated, stops `, whenExact(until, "")];
  if (k.state === "revoked") return ["revoked ", whenExact(k.revoked_at, "")];
  return [k.state];
}

function facts(k: KeyObject, table: KeyTable): HTMLElement[] {
  const successor = table.successorOf(k.id);
  const blocks = k.allowed_cidrs;
  return [
    ...fact("Key id", copyButton(k.id)),
    ...fact("Key", el("code", { className: "display", text: k.display })),
    ...fact(
      "Mode",
      k.mode === "test" ? "Test (pk_test_…): requests go to the test environment" : "Live (pk_live_…): requests reach production data",
    ),
    ...fact("State", ...stateText(k)),
    ...fact(
      "Scopes",
      el(
        "span",
        { className: "chips" },
        k.scopes.map((s) => el("code", { className: "chip", text: s })),
      ),
    ),
    ...fact(
      "Rate limit",
      k.rate_limit ? perPeriod(k.rate_limit.limit, k.rate_limit.period_s) : "None of its own (the organization's default applies, if any)",
    ),
    ...fact(
      "Monthly quota",
      k.monthly_quota === null ? "None" : `${k.monthly_quota.toLocaleString("en-US")} requests per calendar month (UTC)`,
    ),
    ...fact(
      "IP allowlist",
      blocks
        ? el(
            "ul",
            { className: "blocks", id: "detail-blocks" },
            blocks.map((b) => el("li", {}, [el("code", { text: b })])),
          )
        : "Any address",
    ),
    ...fact("Expires", whenExact(k.expires_at, "Never")),
    ...fact("Created", whenExact(k.created_at, ""), ` by ${actorName(k.created_by, table)}`),
    ...fact("Last used", whenExact(k.last_used_at, "Never")),
    ...(k.rotated_from ? fact("Replaces", keyLink(k.rotated_from, table.get(k.rotated_from))) : []),
    ...(successor ? fact("Replaced by", keyLink(successor.id, successor)) : []),
  ];
}

function eventItem(e: KeyEvent, table: KeyTable): HTMLElement {
  return el("li", { "data-type": e.type }, [
    el("strong", { text: EVENT_LABELS[e.type] }),
    " ",
    whenExact(e.at, ""),
    ` by ${actorName(e.actor, table)}`,
    e.url ? el("span", { className: "hint" }, [" at ", el("code", { text: e.url })]) : null,
  ]);
}

export function createKeyDetail(api: Api, table: KeyTable, session: Session, actionsOf: (k: KeyObject) => RowAction[]) {
  const dialog = byId("key-detail", HTMLDialogElement);
  const events = byId("detail-events");
  let shown: string | null = null;
  let request = 0;

  function render(k: KeyObject): void {
    byId("detail-title").textContent = k.name;
    byId("detail-facts").replaceChildren(...facts(k, table));
    const warning = byId("detail-warning");
    const soon = k.state === "active" && expiresSoon(k.expires_at) && k.expires_at ? k.expires_at : null;
    warning.hidden = soon === null;
    warning.textContent = soon
      ? `This key expires ${relative(soon)} (${exactUtc(soon)}): rotate it or generate a replacement before then.`
      : "";
    const buttons = actionsOf(k).map((a) => {
      const b = el("button", { type: "button", className: a.danger ? "danger-outline" : "", text: a.label });
      b.addEventListener("click", a.run);
      return b;
    });
    byId("detail-actions").replaceChildren(...buttons);
  }

  async function loadEvents(id: string): Promise<void> {
    const mine = ++request;
    events.setAttribute("aria-busy", "true");
    fieldError("detail-error", "");
    try {
      const { items } = await api.events(id);
      if (mine !== request) return;
      // Newest first, like the key list.
      events.replaceChildren(
        ...(items.length ? [...items].reverse().map((e) => eventItem(e, table)) : [el("li", { className: "empty", text: "No events." })]),
      );
    } catch (err) {
      if (mine === request) session.failed(err, (m) => fieldError("detail-error", `Could not load the key's history: ${m}`));
    } finally {
      if (mine === request) events.setAttribute("aria-busy", "false");
    }
  }

  async function open(id: string): Promise<void> {
    let k = table.get(id);
    if (!k) {
      try {
        k = await api.get(id);
      } catch (err) {
        clearKeyHash();
        // The drawer is not open yet: say it above the list.
        session.failed(err, (m) => showAlert(`Could not show that key: ${m}`));
        return;
      }
    }
    shown = id;
    render(k);
    events.replaceChildren();
    if (!dialog.open) {
      const back = () =>
        document.querySelector<HTMLElement>(`tr[data-key-id="${CSS.escape(id)}"]:not([hidden]) a.key-link`) ?? byId("keys-title");
      openDialog(dialog, back);
    }
    byId("detail-title").setAttribute("tabindex", "-1");
    byId("detail-title").focus();
    void loadEvents(id);
  }

  /** Follows the address: #key=<id> opens that key, anything else closes the drawer. */
  function follow(): void {
    const id = keyInHash();
    if (id === null) {
      if (dialog.open) dialog.close();
      return;
    }
    if (id !== shown || !dialog.open) void open(id);
  }

  dialog.addEventListener("close", () => {
    shown = null;
    clearKeyHash();
  });
  window.addEventListener("hashchange", follow);
  // A change to the shown key (renamed, rotated, revoked) shows at once, history included.
  table.onChange = (k) => {
    if (dialog.open && (k.id === shown || k.rotated_from === shown)) {
      const current = shown === null ? undefined : table.get(shown);
      if (current) render(current);
      if (shown) void loadEvents(shown);
    }
  };

  return { follow };
}
