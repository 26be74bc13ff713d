import { byId, sentence } from "./dom.ts";

/** The page's three ways to speak: the alert box, a polite status announcement, and a form's own error line. */

export function showAlert(message: string): void {
  const box = byId("alert");
  box.textContent = sentence(message);
  box.hidden = false;
}

export function clearAlert(): void {
  const box = byId("alert");
  box.hidden = true;
  box.textContent = "";
}

/** Cleared first and set a moment later, so a screen reader announces a repeated message again. */
export function announce(message: string): void {
  const status = byId("status");
  status.textContent = "";
  window.setTimeout(() => (status.textContent = message), 50);
}

/** Shows `message` in the error element `id`, or hides it when `message` is empty. */
export function fieldError(id: string, message: string): void {
  const box = byId(id);
  box.textContent = message ? sentence(message) : "";
  box.hidden = !message;
}
