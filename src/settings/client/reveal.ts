import type { KeyObject } from "../../management/object.ts";
import { openDialog, type FocusBack } from "./dialogs.ts";
import { byId, el, quoted } from "./dom.ts";

/**
 * A new key's plaintext, shown once in the reveal dialog with a Copy button.
 * It lives in this module and the dialog only until the dialog closes: then
 * nothing of it is left in the DOM or in the script.
 *
 * The key is never lost by accident: unless Copy was used, closing (Done,
 * Escape, a click on the backdrop) first asks to confirm. Chromium lets a
 * second Escape close a dialog without a cancelable event, so a close that was
 * not confirmed reopens the dialog at the question instead.
 */
let revealed: string | null = null;
let copied = false;
let discard = false;
let focusBack: FocusBack | null = null;

const dialog = () => byId("reveal-dialog", HTMLDialogElement);

export function reveal(secret: string, k: KeyObject, back: FocusBack): void {
  revealed = secret;
  copied = false;
  discard = false;
  focusBack = back;
  byId("reveal-about").textContent = `${quoted(k.name)} \u00b7 ${k.display} \u00b7 ${k.scopes.join(" ")}`;
  byId("reveal-slot").replaceChildren(el("code", { className: "secret", id: "revealed-key", text: secret }));
  byId("copy-status").textContent = "";
  byId("reveal-confirm").hidden = true;
  openDialog(dialog(), back);
  byId("copy-key").focus();
}

function forgetRevealed(): void {
  revealed = null;
  focusBack = null;
  byId("reveal-slot").replaceChildren();
  byId("reveal-about").textContent = "";
  byId("copy-status").textContent = "";
  byId("reveal-confirm").hidden = true;
  window.getSelection()?.removeAllRanges();
}

/** Closes when the key was copied (or losing it was confirmed); otherwise asks. */
function requestClose(): void {
  if (copied || discard || revealed === null) {
    dialog().close();
    return;
  }
  byId("reveal-confirm").hidden = false;
  byId("reveal-back").focus();
}

/** Without clipboard permission: select the key and try the older way; failing that, ask for Ctrl+C. */
function copyBySelection(): boolean {
  const range = document.createRange();
  range.selectNodeContents(byId("revealed-key"));
  const selection = window.getSelection();
  selection?.removeAllRanges();
  selection?.addRange(range);
  try {
    return document.execCommand("copy");
  } catch {
    return false;
  }
}

async function copy(): Promise<void> {
  if (!revealed) return;
  const status = byId("copy-status");
  try {
    await navigator.clipboard.writeText(revealed);
    copied = true;
    status.textContent = "Copied to the clipboard.";
    byId("reveal-confirm").hidden = true;
    return;
  } catch {
    // No clipboard permission: fall through to selecting the text.
  }
  // Selected for Ctrl+C counts as copied only if the browser said so.
  copied = copyBySelection();
  status.textContent = copied
    ? "Copied to the clipboard."
    : "Copying is blocked here: the key is selected, press Ctrl+C (\u2318C on a Mac).";
}

export function wireReveal(): void {
  const d = dialog();
  d.addEventListener("cancel", (e) => {
    e.preventDefault();
    requestClose();
  });
  // A click on the backdrop lands on the dialog element itself, outside its box.
  d.addEventListener("click", (e) => {
    if (e.target !== d) return;
    const box = d.getBoundingClientRect();
    const inside = e.clientX >= box.left && e.clientX <= box.right && e.clientY >= box.top && e.clientY <= box.bottom;
    if (!inside) requestClose();
  });
  d.addEventListener("close", () => {
    if (revealed !== null && !copied && !discard) {
      // Closed without the question (a second Escape): back to the key, after dialogs.ts has handled the close.
      const back = focusBack;
      queueMicrotask(() => {
        if (back) openDialog(d, back);
        requestClose();
      });
      return;
    }
    forgetRevealed();
  });
  byId("reveal-done").addEventListener("click", requestClose);
  byId("reveal-back").addEventListener("click", () => {
    byId("reveal-confirm").hidden = true;
    byId("copy-key").focus();
  });
  byId("reveal-discard").addEventListener("click", () => {
    discard = true;
    d.close();
  });
  byId("copy-key").addEventListener("click", () => void copy());
}
