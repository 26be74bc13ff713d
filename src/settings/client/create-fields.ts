import { scopesBeyond } from "../../auth/scopes.ts";
import type { KeyObject } from "../../management/object.ts";
import type { CreateKeyRequest } from "./api.ts";
import { byId } from "./dom.ts";
import type { FieldProblem } from "./field-errors.ts";
import { readerZone } from "./times.ts";

/**
 * The "Generate new key" dialog's fields, as data: each prepares itself when
 * the dialog opens and contributes its part of the POST /api/v1/api-keys body
 * or says what to fix, naming the field (its id in src/settings/page.ts,
 * where its error line is). Bounds are the API's to check: its 400 is mapped
 * back to the fields by api-problems.ts.
 */
export type FieldResult = { body: Partial<CreateKeyRequest> } | { problem: FieldProblem };

export interface CreateField {
  /** Called each time the dialog opens (after the form's reset), for the signed-in key. */
  prepare(self: KeyObject): void;
  read(): FieldResult;
}

const DAY_MS = 24 * 3600 * 1000;
const problem = (field: string, message: string): FieldResult => ({ problem: { field, message } });

const nameField: CreateField = {
  prepare() {},
  read() {
    const name = byId("generate-name", HTMLInputElement).value.trim();
    return name ? { body: { name } } : problem("generate-name", "Give the key a name");
  },
};

/** Every scope choice (resource radios and broad checkboxes), each saying which scopes it grants (data-grants). */
const scopeInputs = () => [...document.querySelectorAll<HTMLInputElement>("#scope-picker input[data-grants]")];
const grantsOf = (input: HTMLInputElement): string[] => (input.dataset.grants ?? "").split(" ").filter(Boolean);

/**
 * Choices the signed-in key could not hand out are disabled and say so: the
 * same rule (scopesBeyond) the API applies with a 403. A resource's Write
 * grants its Read too, so it needs both.
 */
const scopesField: CreateField = {
  prepare(self) {
    for (const box of scopeInputs()) {
      const ok = scopesBeyond(self.scopes, grantsOf(box)).length === 0;
      box.disabled = !ok;
      if (!ok) box.checked = false;
      const label = document.querySelector(`label[for="${CSS.escape(box.id)}"]`);
      label?.classList.toggle("not-held", !ok);
      const desc = document.getElementById(`${box.id}-desc`);
      if (desc) desc.dataset.notHeld = String(!ok);
      if (label) label.setAttribute("title", ok ? (desc?.textContent ?? "") : "Your key does not hold this scope");
    }
  },
  read() {
    const scopes = [
      ...new Set(
        scopeInputs()
          .filter((b) => b.checked)
          .flatMap(grantsOf),
      ),
    ];
    return scopes.length > 0 ? { body: { scopes } } : problem("scope-picker", "Choose Read or Write for at least one resource");
  },
};

function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

const chosenExpiry = () => document.querySelector<HTMLInputElement>("#generate-form input[name=expiry]:checked")?.value ?? "never";

/** Never, in N days, or the end of a chosen day in the reader's time zone (named next to the picker). */
const expiryField: CreateField = {
  prepare() {
    const on = byId("expiry-on", HTMLInputElement);
    on.disabled = true;
    on.hidden = true;
    byId("expiry-on-hint").hidden = true;
    on.min = localDate(new Date(Date.now() + DAY_MS));
    byId("reader-zone").textContent = `your time zone (${readerZone()})`;
  },
  read() {
    const choice = chosenExpiry();
    if (choice === "never") return { body: {} };
    if (choice !== "date") return { body: { expires_at: new Date(Date.now() + Number(choice) * DAY_MS).toISOString() } };
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(byId("expiry-on", HTMLInputElement).value);
    if (!m) return problem("expiry-group", "Pick the date the key should stop working");
    const end = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999);
    if (end.getTime() <= Date.now()) return problem("expiry-group", "Pick a date in the future");
    return { body: { expires_at: end.toISOString() } };
  },
};

/** The date input is shown and usable only with "On a date" chosen. */
export function wireExpiry(): void {
  const on = byId("expiry-on", HTMLInputElement);
  for (const radio of document.querySelectorAll<HTMLInputElement>("#generate-form input[name=expiry]")) {
    radio.addEventListener("change", () => {
      const onDate = chosenExpiry() === "date";
      on.disabled = !onDate;
      on.hidden = !onDate;
      byId("expiry-on-hint").hidden = !onDate;
      if (onDate) on.focus();
    });
  }
}

/**
 * Live or test. A test key may only create test keys (the API answers 403
 * otherwise), so signed in with one, Live is disabled and Test chosen.
 */
const modeField: CreateField = {
  prepare(self) {
    const testOnly = self.mode === "test";
    const live = byId("mode-live", HTMLInputElement);
    live.disabled = testOnly;
    byId(testOnly ? "mode-test" : "mode-live", HTMLInputElement).checked = true;
    byId("mode-test-only").hidden = !testOnly;
  },
  read() {
    const mode = document.querySelector<HTMLInputElement>("#generate-form input[name=mode]:checked")?.value;
    return mode === "live" || mode === "test" ? { body: { mode } } : problem("mode-group", "Choose live or test");
  },
};

/** A whole number typed in `id`, null when empty; the API checks the bounds and names the field. */
function wholeNumber(id: string): number | null | "bad" {
  const input = byId(id, HTMLInputElement);
  // A number input holding something that is not a number reports an empty value but bad input.
  if (input.validity.badInput) return "bad";
  const text = input.value.trim();
  if (!text) return null;
  return /^\d+$/.test(text) ? Number(text) : "bad";
}

/** Empty: no limit of its own (the organization default applies); the period is a named unit. */
const rateLimitField: CreateField = {
  prepare() {},
  read() {
    const limit = wholeNumber("rate-limit");
    if (limit === null) return { body: {} };
    if (limit === "bad") return problem("rate-limit", "Rate limit: give a whole number of requests");
    const period = Number(byId("rate-period", HTMLSelectElement).value);
    return { body: { rate_limit: { limit, period_s: period } } };
  },
};

const quotaField: CreateField = {
  prepare() {},
  read() {
    const quota = wholeNumber("monthly-quota");
    if (quota === null) return { body: {} };
    if (quota === "bad") return problem("monthly-quota", "Monthly quota: give a whole number of requests");
    return { body: { monthly_quota: quota } };
  },
};

/** The textarea line (1-based) of each block sent, by its index in the body. */
let allowlistLines: number[] = [];

/** For api-problems.ts: `allowed_cidrs.1` is the second block sent, on the textarea's line … */
export const allowlistLine = (index: number): number => allowlistLines[index] ?? index + 1;

/** One block per line; blank lines ignored; none at all: the field is omitted (any address). */
const allowlistField: CreateField = {
  prepare() {
    allowlistLines = [];
  },
  read() {
    const lines = byId("allowed-cidrs", HTMLTextAreaElement).value.split("\n");
    const blocks: string[] = [];
    allowlistLines = [];
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      blocks.push(line.trim());
      allowlistLines.push(i + 1);
    });
    return blocks.length > 0 ? { body: { allowed_cidrs: blocks } } : { body: {} };
  },
};

/** In the dialog's order: the first field with a problem gets the focus. */
export const CREATE_FIELDS: readonly CreateField[] = [
  nameField,
  scopesField,
  expiryField,
  modeField,
  rateLimitField,
  quotaField,
  allowlistField,
];
