import { ApiError, type Api, type CreateKeyRequest } from "./api.ts";
import { apiProblems } from "./api-problems.ts";
import { allowlistLine, CREATE_FIELDS, wireExpiry } from "./create-fields.ts";
import { busy, openDialog } from "./dialogs.ts";
import { byId, quoted } from "./dom.ts";
import { clearErrorAt, clearFieldErrors, showFieldErrors, type FieldProblem } from "./field-errors.ts";
import type { KeyTable } from "./key-table.ts";
import { announce, fieldError } from "./messages.ts";
import { reveal } from "./reveal.ts";
import type { Session } from "./session.ts";
import { signedIn } from "./state.ts";

/** "Generate new key": the fields (create-fields.ts) build the body; the new key is revealed once. */
export function wireCreateDialog(api: Api, table: KeyTable, session: Session): void {
  const form = byId("generate-form", HTMLFormElement);
  const dialog = byId("generate-dialog", HTMLDialogElement);
  const opener = byId("generate-open", HTMLButtonElement);
  wireExpiry();
  form.addEventListener("input", (e) => clearErrorAt(form, e.target));
  form.addEventListener("change", (e) => clearErrorAt(form, e.target));

  opener.addEventListener("click", () => {
    const self = signedIn()?.self;
    if (!self) return;
    form.reset();
    for (const details of form.querySelectorAll("details")) details.open = false;
    for (const field of CREATE_FIELDS) field.prepare(self);
    clearFieldErrors(form);
    fieldError("generate-error", "");
    openDialog(dialog, opener);
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const parts = CREATE_FIELDS.map((field) => field.read());
    const problems = parts.flatMap((p): FieldProblem[] => ("problem" in p ? [p.problem] : []));
    fieldError("generate-error", "");
    if (problems.length > 0) return showFieldErrors(form, problems);
    clearFieldErrors(form);
    // Every field contributed its part; the API validates the whole body again.
    const body = Object.assign({}, ...parts.map((p) => ("body" in p ? p.body : {}))) as CreateKeyRequest;
    busy(form, true);
    try {
      const { key: secret, ...created } = await api.create(body);
      table.upsert(created, true);
      dialog.close();
      form.reset();
      reveal(secret, created, table.rowButton(created.id));
      announce(`Key ${quoted(created.name)} generated.`);
    } catch (err) {
      const placed = err instanceof ApiError && err.status === 400 ? apiProblems(err.message, allowlistLine) : null;
      busy(form, false);
      if (placed) showFieldErrors(form, placed);
      else session.failed(err, (m) => fieldError("generate-error", `Could not generate the key: ${m}`));
    } finally {
      busy(form, false);
    }
  });
}
