import { byId, sentence } from "./dom.ts";

/**
 * Errors where the problem is: each next to its field (#<field>-error, from
 * src/settings/page.ts), the field marked aria-invalid and pointing at its
 * error, the focus on the first bad field (inside a collapsed <details>,
 * opened first). A field is a control or a group (fieldset) of them.
 */
export interface FieldProblem {
  field: string;
  message: string;
}

const controlsOf = (field: HTMLElement): HTMLElement[] =>
  field.matches("input, select, textarea")
    ? [field]
    : [...field.querySelectorAll<HTMLElement>("input:not(:disabled), select:not(:disabled), textarea:not(:disabled)")];

function describe(node: HTMLElement, errorId: string, on: boolean): void {
  const ids = (node.getAttribute("aria-describedby") ?? "").split(" ").filter((x) => x && x !== errorId);
  if (on) ids.push(errorId);
  if (ids.length) node.setAttribute("aria-describedby", ids.join(" "));
  else node.removeAttribute("aria-describedby");
}

/** Hides every field error of `form` and unmarks its fields. */
export function clearFieldErrors(form: HTMLElement): void {
  for (const box of form.querySelectorAll<HTMLElement>(".field-error[id$='-error']")) {
    box.hidden = true;
    box.textContent = "";
    const field = document.getElementById(box.id.slice(0, -"-error".length));
    if (!field) continue;
    field.removeAttribute("aria-invalid");
    describe(field, box.id, false);
  }
}

/** Once the reader changes a field, its error goes: it spoke of the value that was there. */
export function clearErrorAt(form: HTMLElement, target: EventTarget | null): void {
  for (let node = target instanceof HTMLElement ? target : null; node && node !== form; node = node.parentElement) {
    const box = node.id ? document.getElementById(`${node.id}-error`) : null;
    if (!box?.classList.contains("field-error")) continue;
    box.hidden = true;
    box.textContent = "";
    node.removeAttribute("aria-invalid");
    describe(node, box.id, false);
    return;
  }
}

/** Shows each problem at its field and focuses the first; problems of one field are joined. */
export function showFieldErrors(form: HTMLElement, problems: readonly FieldProblem[]): void {
  clearFieldErrors(form);
  const byField = new Map<string, string[]>();
  for (const p of problems) byField.set(p.field, [...(byField.get(p.field) ?? []), sentence(p.message)]);
  for (const [id, messages] of byField) {
    const field = byId(id);
    const box = byId(`${id}-error`);
    box.textContent = messages.join(" ");
    box.hidden = false;
    field.setAttribute("aria-invalid", "true");
    describe(field, box.id, true);
  }
  const first = problems[0];
  if (!first) return;
  const field = byId(first.field);
  const details = field.closest("details");
  if (details) details.open = true;
  const target = controlsOf(field)[0] ?? field;
  target.focus();
}
