import type { KeyObject } from "../../management/object.ts";
import { openDialog, type FocusBack } from "./dialogs.ts";
import { byId, el, quoted } from "./dom.ts";

/**
 * A new key's plaintext, shown once in the reveal dialog with a Copy button.
 * It lives in this module and the dialog only until the dialog closes (Done,
 * or Escape): then nothing of it is left in the DOM or in the script.
 */
let revealed: string | null = null;

export function reveal(secret: string, k: KeyObject, focusBack: FocusBack): void {
  revealed = secret;
  byId("reveal-about").textContent = `${quoted(k.name)} \u00b7 ${k.display} \u00b7 ${k.scopes.join(" ")}`;
  byId("reveal-slot").replaceChildren(el("code", { className: "secret", id: "revealed-key", text: secret }));
  byId("copy-status").textContent = "";
  openDialog(byId("reveal-dialog", HTMLDialogElement), focusBack);
  byId("copy-key").focus();
}

function forgetRevealed(): void {
  revealed = null;
  byId("reveal-slot").replaceChildren();
  byId("reveal-about").textContent = "";
  byId("copy-status").textContent = "";
  window.getSelection()?.removeAllRanges();
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

export function wireReveal(): void {
  const dialog = byId("reveal-dialog", HTMLDialogElement);
  // Done clears at once; Escape closes the dialog too, and the close event clears then.
  dialog.addEventListener("close", forgetRevealed);
  byId("reveal-done").addEventListener("click", () => {
    forgetRevealed();
    dialog.close();
  });
  byId("copy-key").addEventListener("click", async () => {
    if (!revealed) return;
    const status = byId("copy-status");
    try {
      await navigator.clipboard.writeText(revealed);
      status.textContent = "Copied to the clipboard.";
      return;
    } catch {
      // No clipboard permission: fall through to selecting the text.
    }
    status.textContent = copyBySelection()
      ? "Copied to the clipboard."
      : "Copying is blocked here: the key is selected, press Ctrl+C (\u2318C on a Mac).";
  });
}
