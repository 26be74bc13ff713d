import type { KeyObject } from "../../management/object.ts";
import type { Api } from "./api.ts";
import { busy, openDialog } from "./dialogs.ts";
import { byId, quoted } from "./dom.ts";
import { storeKey } from "./key-store.ts";
import type { KeyTable } from "./key-table.ts";
import { announce, fieldError } from "./messages.ts";
import { reveal } from "./reveal.ts";
import type { RowAction } from "./row-menu.ts";
import type { Session } from "./session.ts";
import { isOwnKey, setSignedIn, signedIn } from "./state.ts";
import { exactUtc, relative } from "./times.ts";

/**
 * What a key row's "…" menu offers (rename, rotate, revoke) and the dialog
 * behind each. `actionsFor` is data: a new row action is one more entry.
 */
export function createKeyActions(api: Api, table: KeyTable, session: Session) {
  /** One confirm-and-submit dialog per action, each remembering the key it was opened for. */
  function keyDialog(name: string, submit: (k: KeyObject, form: HTMLFormElement) => Promise<void>) {
    const dialog = byId(`${name}-dialog`, HTMLDialogElement);
    const form = byId(`${name}-form`, HTMLFormElement);
    let target: string | null = null;
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const k = target === null ? undefined : table.get(target);
      if (!k) return dialog.close();
      await submit(k, form);
    });
    return (k: KeyObject) => {
      target = k.id;
      fieldError(`${name}-error`, "");
      openDialog(dialog, table.rowButton(k.id));
    };
  }

  /** Runs a request with the form busy; a failure is shown in the dialog (or ends the session on 401). */
  async function attempt(form: HTMLFormElement, what: string, errorId: string, run: () => Promise<void>): Promise<void> {
    busy(form, true);
    try {
      await run();
    } catch (err) {
      session.failed(err, (m) => fieldError(errorId, `Could not ${what} the key: ${m}`));
    } finally {
      busy(form, false);
    }
  }

  const openRename = keyDialog("rename", async (k, form) => {
    const name = byId("rename-name", HTMLInputElement).value.trim();
    if (!name) return fieldError("rename-error", "The name must not be empty");
    if (name === k.name) return byId("rename-dialog", HTMLDialogElement).close();
    await attempt(form, "rename", "rename-error", async () => {
      const updated = await api.rename(k.id, { name });
      table.upsert(updated, false);
      const current = signedIn();
      if (current && isOwnKey(updated.id)) {
        setSignedIn({ ...current, self: updated });
        session.renderSession();
      }
      byId("rename-dialog", HTMLDialogElement).close();
      announce(`Renamed to ${quoted(updated.name)}.`);
    });
  });

  const openRotate = keyDialog("rotate", async (k, form) => {
    const grace = Number(byId("rotate-grace", HTMLSelectElement).value);
    await attempt(form, "rotate", "rotate-error", async () => {
      const { key: secret, ...created } = await api.rotate(k.id, { grace_seconds: grace });
      const current = signedIn();
      if (current && isOwnKey(k.id)) {
        // The signed-in key was rotated: carry on with its successor.
        setSignedIn({ ...current, key: secret, self: created });
        storeKey(secret);
        session.renderSession();
      }
      table.upsert(created, true);
      try {
        table.upsert(await api.get(k.id), false);
      } catch {
        // The old row refreshes on the next load.
      }
      byId("rotate-dialog", HTMLDialogElement).close();
      reveal(secret, created, table.rowButton(created.id));
      announce(`Key ${quoted(created.name)} rotated.`);
    });
  });

  /** The predecessor a rotation left working (grace period), if the page knows it: the Revoke dialog offers to end both. */
  let inGrace: KeyObject | null = null;

  const openRevoke = keyDialog("revoke", async (k, form) => {
    const both = inGrace !== null && byId("revoke-both", HTMLInputElement).checked ? inGrace : null;
    const own = isOwnKey(k.id) || (both !== null && isOwnKey(both.id));
    await attempt(form, "revoke", "revoke-error", async () => {
      const revoked = await api.revoke(k.id);
      table.upsert(revoked, false);
      if (both) table.upsert(await api.revoke(both.id), false);
      byId("revoke-dialog", HTMLDialogElement).close();
      if (own) session.signOut("You revoked the key you were signed in with. Sign in with another key.");
      else
        announce(
          both ? `Keys ${quoted(revoked.name)} (${revoked.display} and ${both.display}) revoked.` : `Key ${quoted(revoked.name)} revoked.`,
        );
    });
  });

  function rename(k: KeyObject): void {
    byId("rename-title").textContent = `Rename ${quoted(k.name)}`;
    const input = byId("rename-name", HTMLInputElement);
    input.value = k.name;
    openRename(k);
    input.select();
  }

  function rotate(k: KeyObject): void {
    byId("rotate-title").textContent = `Rotate ${quoted(k.name)}`;
    byId("rotate-text").textContent =
      `Replace ${quoted(k.name)} (${k.display}) with a new key that has the same name, scopes, expiry, mode, limits and IP allowlist. The new key is shown once.`;
    byId("rotate-grace", HTMLSelectElement).value = "0";
    byId("rotate-self").hidden = !isOwnKey(k.id);
    openRotate(k);
  }

  /** A key still working only for a rotation's grace period: its revoked_at is in the future. */
  const graceEnds = (k: KeyObject): string | null =>
    k.state === "active" && k.revoked_at && Date.parse(k.revoked_at) > Date.now() ? k.revoked_at : null;

  async function predecessorInGrace(k: KeyObject): Promise<KeyObject | null> {
    if (!k.rotated_from) return null;
    let before = table.get(k.rotated_from);
    if (!before) {
      try {
        before = await api.get(k.rotated_from);
      } catch {
        return null;
      }
    }
    return graceEnds(before) ? before : null;
  }

  async function revoke(k: KeyObject): Promise<void> {
    const own = graceEnds(k);
    inGrace = await predecessorInGrace(k);
    byId("revoke-title").textContent = `Revoke ${quoted(k.name)}?`;
    byId("revoke-text").textContent = own
      ? `${quoted(k.name)} (${k.display}) was rotated and works until ${exactUtc(own)} (${relative(own)}). Revoking it stops it now instead: every request made with it is refused. This cannot be undone.`
      : `${quoted(k.name)} (${k.display}) stops working at once: every request made with it is refused. This cannot be undone.`;
    const note = byId("revoke-predecessor");
    note.hidden = inGrace === null;
    byId("revoke-both", HTMLInputElement).checked = false;
    if (inGrace) {
      const until = inGrace.revoked_at ?? "";
      byId("revoke-predecessor-text").textContent =
        `This key replaced ${quoted(inGrace.name)} (${inGrace.display}), which still works until ${exactUtc(until)} (${relative(until)}): ` +
        "revoking only this key leaves the old one working until then.";
      byId("revoke-both-label").textContent = `Also revoke the old key ${inGrace.display} now`;
    }
    byId("revoke-self").hidden = !isOwnKey(k.id);
    openRevoke(k);
  }

  /** Rename unless revoked (for a key the signed-in key may change); rotate and revoke while the key is active (rotate not during a running grace period). */
  function actionsFor(k: KeyObject): RowAction[] {
    // A test key may change test keys only (the API answers 403 otherwise): offer nothing it would refuse.
    if (signedIn()?.self.mode === "test" && k.mode !== "test") return [];
    const live = k.state === "active";
    // A revoked key is history: nothing to rename.
    const actions: RowAction[] = k.state === "revoked" ? [] : [{ label: "Rename\u2026", run: () => rename(table.get(k.id) ?? k) }];
    if (live && !k.revoked_at) actions.push({ label: "Rotate\u2026", run: () => rotate(table.get(k.id) ?? k) });
    if (live) actions.push({ label: "Revoke\u2026", run: () => void revoke(table.get(k.id) ?? k), danger: true });
    return actions;
  }

  return { actionsFor };
}
