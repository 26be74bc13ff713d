import { closeMenu } from "./row-menu.ts";

/**
 * Modal dialogs (<dialog>.showModal): each remembers where the focus goes back
 * to when it closes (an element, or a function for an element that may be
 * re-rendered meanwhile, like a table row's menu button).
 */
export type FocusBack = HTMLElement | (() => HTMLElement | null);

const returnFocus = new WeakMap<HTMLDialogElement, FocusBack>();

export function openDialog(dialog: HTMLDialogElement, focusBack: FocusBack): void {
  closeMenu(false);
  returnFocus.set(dialog, focusBack);
  dialog.showModal();
}

/** Cancel buttons close; closing returns the focus (unless another dialog is still open). */
export function wireDialog(dialog: HTMLDialogElement): void {
  for (const button of dialog.querySelectorAll(".close-dialog")) {
    button.addEventListener("click", () => dialog.close());
  }
  dialog.addEventListener("close", () => {
    const back = returnFocus.get(dialog);
    returnFocus.delete(dialog);
    if (document.querySelector("dialog[open]")) return;
    const target = typeof back === "function" ? back() : back;
    if (target && document.contains(target) && !target.hidden) target.focus();
  });
}

/** Disables a form's buttons while its request runs. */
export function busy(form: HTMLFormElement, on: boolean): void {
  for (const button of form.querySelectorAll("button")) button.disabled = on;
  form.setAttribute("aria-busy", on ? "true" : "false");
}

export function closeAllDialogs(): void {
  for (const dialog of document.querySelectorAll<HTMLDialogElement>("dialog[open]")) dialog.close();
}
